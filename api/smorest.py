"""flask-smorest, customised once for the whole API.

- every error, including flask-smorest's own, webargs' 422 and werkzeug's
  400/404/405/413, leaves as `application/problem+json` and is documented so;
- schemas reject unknown fields;
- a task's ETag is its version, so a PATCH can hand the client's If-Match
  straight to DynamoDB as a condition instead of reading the item first;
- the OpenAPI document is assembled on first read of `Api.spec`: only
  /openapi.json, /docs and `flask openapi` read it, and building it in
  `create_app` cost every cold start ~7 ms.
"""

from __future__ import annotations

import http
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import APISpec
from flask import Flask, Response, request
from flask_smorest.etag import _get_etag_ctx
from flask_smorest.exceptions import PreconditionRequired
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from api.problems import PROBLEM_CONTENT_TYPE, PreconditionFailed, problem_response

BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class ProblemSchema(Schema):
    type = ma.fields.String(metadata={"example": "urn:tasklake:problem:validation"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(
        metadata={"description": "Per-location, per-field messages for validation errors"}
    )


@dataclass(frozen=True)
class ItemVersion:
    """ETag data for a versioned item: the tag is the version number itself."""

    version: int

    @property
    def tag(self) -> str:
        return f"v{self.version}"


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
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
        _get_etag_ctx()["etag_checked"] = True
        if request.if_match.star_tag:
            return None
        for tag in request.if_match.as_set():
            if tag.startswith("v") and tag[1:].isdigit():
                return int(tag[1:])
        raise PreconditionFailed("If-Match does not name a current version of this resource")


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask) -> None:
        self._spec: APISpec | None = None
        # What documents the API, in registration order; the first read of `spec` runs it.
        self._undocumented: list[Callable[[APISpec], None]] = []
        self._documenting = threading.RLock()  # one thread runs the steps, others wait
        # Set while init_app and the steps run: they read `spec` themselves.
        self._deferring = True
        super().__init__(app)
        self._deferring = False

    @property
    def spec(self) -> APISpec | None:
        with self._documenting:
            if not self._deferring and self._spec is not None:
                self._deferring = True
                try:
                    while self._undocumented:
                        self._undocumented.pop(0)(self._spec)
                finally:
                    self._deferring = False
        return self._spec

    @spec.setter
    def spec(self, value: APISpec | None) -> None:
        self._spec = value

    def register_blueprint(
        self, blp: Blueprint, *, parameters: list[Any] | None = None, **options: Any
    ) -> None:
        """flask_smorest.Api.register_blueprint, with the documentation step deferred."""
        name = options.get("name") or blp.name
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append(partial(self._document_blueprint, blp, name, parameters))

    def _document_blueprint(
        self, blp: Blueprint, name: str, parameters: list[Any] | None, spec: APISpec
    ) -> None:
        blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
        spec.tag({"name": name, "description": blp.description})

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        if status == 304:
            return Response(status=304)
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        detail = data.get("message") or error.description
        type_ = "urn:tasklake:problem:validation" if status == 422 else "about:blank"
        return problem_response(
            status, detail, type_=type_, errors=errors, headers=data.get("headers")
        )

    # The components flask-smorest adds in init_app are deferred too, in the same order.
    def _register_responses(self) -> None:
        self._undocumented.append(self._document_responses)

    def _register_etag_headers(self) -> None:
        self._undocumented.append(lambda _spec: flask_smorest.Api._register_etag_headers(self))

    def _register_pagination_header(self) -> None:
        self._undocumented.append(lambda _spec: flask_smorest.Api._register_pagination_header(self))

    def _document_responses(self, spec: APISpec) -> None:
        problem = self.ERROR_SCHEMA()  # one instance: apispec would build one per status
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = problem
            prepare_response(response, spec, PROBLEM_CONTENT_TYPE)
            spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": problem}
        prepare_response(default, spec, PROBLEM_CONTENT_TYPE)
        spec.components.response("DEFAULT_ERROR", default, lazy=True)
