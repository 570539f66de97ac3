"""Response headers every client and browser can rely on."""

from __future__ import annotations

import base64
import hashlib
import re

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


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/users/me"), ("GET", "/users")],
)
def test_authenticated_responses_are_never_cached(admin: Account, method: str, path: str) -> None:
    response = admin.request(method, path, json={"title": "private"} if method == "POST" else None)

    assert response.status_code < 300, response.json
    assert response.headers["Cache-Control"] == "no-store"


def test_a_task_is_never_cached_even_unchanged(alice: Account) -> None:
    path = f"/tasks/{alice.create_task()['id']}"
    task = alice.request("GET", path)
    unchanged = alice.request("GET", path, headers={"If-None-Match": task.headers["ETag"]})

    assert unchanged.status_code == 304
    assert task.headers["Cache-Control"] == unchanged.headers["Cache-Control"] == "no-store"


def test_the_docs_page_may_not_be_framed_and_runs_only_its_own_scripts(
    client: FlaskClient,
) -> None:
    """The header alone, no browser needed (tests/api/test_swagger_ui.py renders the page under
    it in Chromium). Directives:
    https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy"""
    page = client.get("/docs")
    parts = page.headers["Content-Security-Policy"].split(";")
    # A trailing ";" is valid CSP and leaves an empty part.
    directives = dict(part.strip().split(" ", 1) for part in parts if part.strip())
    inline = re.findall(r"<script>(.*?)</script>", page.get_data(as_text=True), re.DOTALL)
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in inline
    }

    assert page.status_code == 200
    assert directives["frame-ancestors"] == "'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert directives["default-src"] == "'none'"
    sources = set(directives["script-src"].split())
    assert inline
    assert hashes <= sources
    assert sources - hashes == {"'self'"}  # no 'unsafe-inline', 'unsafe-eval' nor a host
