"""`make admin`: creates or promotes an administrator, with the API's own sign-up rules."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient

from infra.local.stack import StackError, make_admin


def _email() -> str:
    return f"admin-{uuid.uuid4().hex[:10]}@example.com"


def _token(client: FlaskClient, email: str, password: str) -> str:
    response = client.post("/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    token: str = response.json["access_token"]
    return token


def test_creates_an_admin_who_may_list_users(engines: dict[str, str], client: FlaskClient) -> None:
    email = _email()

    outcome = make_admin(email.upper(), "Adm1n-password", engines)

    assert "created and promoted" in outcome
    token = _token(client, email, "Adm1n-password")
    assert client.get("/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_promotes_an_existing_account_without_touching_its_password(
    engines: dict[str, str], client: FlaskClient
) -> None:
    email = _email()
    client.post("/users", json={"email": email, "password": "Orig1nal-pass", "name": "U"})

    outcome = make_admin(email, "Other-pass-1", engines)

    assert "existing account" in outcome
    token = _token(client, email, "Orig1nal-pass")
    assert client.get("/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(("email", "password"), [("not-an-email", "Adm1n-pass"), (None, "weak")])
def test_refuses_what_sign_up_would_refuse(
    engines: dict[str, str], client: FlaskClient, email: str | None, password: str
) -> None:
    address = email or _email()
    with pytest.raises(StackError):
        make_admin(address, password, engines)
    assert client.post(
        "/auth/token", json={"email": address, "password": password}
    ).status_code in (
        401,
        422,
    )
