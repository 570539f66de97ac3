"""Sign-in, refresh and logout against the Cognito emulator."""

from __future__ import annotations

import jwt
from flask.testing import FlaskClient

from tests.api.conftest import PASSWORD, Account


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
