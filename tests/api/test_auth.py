"""Sign-in, refresh and logout against the Cognito emulator."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from api import rate_limits
from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.auth.refresh_tokens import KEY_PREFIX, RefreshTokenBinding
from api.config import Settings
from tests.api.conftest import PASSWORD, Account
from tests.faults import injected

COGNITO = "cognito-identity-provider"


def test_token_endpoint_returns_bearer_tokens(client: FlaskClient, alice: Account) -> None:
    response = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == alice.id
    assert claims["token_use"] == "access"
    assert body["refresh_token"]
    assert body["id_token"]


def test_wrong_password_and_unknown_user_get_the_same_401(
    client: FlaskClient, alice: Account
) -> None:
    wrong = client.post("/auth/token", json={"email": alice.email, "password": "Wrong-pass-1"})
    unknown = client.post(
        "/auth/token", json={"email": "nobody@example.com", "password": "Wrong-pass-1"}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.content_type == "application/problem+json"


def test_token_endpoint_validates_its_body(client: FlaskClient) -> None:
    assert client.post("/auth/token", json={"email": "x@example.com"}).status_code == 422
    assert client.post("/auth/token", json={"email": "nope", "password": "p"}).status_code == 422


def test_refresh_returns_a_new_working_access_token(client: FlaskClient, alice: Account) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]})

    assert response.status_code == 200
    new_token = response.json["access_token"]
    assert new_token != alice.tokens["access_token"]
    me = client.get("/users/me", headers={"Authorization": f"Bearer {new_token}"})
    assert me.json["id"] == alice.id


def test_refresh_with_garbage_is_401(client: FlaskClient) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": "not-a-token"})
    assert response.status_code == 401


def test_logout_revokes_the_access_token(alice: Account) -> None:
    assert alice.request("GET", "/users/me").status_code == 200

    assert alice.request("POST", "/auth/logout").status_code == 204

    after = alice.request("GET", "/users/me")
    assert after.status_code == 401
    assert after.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in after.json["detail"]


def test_logout_with_refresh_token_ends_the_session(client: FlaskClient, alice: Account) -> None:
    response = alice.request(
        "POST", "/auth/logout", json={"refresh_token": alice.tokens["refresh_token"]}
    )
    assert response.status_code == 204

    refresh = client.post("/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_logout_needs_a_token(client: FlaskClient) -> None:
    assert client.post("/auth/logout").status_code == 401


def test_logout_with_a_refresh_token_cognito_never_issued_is_422(alice: Account) -> None:
    response = alice.request("POST", "/auth/logout", json={"refresh_token": "not-a-real-token"})

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "refresh_token" in response.json["errors"]["json"]


# Logout compares the refresh token with the hash stored when /auth/token handed it out: a
# junk token costs Cognito nothing. Refresh calls spend the account-wide authentication quota
# every sign-in shares (https://docs.aws.amazon.com/cognito/latest/developerguide/limits.html#category_operations),
# and RevokeToken needs the real token anyway
# (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RevokeToken.html).
EVERY_CALL = "before-call.cognito-identity-provider.*"


@contextmanager
def cognito_calls() -> Iterator[list[str]]:
    """The Cognito operations the API sends while the block runs (observed, not faked)."""
    client, seen = cognito_client(Settings.from_env().region), []

    def record(event_name: str, **_: Any) -> None:
        if not event_name.endswith("DescribeUserPoolClient"):  # once per container
            seen.append(event_name.rsplit(".", 1)[-1])

    client.meta.events.register(EVERY_CALL, record, unique_id="tasklake-counted")
    try:
        yield seen
    finally:
        client.meta.events.unregister(EVERY_CALL, unique_id="tasklake-counted")


def test_logout_with_junk_refresh_tokens_never_calls_cognito(alice: Account) -> None:
    with cognito_calls() as calls:
        statuses = [
            alice.request("POST", "/auth/logout", json={"refresh_token": f"junk-{n}"}).status_code
            for n in range(20)
        ]

    assert statuses == [422] * 20
    assert calls == []
    assert alice.request("GET", "/users/me").status_code == 200  # the session goes on


def test_logout_with_its_own_refresh_token_makes_only_the_revoking_call(alice: Account) -> None:
    with cognito_calls() as calls:
        body = {"refresh_token": alice.tokens["refresh_token"]}
        assert alice.request("POST", "/auth/logout", json=body).status_code == 204

    assert calls == ["RevokeToken"]


def test_a_session_with_no_stored_hash_still_logs_out_by_asking_cognito(
    client: FlaskClient, alice: Account
) -> None:
    """Sessions signed in before the hashes were stored: one refresh call tells their session."""
    origin_jti = jwt.decode(alice.tokens["access_token"], options={"verify_signature": False})
    RefreshTokenBinding(KEY_PREFIX + origin_jti["origin_jti"]).delete()

    with cognito_calls() as calls:
        body = {"refresh_token": alice.tokens["refresh_token"]}
        assert alice.request("POST", "/auth/logout", json=body).status_code == 204

    assert calls == ["GetTokensFromRefreshToken", "RevokeToken"]
    refresh = client.post("/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_logout_is_limited_per_user_whatever_the_address(
    engines: dict[str, str], alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time()
    monkeypatch.setattr(rate_limits, "_now", lambda: now)  # one minute's window throughout
    strict = create_app(replace(Settings.from_env(engines), rate_limit_per_address=3))
    client = strict.test_client()

    def logout_from(address: str) -> int:
        environ = {"REMOTE_ADDR": address}
        body = {"refresh_token": "junk"}
        return client.post(
            "/auth/logout", json=body, headers=alice.auth, environ_base=environ
        ).status_code

    statuses = [logout_from(f"198.51.100.{n}") for n in range(1, 5)]

    assert statuses == [422, 422, 422, 429]


def test_logout_is_limited_per_address_whatever_the_user(
    engines: dict[str, str], alice: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One address holding many accounts' tokens still gets its own budget, not one a user."""
    now = time.time()
    monkeypatch.setattr(rate_limits, "_now", lambda: now)  # one minute's window throughout
    strict = create_app(replace(Settings.from_env(engines), rate_limit_per_address=3))
    client, address = strict.test_client(), f"2001:db8:{uuid.uuid4().hex[:4]}:1::9"

    def logout_as(account: Account) -> int:
        return client.post(
            "/auth/logout",
            json={"refresh_token": "junk"},
            headers=account.auth,
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    statuses = [logout_as(alice), logout_as(alice), logout_as(bob), logout_as(bob)]

    assert statuses == [422, 422, 422, 429]  # bob's second: his user budget has room


def test_a_rotated_refresh_token_is_the_one_logout_then_accepts(
    client: FlaskClient, alice: Account
) -> None:
    """With rotation on, GetTokensFromRefreshToken hands out a new refresh token
    (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetTokensFromRefreshToken.html).
    cognito-local does not rotate: Cognito's answer is injected at the client boundary."""
    cognito = cognito_client(Settings.from_env().region)
    rotated = {"AccessToken": alice.tokens["access_token"], "RefreshToken": "rotated-1"}
    with injected(
        cognito, COGNITO, "GetTokensFromRefreshToken", response={"AuthenticationResult": rotated}
    ):
        refreshed = client.post(
            "/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]}
        )
    assert refreshed.json["refresh_token"] == "rotated-1"

    old = alice.request(
        "POST", "/auth/logout", json={"refresh_token": alice.tokens["refresh_token"]}
    )
    with injected(cognito, COGNITO, "RevokeToken", response={}) as revoked:
        new = alice.request("POST", "/auth/logout", json={"refresh_token": "rotated-1"})

    assert old.status_code == 422
    assert new.status_code == 204
    assert [json.loads(call["body"])["Token"] for call in revoked] == ["rotated-1"]
