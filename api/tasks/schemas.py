"""What goes in and out of the task endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from api.schemas import Schema, Timestamp
from api.tasks import documents

STATUSES = ("todo", "in_progress", "done")
PRIORITIES = ("low", "medium", "high")
MAX_TAGS = 10


# Whitespace to both Python (str.isspace) and ECMA-262 (\s), spelled out so that the
# spec's pattern and this API's validation agree on every character.
WHITESPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = rf"^[\s\S]*[^{WHITESPACE}]"


def title_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[
            validate.Length(1, 200),
            validate.Regexp(NOT_BLANK, error="Title must not be blank."),
        ],
        **kwargs,
    )


def tag_field() -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(1, 32))


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


class TaskFieldsSchema(Schema):
    """The fields a client may write. Server-owned fields are unknown here, hence 422."""

    title = title_field()
    description = ma.fields.String(validate=validate.Length(max=5000), allow_none=True)
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    priority = ma.fields.String(validate=validate.OneOf(PRIORITIES))
    due_date = ma.fields.Date(allow_none=True, metadata={"example": "2026-12-31"})
    tags = ma.fields.List(tag_field(), validate=validate.Length(max=MAX_TAGS), allow_none=True)

    @ma.post_load
    def _dedupe_tags(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("tags"):
            data["tags"] = _unique(data["tags"])
        return data


class TaskCreateSchema(TaskFieldsSchema):
    title = title_field(required=True)
    status = ma.fields.String(load_default="todo", validate=validate.OneOf(STATUSES))
    priority = ma.fields.String(load_default="medium", validate=validate.OneOf(PRIORITIES))


class TaskPatchSchema(TaskFieldsSchema):
    class Meta(Schema.Meta):
        json_schema: ClassVar[dict[str, Any]] = {"minProperties": 1}

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("Send at least one field to change.")


class TaskSchema(Schema):
    id = ma.fields.String(attribute="task_id", dump_only=True, metadata={"format": "ulid"})
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    priority = ma.fields.String(validate=validate.OneOf(PRIORITIES))
    due_date = ma.fields.String(allow_none=True, metadata={"format": "date"})
    tags = ma.fields.List(ma.fields.String(), dump_default=[])
    created_at = Timestamp()
    updated_at = Timestamp()
    completed_at = Timestamp(allow_none=True)

    @ma.post_dump
    def _tags_always_a_list(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["tags"] = data.get("tags") or []
        return data

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """The fields above, written by api/tasks/documents.py (marshmallow's dump, faster)."""
        if self.many if many is None else many:
            return [documents.of_task(task) for task in obj]
        return documents.of_task(obj)


class TaskListArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = ma.fields.String(validate=validate.Length(1, 2048))
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    due_after = ma.fields.Date(metadata={"description": "Due on or after this date"})
    due_before = ma.fields.Date(metadata={"description": "Due on or before this date"})
    tag = tag_field()

    @ma.validates_schema
    def _range_in_order(self, data: dict[str, Any], **_: Any) -> None:
        if (
            data.get("due_after")
            and data.get("due_before")
            and data["due_after"] > data["due_before"]
        ):
            raise ma.ValidationError("due_after must not be later than due_before.", "due_after")


class TaskPageSchema(Schema):
    """Dumps `{"items": <stored task items, as DynamoDB returned them>, "next_cursor": …}`."""

    items = ma.fields.List(ma.fields.Nested(TaskSchema))
    next_cursor = ma.fields.String(
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end"},
    )

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """The fields above, each item written by api/tasks/documents.py (no model built)."""
        if self.many if many is None else many:
            return [self.dump(page, many=False) for page in obj]
        return {
            "items": [documents.of_item(item) for item in obj["items"]],
            "next_cursor": obj["next_cursor"],
        }


class IdempotencyHeaderSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE  # every other request header is not ours to police

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(1, 128),
        metadata={"description": "Retrying a POST with the same key returns the first result"},
    )
