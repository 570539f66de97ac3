"""Schemathesis hooks: real Cognito tokens for every operation, throwaway users where needed.

Loaded by Schemathesis (`hooks` in the project's schemathesis.toml) in its own process.
`make fuzz` passes the served API's URL and an administrator's email in the environment;
a bare `schemathesis run` against `make run` gets http://127.0.0.1:5000 and a fuzz user
signed up on first use.

Some operations end the session they are called with: POST /auth/logout (with
`all=true`, every session), POST /auth/password/change (every earlier session),
DELETE /users/me (the account), and PATCH /users/me with `enabled: false` from an
administrator (the account disabled). Fuzzed with the shared token they would leave
every later request a 401, so each of their test cases runs as a throwaway
(non-administrator) user signed up just for it.

The fuzz user is an administrator, so it reaches every profile; but DELETE and PATCH
/users/{user_id} run as a throwaway non-administrator, to whom a profile that
POST /users just made for someone else is a 404 by design (ids cannot be
probed). Only that "created resource not found" (ST302) is dropped.

Rules beyond JSON Schema (a reversed due range, a reused Idempotency-Key) are stated in
schemathesis.toml as the statuses the API answers them with.
"""

from __future__ import annotations

import functools
import os
import uuid
from typing import Any

import requests
import schemathesis

from tests.harness import PASSWORD

URL_VARIABLE = "TASKLAKE_FUZZ_URL"
EMAIL_VARIABLE = "TASKLAKE_FUZZ_EMAIL"
LOCAL_URL = "http://127.0.0.1:5000"  # `make run`
SESSION_ENDING = frozenset(
    {
        ("POST", "/auth/logout"),
        ("POST", "/auth/password/change"),
        ("DELETE", "/users/{user_id}"),
        ("PATCH", "/users/{user_id}"),
    }
)


def _base_url() -> str:
    return os.environ.get(URL_VARIABLE, LOCAL_URL)


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


@functools.cache
def _fuzz_user() -> str:
    return throwaway_user()


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
        return sign_in(os.environ.get(EMAIL_VARIABLE) or _fuzz_user())

    def set(self, case: Any, data: str, _ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def filter_failure(_ctx: Any, failure: Any, _case: Any, _response: Any) -> bool:
    """Keep every failure but two "created resource not found" (ST302) that are by design:

    - DELETE or PATCH of a profile POST /users made for someone else (a 404 to a non-admin);
    - a task POST /tasks answered as an idempotent replay: the replay is the stored first
      response, even if the task has been deleted since (a fresh create is always readable at
      once: tests/api/test_tasks.py).
    """
    return not (
        failure.code == "ST302"
        and (
            (failure.created_with, failure.not_available_with)
            in (
                ("POST /users", "DELETE /users/{user_id}"),
                ("POST /users", "PATCH /users/{user_id}"),
            )
            or failure.created_with == "POST /tasks"
        )
    )
