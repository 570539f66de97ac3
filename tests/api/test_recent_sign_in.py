"""Deleting an account needs a recent sign-in: a stolen token alone cannot delete it for good.

The clock the check reads is moved forward instead of waiting (api/auth/recent_sign_in.py);
the tokens are cognito-local's, whose `auth_time` is the password sign-in's time.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.auth import recent_sign_in
from tests.api.conftest import PASSWORD, Account

MAX_AGE = 5 * 60  # api/config.py's default


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six minutes after every sign-in made so far."""
    monkeypatch.setattr(recent_sign_in, "clock", lambda: time.time() + MAX_AGE + 60)


def _refused_for_age(response: Any) -> None:
    assert response.status_code == 401, response.json
    assert response.json["type"] == "urn:tasklake:problem:reauthentication-required"
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert f"max_age={MAX_AGE}" in challenge


def test_an_old_sign_in_cannot_delete_the_account(alice: Account, later: None) -> None:
    alice.create_task(title="keep me")

    _refused_for_age(alice.request("DELETE", "/users/me"))

    assert alice.request("GET", "/users/me").status_code == 200
    assert len(alice.request("GET", "/tasks").json["items"]) == 1


def test_a_refreshed_token_keeps_its_sign_in_time(
    client: FlaskClient, alice: Account, later: None
) -> None:
    refreshed = client.post("/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.json
    headers = {"Authorization": f"Bearer {refreshed.json['access_token']}"}

    _refused_for_age(client.delete("/users/me", headers=headers))


def test_signing_in_again_lets_the_owner_delete(
    client: FlaskClient, alice: Account, later: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refused_for_age(alice.request("DELETE", "/users/me"))
    monkeypatch.setattr(recent_sign_in, "clock", time.time)  # the new sign-in happens now
    again = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {again.json['access_token']}"}

    assert client.delete("/users/me", headers=headers).status_code == 204


def test_an_administrators_old_sign_in_cannot_delete_anyone(
    admin: Account, bob: Account, later: None
) -> None:
    _refused_for_age(admin.request("DELETE", f"/users/{bob.id}"))

    assert bob.request("GET", "/users/me").status_code == 200


def test_the_spec_documents_the_refusal(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    answers = spec["paths"]["/users/{user_id}"]["delete"]["responses"]

    assert "reauthentication-required" in answers["401"]["description"]
    assert "POST /auth/token" in answers["401"]["description"]
