"""The URL converters of path ids: a malformed id is a 404 before DynamoDB is asked, and the
OpenAPI spec documents each with the same pattern."""

from __future__ import annotations

from werkzeug.routing import BaseConverter


class TaskIdConverter(BaseConverter):
    """A ULID, as python-ulid writes it: anything else is a 404 before DynamoDB is asked."""

    regex = "[0-7][0-9A-HJKMNP-TV-Z]{25}"


class UserIdConverter(BaseConverter):
    """A Cognito `sub` (a lowercase UUID), or `me`."""

    regex = "me|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


PATH_CONVERTERS: dict[str, type[BaseConverter]] = {
    "task_id": TaskIdConverter,
    "user_id": UserIdConverter,
}


def path_schema(converter: BaseConverter) -> dict[str, str]:
    return {"type": "string", "pattern": f"^({converter.regex})$"}
