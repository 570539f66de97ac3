"""RFC 9457 problem details: the one shape every error of the API takes."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from flask import Response, json

PROBLEM_CONTENT_TYPE = "application/problem+json"
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tasklake"'}


class ApiProblem(Exception):
    """An error the API answers with a problem document instead of a crash."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "about:blank"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after

    def to_response(self) -> Response:
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, self.retry_after))
        return problem_response(
            self.status, self.detail, type_=self.type, errors=self.errors, headers=headers
        )


class BadRequest(ApiProblem):
    status = 400


class Unauthorized(ApiProblem):
    status = 401
    type = "urn:tasklake:problem:unauthorized"
    headers = BEARER_CHALLENGE


class Forbidden(ApiProblem):
    status = 403


class AccountNotConfirmed(Forbidden):
    type = "urn:tasklake:problem:account-not-confirmed"


class NotFound(ApiProblem):
    status = 404


class Conflict(ApiProblem):
    status = 409
    type = "urn:tasklake:problem:conflict"


class TaskLimitReached(Conflict):
    """The account holds as many tasks as one may (MAX_TASKS_PER_USER)."""

    type = "urn:tasklake:problem:task-limit-reached"


class PreconditionFailed(ApiProblem):
    status = 412
    type = "urn:tasklake:problem:stale-etag"


class Unprocessable(ApiProblem):
    status = 422
    type = "urn:tasklake:problem:validation"


class TooManyRequests(ApiProblem):
    """Throttled, by our limits or an upstream service's; `Retry-After` says when to retry."""

    status = 429
    type = "urn:tasklake:problem:too-many-requests"


class InternalError(ApiProblem):
    """A bug: the cause is logged with its stack trace, never shown."""

    status = 500


class ConfigurationError(ApiProblem):
    """A setting the request needs is missing: an operator problem, not the caller's.

    `detail` names the setting for the operator's log line; the caller gets only
    `PUBLIC_DETAIL`, which tells an outsider nothing about how the deployment is configured.
    """

    status = 500
    type = "urn:tasklake:problem:misconfigured"
    PUBLIC_DETAIL: ClassVar[str] = "The service is not configured correctly; it has been logged"

    def to_response(self) -> Response:
        return problem_response(self.status, self.PUBLIC_DETAIL, type_=self.type)


class ServiceUnavailable(ApiProblem):
    status = 503
    type = "urn:tasklake:problem:dependency-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, retry_after=retry_after)


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": type_,
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response
