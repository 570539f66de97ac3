"""Sessions end when they should: logout, logout everywhere, password change, disable, delete.

Every test holds tokens from before the event and checks each of them is refused at once,
and that a sign-in afterwards works (or, for a disabled or deleted account, does not).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from flask.testing import FlaskClient

from api.auth.revocation import SESSION, SESSION_MAX_SECONDS, Revocation
from tests.api.conftest import PASSWORD, Account

NEW_PASSWORD = "Battery-Staple-7"


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/token", json={"email": email, "password": password})


def works(client: FlaskClient, token: str) -> bool:
    status = client.get("/tasks", headers={"Authorization": f"Bearer {token}"}).status_code
    assert status in (200, 401), status
    return status == 200


def refreshed(client: FlaskClient, refresh_token: str) -> Any:
    return client.post("/auth/refresh", json={"refresh_token": refresh_token})


def test_logout_ends_every_token_of_this_sign_in_and_no_other(
    client: FlaskClient, alice: Account
) -> None:
    second_token = refreshed(client, alice.tokens["refresh_token"]).json["access_token"]
    other_session = sign_in(client, alice.email).json["access_token"]

    assert alice.request("POST", "/auth/logout").status_code == 204

    assert not works(client, alice.tokens["access_token"])
    assert not works(client, second_token)
    assert works(client, other_session)


def test_tokens_refreshed_after_logout_are_refused(client: FlaskClient, alice: Account) -> None:
    assert alice.request("POST", "/auth/logout").status_code == 204

    # Without the refresh token the API could not revoke it at Cognito; its tokens still die.
    late = refreshed(client, alice.tokens["refresh_token"])
    assert late.status_code == 200
    assert not works(client, late.json["access_token"])


def test_logout_refuses_the_refresh_token_of_another_session(
    client: FlaskClient, alice: Account
) -> None:
    other = sign_in(client, alice.email).json

    response = alice.request("POST", "/auth/logout", json={"refresh_token": other["refresh_token"]})

    assert response.status_code == 422
    assert "refresh_token" in response.json["errors"]["json"]
    assert works(client, other["access_token"])
    assert works(client, refreshed(client, other["refresh_token"]).json["access_token"])
    assert works(client, alice.tokens["access_token"])  # refused, so nothing ended


def test_logout_with_the_refresh_token_refuses_the_session_for_its_whole_life(
    client: FlaskClient, alice: Account
) -> None:
    """Were the row to expire with the access token, a refresh token Cognito failed to revoke
    would work again; the row must outlive every token the session can mint."""
    claims = jwt.decode(alice.tokens["access_token"], options={"verify_signature": False})
    body = {"refresh_token": alice.tokens["refresh_token"]}

    assert alice.request("POST", "/auth/logout", json=body).status_code == 204

    row = Revocation.get(alice.id, SESSION + claims["origin_jti"], consistent_read=True)
    assert row.expires_at == datetime.fromtimestamp(claims["auth_time"] + SESSION_MAX_SECONDS, UTC)
    assert not works(client, alice.tokens["access_token"])


def test_logout_all_ends_every_session(client: FlaskClient, alice: Account) -> None:
    other = sign_in(client, alice.email).json

    assert alice.request("POST", "/auth/logout?all=true").status_code == 204

    assert not works(client, alice.tokens["access_token"])
    assert not works(client, other["access_token"])
    assert refreshed(client, other["refresh_token"]).status_code == 401
    assert works(client, sign_in(client, alice.email).json["access_token"])


def test_password_change_ends_earlier_sessions_and_swaps_the_password(
    client: FlaskClient, alice: Account
) -> None:
    other = sign_in(client, alice.email).json["access_token"]
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    assert alice.request("POST", "/auth/password/change", json=body).status_code == 204

    assert not works(client, alice.tokens["access_token"])
    assert not works(client, other)
    assert sign_in(client, alice.email).status_code == 401
    after = sign_in(client, alice.email, NEW_PASSWORD)
    assert after.status_code == 200
    assert works(client, after.json["access_token"])


def test_password_change_needs_a_strong_new_password(alice: Account) -> None:
    weak = {"current_password": PASSWORD, "new_password": "weak"}

    response = alice.request("POST", "/auth/password/change", json=weak)

    assert response.status_code == 422
    assert "new_password" in response.json["errors"]["json"]
    assert alice.request("GET", "/users/me").status_code == 200  # refused before any step


def test_password_change_needs_the_current_password_and_ends_sessions_all_the_same(
    client: FlaskClient, alice: Account
) -> None:
    """The sessions end before Cognito is asked (so no failure can leave them alive beside a
    changed password): a wrong current password ends them too, and changes nothing else."""
    wrong = {"current_password": "Wrong-pass-1", "new_password": NEW_PASSWORD}

    response = alice.request("POST", "/auth/password/change", json=wrong)

    assert response.status_code == 422
    assert "current_password" in response.json["errors"]["json"]
    assert not works(client, alice.tokens["access_token"])
    assert works(client, sign_in(client, alice.email).json["access_token"])


def test_password_change_needs_a_token(client: FlaskClient) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("/auth/password/change", json=body).status_code == 401


def test_forgot_password_answers_the_same_for_unknown_accounts(
    client: FlaskClient, alice: Account
) -> None:
    known = client.post("/auth/password/forgot", json={"email": alice.email})
    unknown = client.post("/auth/password/forgot", json={"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()


def test_password_reset_with_the_emailed_code_ends_earlier_sessions(
    client: FlaskClient, alice: Account, emailed_code: Callable[[str], str]
) -> None:
    assert client.post("/auth/password/forgot", json={"email": alice.email}).status_code == 202
    reset = {"email": alice.email, "code": emailed_code(alice.email), "new_password": NEW_PASSWORD}

    assert client.post("/auth/password/reset", json=reset).status_code == 204

    assert not works(client, alice.tokens["access_token"])
    assert sign_in(client, alice.email).status_code == 401
    assert works(client, sign_in(client, alice.email, NEW_PASSWORD).json["access_token"])


def test_password_reset_with_a_wrong_code_is_422(client: FlaskClient, alice: Account) -> None:
    client.post("/auth/password/forgot", json={"email": alice.email})
    reset = {"email": alice.email, "code": "000000x", "new_password": NEW_PASSWORD}

    response = client.post("/auth/password/reset", json=reset)

    assert response.status_code == 422
    assert "code" in response.json["errors"]["json"]
    assert works(client, alice.tokens["access_token"])


def test_a_disabled_account_is_refused_at_once_and_enabling_restores_sign_in(
    client: FlaskClient, admin: Account, bob: Account
) -> None:
    path = f"/users/{bob.id}"

    disabled = admin.request("PATCH", path, json={"enabled": False})

    assert disabled.status_code == 200
    assert disabled.json["enabled"] is False
    assert not works(client, bob.tokens["access_token"])
    assert sign_in(client, bob.email).status_code == 401
    assert refreshed(client, bob.tokens["refresh_token"]).status_code == 401

    enabled = admin.request("PATCH", path, json={"enabled": True})

    assert enabled.status_code == 200
    assert enabled.json["enabled"] is True
    assert works(client, sign_in(client, bob.email).json["access_token"])
    assert not works(client, bob.tokens["access_token"])  # earlier tokens stay dead


def test_only_admins_enable_or_disable(alice: Account) -> None:
    response = alice.request("PATCH", "/users/me", json={"enabled": False})

    assert response.status_code == 403
    assert alice.request("GET", "/users/me").json["enabled"] is True


def test_disabling_an_unknown_user_is_404(admin: Account) -> None:
    assert admin.request("PATCH", "/users/nobody", json={"enabled": False}).status_code == 404


def test_deleting_an_account_refuses_every_token_of_it(
    client: FlaskClient, admin: Account, sign_up: Callable[..., Account]
) -> None:
    for deleted_by_admin in (False, True):
        user = sign_up()
        other = sign_in(client, user.email).json["access_token"]
        by = admin if deleted_by_admin else user

        assert by.request("DELETE", f"/users/{user.id}").status_code == 204

        assert not works(client, user.tokens["access_token"])
        assert not works(client, other)
        assert client.post("/tasks", json={"title": "orphan"}, headers=user.auth).status_code == 401


def test_every_token_names_its_session(alice: Account) -> None:
    claims = jwt.decode(alice.tokens["access_token"], options={"verify_signature": False})
    assert all(claims.get(name) for name in ("jti", "origin_jti", "auth_time")), claims
