"""Requests whose own DynamoDB call carries the session check (ADR 0003).

A view class that sets `carries_session_check = True` is not checked before it runs:
its storage call reads the session's marks together with its item (BatchGetItem), or
makes its write conditional on them (ConditionChecks in its TransactWriteItems), and
raises `revoked()` when they refuse the token. The view takes the check with `take()`.

Fail-safe: a response of such a view whose check was never taken (the body failed
validation, a header was missing, a bug) is only sent after the check ran on its own, as
a call of its own; a refused token then gets the 401 it always got, whatever the view said.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, request
from pynamodb.exceptions import PynamoDBException

from api import upstream
from api.auth.revocation import SessionCheck, refused
from api.problems import ApiProblem, Unauthorized

REVOKED = "The token has been revoked"


def revoked() -> Unauthorized:
    return Unauthorized(REVOKED)


def defer(claims: Mapping[str, Any]) -> bool:
    """Leave this token's check to the view's own call, if its view carries one."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(getattr(view, "view_class", None), "carries_session_check", False):
        return False
    g.pending_session_check = SessionCheck.of(claims)
    return True


def take() -> SessionCheck:
    """The check this request's storage call must carry (it is then the call's to enforce)."""
    check: SessionCheck = g.pop("pending_session_check")
    return check


def init_app(app: Flask) -> None:
    @app.after_request
    def _check_what_was_not_carried(response: Response) -> Response:
        check: SessionCheck | None = g.pop("pending_session_check", None)
        try:
            if check is not None and refused(check):
                return revoked().to_response()
        except ApiProblem as problem:  # the deadline ran out
            return problem.to_response()
        except PynamoDBException as error:
            return upstream.problem_for(error, "task store").to_response()
        return response
