"""Response headers every client and browser can rely on."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import PASSWORD, Account


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/nowhere"), ("POST", "/tasks")],
)
def test_every_response_forbids_content_sniffing(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_token_responses_are_never_cached(client: FlaskClient, alice: Account) -> None:
    login = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})
    refreshed = client.post("/auth/refresh", json={"refresh_token": login.json["refresh_token"]})

    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
