"""Accounts: sign-up, profile, deletion and administration."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import PASSWORD, Account, unique_email


def test_sign_up_creates_an_account_without_echoing_the_password(client: FlaskClient) -> None:
    email = unique_email()

    response = client.post(
        "/users", json={"email": email.upper(), "password": PASSWORD, "name": "Ada"}
    )

    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "email", "name", "enabled", "created_at"}
    assert body["email"] == email  # normalised to lower case
    assert body["name"] == "Ada"
    assert PASSWORD not in response.get_data(as_text=True)


def test_duplicate_email_is_409(client: FlaskClient, alice: Account) -> None:
    response = client.post(
        "/users", json={"email": alice.email, "password": PASSWORD, "name": "Again"}
    )
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "x"}, "email"),
        ({"password": PASSWORD, "name": "x"}, "email"),
        ({"email": "a@example.com", "name": "x"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": ""}, "name"),
        (
            {"email": "a@example.com", "password": PASSWORD, "name": "x", "is_admin": True},
            "is_admin",
        ),
        ({"email": "a@example.com", "password": PASSWORD, "name": "x", "id": "me"}, "id"),
    ],
)
def test_invalid_sign_up_is_422(client: FlaskClient, body: dict[str, object], field: str) -> None:
    response = client.post("/users", json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Sh0rt", "8 characters"),
        ("alllowercase1", "uppercase"),
        ("ALLUPPERCASE1", "lowercase"),
        ("NoDigitsHere", "digit"),
    ],
)
def test_weak_password_is_422_with_the_reason(
    client: FlaskClient, password: str, reason: str
) -> None:
    email = unique_email()
    response = client.post("/users", json={"email": email, "password": password, "name": "W"})

    assert response.status_code == 422
    assert reason in " ".join(response.json["errors"]["json"]["password"])
    login = client.post("/auth/token", json={"email": email, "password": password})
    assert login.status_code == 401  # nothing was created


def test_me_returns_and_renames_the_profile(alice: Account) -> None:
    me = alice.request("GET", "/users/me")
    assert me.status_code == 200
    assert (me.json["id"], me.json["email"], me.json["name"]) == (alice.id, alice.email, "Alice")

    renamed = alice.request("PATCH", "/users/me", json={"name": "Alice B."})
    assert renamed.status_code == 200
    assert renamed.json["name"] == "Alice B."
    assert alice.request("GET", f"/users/{alice.id}").json["name"] == "Alice B."


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x", "email": "new@example.com"}])
def test_rename_rejects_bad_bodies(alice: Account, body: dict[str, str]) -> None:
    assert alice.request("PATCH", "/users/me", json=body).status_code == 422


def test_another_users_profile_is_404_for_non_admins(alice: Account, bob: Account) -> None:
    path = f"/users/{alice.id}"
    assert bob.request("GET", path).status_code == 404
    assert bob.request("PATCH", path, json={"name": "pwned"}).status_code == 404
    assert bob.request("DELETE", path).status_code == 404
    assert alice.request("GET", "/users/me").json["name"] == "Alice"


def test_admin_can_read_rename_and_delete_any_user(admin: Account, bob: Account) -> None:
    path = f"/users/{bob.id}"
    assert admin.request("GET", path).json["email"] == bob.email
    assert admin.request("PATCH", path, json={"name": "Robert"}).json["name"] == "Robert"

    assert admin.request("DELETE", path).status_code == 204

    assert admin.request("GET", path).status_code == 404
    login = bob.client.post("/auth/token", json={"email": bob.email, "password": PASSWORD})
    assert login.status_code == 401


def test_listing_users_is_admin_only(admin: Account, alice: Account) -> None:
    assert alice.request("GET", "/users").status_code == 403

    # Every page, not just the first: the session's other tests sign up users too.
    emails: list[str] = []
    cursor = None
    while True:
        query = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = admin.request("GET", "/users", query_string=query)
        assert response.status_code == 200
        emails += [user["email"] for user in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert alice.email in emails
    assert emails == sorted(emails)


def test_user_listing_pages_cover_everyone_once(
    admin: Account, sign_up: Callable[..., Account]
) -> None:
    created = {sign_up().email for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = admin.request("GET", "/users", query_string=query).json
        seen += [user["email"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert created <= set(seen)


def test_deleting_me_removes_account_profile_and_tasks(
    alice: Account, sign_up: Callable[..., Account]
) -> None:
    for n in range(3):
        alice.create_task(title=f"task {n}")

    assert alice.request("DELETE", "/users/me").status_code == 204

    login = alice.client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})
    assert login.status_code == 401
    assert alice.request("GET", "/tasks").status_code == 401  # the token was revoked
    # The same email can sign up afresh and starts with nothing.
    again = alice.client.post(
        "/users", json={"email": alice.email, "password": PASSWORD, "name": "New"}
    )
    assert again.status_code == 201
    token = alice.client.post(
        "/auth/token", json={"email": alice.email, "password": PASSWORD}
    ).json["access_token"]
    tasks = alice.client.get("/tasks", headers={"Authorization": f"Bearer {token}"}).json
    assert tasks["items"] == []
