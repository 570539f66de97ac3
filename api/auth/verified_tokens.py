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

A token is taken in one spelling only, `Authorization: Bearer <JWT>`: the web ACL's per-token
limit counts each distinct header value (infra/api.yaml, per-token-rate), and flask-jwt-extended
alone would also take extra spaces, a tab or other comma-separated credentials around it, so
one token could be sent under as many keys as a client cares to spell.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, has_request_context, request
from flask_jwt_extended import JWTManager, view_decorators
from flask_jwt_extended import utils as jwt_utils
from flask_jwt_extended.exceptions import InvalidHeaderError

# Distinct tokens a container keeps: Lambda serves one request at a time, a user a few tokens.
MAX_ENTRIES = 256
# Narrower than RFC 6750 on purpose, which allows one or more spaces after `Bearer`: one
# space and a JWS compact token (base64url, no padding), as Cognito issues and clients send
# them, so a token has one spelling for the per-token WAF limit to count.
ONE_SPELLING = re.compile(r"Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@functools.lru_cache(maxsize=MAX_ENTRIES)
def _parsed_header(encoded_token: str) -> dict[str, Any]:
    header: dict[str, Any] = jwt_utils.get_unverified_jwt_headers(encoded_token)
    return header


def unverified_header(encoded_token: str) -> dict[str, Any]:
    """The token's header, parsed once per token string (a parse raises again every time).

    After the token is decoded, the view decorators parse its header once more, and PyJWT
    (2.15) checks each of the token's ~1,000 characters in a Python loop to do it: about
    0.2 ms of every signed-in request. A token string has one header, so a copy of the first
    parse is the same answer."""
    return dict(_parsed_header(encoded_token))


class VerifyingOnceJWTManager(JWTManager):
    def __init__(self, app: Flask, *, trust_seconds: float, leeway: float) -> None:
        super().__init__(app)
        # Private: the view decorators call their own import of `get_unverified_jwt_headers`,
        # with no hook to supply the header. Pinned in tests/api/test_private_api_pins.py.
        view_decorators.get_unverified_jwt_headers = unverified_header  # type: ignore[attr-defined]
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
        if has_request_context():
            header = request.headers.get("Authorization", "")
            if header != f"Bearer {encoded_token}" or not ONE_SPELLING.fullmatch(header):
                raise InvalidHeaderError("Expected 'Authorization: Bearer <JWT>' and nothing else")
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
