"""The pool's signing keys are trusted for JWKS_CACHE_SECONDS, not for the container's life.

The JWKS is served over real HTTP by a local stand-in for the pool, whose keys the test
rotates: cognito-local publishes one fixed key and cannot withdraw it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from api.app import create_app
from api.config import Settings

CACHE_SECONDS = 1


@dataclass
class Pool:
    """A JWKS endpoint whose published keys the test chooses."""

    url: str
    published: dict[str, Any] = field(default_factory=dict)  # kid -> private key

    def publish(self, kid: str) -> None:
        self.published[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def withdraw(self, kid: str) -> Any:
        return self.published.pop(kid)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self.published.items():
            public = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            keys.append({**public, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}


@pytest.fixture
def pool() -> Iterator[Pool]:
    served: list[Pool] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(served[0].jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.append(Pool(f"http://127.0.0.1:{server.server_port}/pool"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served[0]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app_trusting(engines: dict[str, str], pool: Pool) -> Flask:
    settings = Settings.from_env(engines)
    return create_app(replace(settings, cognito_issuer=pool.url, jwks_cache_seconds=CACHE_SECONDS))


def _token(pool: Pool, kid: str, private: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": pool.url,
        "sub": str(uuid.uuid4()),
        "token_use": "access",
        "client_id": Settings.from_env().cognito_client_id,
        "jti": str(uuid.uuid4()),
        "origin_jti": str(uuid.uuid4()),
        "auth_time": now,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def _get_tasks(app: Flask, token: str) -> int:
    response = app.test_client().get("/tasks", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_a_withdrawn_key_stops_verifying_once_the_cache_expires(
    app_trusting: Flask, pool: Pool
) -> None:
    pool.publish("old")
    old = pool.published["old"]
    assert _get_tasks(app_trusting, _token(pool, "old", old)) == 200

    pool.publish("new")
    pool.withdraw("old")
    time.sleep(CACHE_SECONDS + 0.2)

    assert _get_tasks(app_trusting, _token(pool, "old", old)) == 401
    assert _get_tasks(app_trusting, _token(pool, "new", pool.published["new"])) == 200


def test_keys_are_trusted_for_six_hours_by_default() -> None:
    assert Settings().jwks_cache_seconds == Settings.from_env({"STAGE": "dev"}).jwks_cache_seconds
    assert Settings().jwks_cache_seconds == 6 * 3600


def test_a_token_seen_before_its_key_was_withdrawn_stops_verifying_too(
    app_trusting: Flask, pool: Pool
) -> None:
    """A token is verified once per container, but never trusted longer than its key set."""
    pool.publish("old")
    token = _token(pool, "old", pool.published["old"])
    assert _get_tasks(app_trusting, token) == 200

    pool.publish("new")
    pool.withdraw("old")
    time.sleep(CACHE_SECONDS + 0.2)

    assert _get_tasks(app_trusting, token) == 401


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each RS256 signature check PyJWT makes (a spy around the real one)."""
    checks: list[str] = []
    verify = jwt.algorithms.RSAAlgorithm.verify

    def counted(self: Any, msg: bytes, key: Any, sig: bytes) -> bool:
        checks.append("RS256")
        return verify(self, msg, key, sig)

    monkeypatch.setattr(jwt.algorithms.RSAAlgorithm, "verify", counted)
    return checks


def test_a_token_is_verified_once_then_trusted_until_it_expires(
    engines: dict[str, str],
    pool: Pool,
    signature_checks: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(replace(Settings.from_env(engines), cognito_issuer=pool.url))
    pool.publish("key")
    token = _token(pool, "key", pool.published["key"])

    assert [_get_tasks(app, token) for _ in range(3)] == [200] * 3
    assert signature_checks == ["RS256"]

    # Past the token's `exp` by the cache's clock: the entry is not used, the token takes the
    # full path again (whose own clock, PyJWT's, decides; here it still finds it valid).
    later = time.time() + 700
    monkeypatch.setattr("api.auth.verified_tokens.time.time", lambda: later)
    assert _get_tasks(app, token) == 200
    assert signature_checks == ["RS256", "RS256"]


def test_a_tokens_header_is_parsed_once_not_on_every_request(
    engines: dict[str, str], pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyJWT's header parse checks every character in Python (~0.2 ms a request)."""
    app = create_app(replace(Settings.from_env(engines), cognito_issuer=pool.url))
    pool.publish("key")
    token = _token(pool, "key", pool.published["key"])
    parses: list[str] = []
    parse = jwt.get_unverified_header

    def counted(encoded: str) -> dict[str, Any]:
        parses.append(encoded)
        return parse(encoded)

    monkeypatch.setattr(jwt, "get_unverified_header", counted)

    assert [_get_tasks(app, token) for _ in range(3)] == [200] * 3
    # The first request: once to find the signing key, once for the view's header. Then none.
    assert parses == [token, token]
