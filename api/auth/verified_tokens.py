"""Verify an access token once per container, not once per request.

flask-jwt-extended parses a token four times per request (claims and header unverified for
the key loader, then verified) and checks its RS256 signature: about 0.5 ms of the API's
own ~1 ms. A client sends the same token for up to an hour, and what verification decides
about one token string (signature, issuer, `token_use`, `client_id`) cannot change, with two
exceptions, both kept: the token expires (`exp` is checked on every use, and an expired
token takes the full path to its 401), and Cognito may withdraw the key that signed it,
which the key set's refetch notices within `jwks_cache_seconds` (api/auth/tokens.py), so no
entry is trusted longer than that after it was verified.

The session check is not cached: it runs on every request (api/auth/session_check.py).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask
from flask_jwt_extended import JWTManager

# Distinct tokens a container keeps: Lambda serves one request at a time, a user a few tokens.
MAX_ENTRIES = 256


class VerifyingOnceJWTManager(JWTManager):
    def __init__(self, app: Flask, *, trust_seconds: float, leeway: float) -> None:
        super().__init__(app)
        self._trust_seconds = trust_seconds
        self._leeway = leeway
        self._verified: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    # Private: flask-jwt-extended has no public hook between reading a token and verifying it;
    # every verification (utils.decode_token, the view decorators) goes through this method.
    # Pinned in tests/api/test_private_api_pins.py.
    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            entry = self._verified.get(encoded_token)
            if entry is not None:
                self._verified.move_to_end(encoded_token)
        if entry is not None and now < entry[0]:
            return dict(entry[1])
        claims: dict[str, Any] = super()._decode_jwt_from_config(
            encoded_token, csrf_value, allow_expired
        )
        expires = float(claims.get("exp", now)) + self._leeway
        with self._lock:
            self._verified[encoded_token] = (min(expires, now + self._trust_seconds), claims)
            while len(self._verified) > MAX_ENTRIES:
                self._verified.popitem(last=False)
        return dict(claims)
