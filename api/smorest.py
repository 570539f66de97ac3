"""flask-smorest, customised once for the whole API.

- every error, including flask-smorest's own, webargs' 422 and werkzeug's
  400/404/405/413, leaves as `application/problem+json` and is documented so;
- the shared schema conventions (api/schemas.py) and path converters
  (api/path_converters.py) are registered with the spec;
- a versioned item's ETag is its version (api/etags.py), checked by DynamoDB.
"""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from flask import Response, request
from flask_smorest.etag import _get_etag_ctx
from flask_smorest.exceptions import PreconditionRequired
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from api.etags import VERSION_TAG, ItemVersion
from api.path_converters import PATH_CONVERTERS, path_schema
from api.problems import (
    PROBLEM_CONTENT_TYPE,
    PreconditionFailed,
    Unprocessable,
    problem_response,
)
from api.schemas import ProblemSchema, SchemaPlugin, Timestamp

BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    # flask-smorest's private ETag hook: it offers no public way to choose an ETag's value.
    # Its name, signature and use are pinned by tests/api/test_private_api_pins.py.
    @staticmethod
    def _generate_etag(etag_data: Any, extra_data: Any = None) -> str:
        if isinstance(etag_data, ItemVersion):
            return etag_data.tag
        tag: str = flask_smorest.Blueprint._generate_etag(etag_data, extra_data)
        return tag

    def if_match_version(self, *, required: bool) -> int | None:
        """The version the client's If-Match names, for a conditional write.

        The comparison itself happens in DynamoDB (a condition on `version`), so
        it is atomic: of several writers holding the same ETag exactly one wins.
        """
        if not request.if_match:
            if required:
                raise PreconditionRequired
            return None
        # flask-smorest warns of an ETag view that never checked If-Match; DynamoDB checks it
        # here, and only its private per-request context can say so (pinned, as above).
        _get_etag_ctx()["etag_checked"] = True
        if request.if_match.star_tag:
            return None
        for tag in request.if_match.as_set():
            match = VERSION_TAG.fullmatch(tag or "")  # werkzeug parses `""` as None
            if match:
                return int(match.group(1))
        raise PreconditionFailed("If-Match does not name a current version of this resource")


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Any, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        app.url_map.converters.update(PATH_CONVERTERS)
        # `spec_kwargs` and `register_field` are flask-smorest's documented ways to set the
        # marshmallow plugin and a field's OpenAPI type (no override of its `_init_spec`).
        super().init_app(
            app, spec_kwargs={"marshmallow_plugin": SchemaPlugin(), **(spec_kwargs or {})}
        )
        self.register_field(Timestamp, "string", "date-time")
        for converter in PATH_CONVERTERS.values():
            self.register_converter(converter, path_schema)

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        if status == 304:
            return Response(status=304)
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        detail = data.get("message") or error.description
        type_ = Unprocessable.type if status == 422 else "about:blank"
        # Keep the exception's own headers (405's Allow, RFC 9110 §15.5.6), not its HTML type.
        headers = {
            name: value for name, value in error.get_headers() if name.lower() != "content-type"
        }
        headers.update(data.get("headers") or {})
        return problem_response(status, detail, type_=type_, errors=errors, headers=headers)

    # flask-smorest's private hook registering the standard error responses, which it types
    # application/json with no public option to change that; ours are problem+json. Pinned by
    # tests/api/test_private_api_pins.py.
    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)
