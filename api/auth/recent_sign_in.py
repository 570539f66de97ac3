"""Irreversible calls need a recent sign-in, not just a valid bearer token.

A stolen access token opens the API for up to an hour, and a stolen refresh token for a month;
neither can make a new sign-in, because only the password does. `auth_time` is when the
session's password sign-in happened (a refresh keeps it), so a token whose `auth_time` is
older than REAUTHENTICATION_MAX_AGE_SECONDS must first be replaced by a new sign-in
(POST /auth/token). The answer follows RFC 9470 (OAuth 2.0 Step Up Authentication Challenge):
401 with `error="insufficient_user_authentication"` and the `max_age` the call accepts.

The current password in the DELETE itself is not offered instead: it would let a token's thief
guess the password at an endpoint outside the sign-in limits; /auth/token has them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Response
from flask_jwt_extended import get_jwt

from api.problems import Unauthorized

# Seconds since the epoch; a test moves it instead of waiting.
clock: Callable[[], float] = time.time


class ReauthenticationRequired(Unauthorized):
    type = "urn:tasklake:problem:reauthentication-required"

    def __init__(self, max_age_seconds: int) -> None:
        super().__init__(
            "This needs a sign-in from the last "
            f"{max_age_seconds} seconds: sign in again with POST /auth/token, then retry"
        )
        self.max_age_seconds = max_age_seconds

    def to_response(self) -> Response:
        response = super().to_response()
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="tasklake", error="insufficient_user_authentication", '
            f"max_age={self.max_age_seconds}"
        )
        return response


def require_recent_sign_in(max_age_seconds: int) -> None:
    """Refuse the current token unless its password sign-in is at most `max_age_seconds` old."""
    signed_in_at = int(get_jwt()["auth_time"])  # every accepted token has it (revocation.py)
    if clock() - signed_in_at > max_age_seconds:
        raise ReauthenticationRequired(max_age_seconds)
