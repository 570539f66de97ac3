"""Schemathesis hooks for `make fuzz`: real Cognito tokens, and two rules no schema can state.

Loaded by Schemathesis (`hooks` in schemathesis.toml) in its own process; the
runner passes the served API's URL and the fuzz user's email in the environment.

Two operations end the session they are called with: POST /auth/logout revokes
the access token and DELETE /users/me deletes the account. Fuzzed with the
shared token they would leave every later request a 401, so each of their test
cases runs as a throwaway user signed up just for it.

The fuzz user is an administrator, so it reaches every profile; but DELETE
/users/{user_id} runs as a throwaway non-administrator, to whom a profile that
POST /users just made for someone else is a 404 by design (ids cannot be
probed). Only that "created resource not found" (ST302) is dropped.

Two request rules are beyond JSON Schema, so generated data is shaped to them
(tests/api covers the rejections): `due_after` must not be later than
`due_before`, and an Idempotency-Key reused with a different body is a 422.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import date
from typing import Any

import requests
import schemathesis

from tests.harness import PASSWORD

URL_VARIABLE = "TASKLAKE_FUZZ_URL"
EMAIL_VARIABLE = "TASKLAKE_FUZZ_EMAIL"
IDEMPOTENCY_KEY = "Idempotency-Key"
SESSION_ENDING = frozenset({("POST", "/auth/logout"), ("DELETE", "/users/{user_id}")})


def _base_url() -> str:
    return os.environ[URL_VARIABLE]


def sign_in(email: str) -> str:
    response = requests.post(
        f"{_base_url()}/auth/token", json={"email": email, "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def throwaway_user() -> str:
    email = f"throwaway-{uuid.uuid4().hex[:12]}@example.com"
    response = requests.post(
        f"{_base_url()}/users",
        json={"email": email, "password": PASSWORD, "name": "Throwaway"},
        timeout=10,
    )
    response.raise_for_status()
    return email


def _is_session_ending(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in SESSION_ENDING


@schemathesis.auth(refresh_interval=None).apply_to(_is_session_ending)
class ThrowawayUser:
    """A fresh account and token for every test case of a session-ending operation."""

    def get(self, _case: Any, _ctx: Any) -> str:
        return sign_in(throwaway_user())

    def set(self, case: Any, data: str, _ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.auth().skip_for(_is_session_ending)
class FuzzUser:
    """The fuzz user's token, signed in once and reused (re-fetched on a 401)."""

    def get(self, _case: Any, _ctx: Any) -> str:
        return sign_in(os.environ[EMAIL_VARIABLE])

    def set(self, case: Any, data: str, _ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    """Drop GET /tasks cases whose due range is reversed: a 422 no schema can announce."""
    if (ctx.operation.method.upper(), ctx.operation.path) != ("GET", "/tasks"):
        return True
    after, before = _date((case.query or {}).get("due_after")), _date(
        (case.query or {}).get("due_before")
    )
    return not (after and before and after > before)


@schemathesis.hook
def map_case(ctx: Any, case: Any) -> Any:
    """Make a valid Idempotency-Key repeat only with the same body, so replays stay replays."""
    headers = case.headers or {}
    key = headers.get(IDEMPOTENCY_KEY)
    if (ctx.operation.method.upper(), ctx.operation.path) != ("POST", "/tasks") or not (
        isinstance(key, str) and 1 <= len(key) <= 128
    ):
        return case
    digest = hashlib.sha256(json.dumps(case.body, sort_keys=True, default=str).encode())
    case.headers = {**headers, IDEMPOTENCY_KEY: f"{key[:100]}-{digest.hexdigest()[:16]}"}
    return case


@schemathesis.hook
def filter_failure(_ctx: Any, failure: Any, _case: Any, _response: Any) -> bool:
    """Keep every failure but ST302 for DELETE of a profile made for someone else."""
    return not (
        failure.code == "ST302"
        and failure.created_with == "POST /users"
        and failure.not_available_with == "DELETE /users/{user_id}"
    )
