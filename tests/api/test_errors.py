"""Every error is RFC 9457 problem+json, whatever produced it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.app import create_app
from api.config import Settings
from tests.api.conftest import Account
from tests.logged_problems import logged_problems

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def _assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = response.json
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    return body


def test_malformed_json_is_400(alice: Account) -> None:
    response = alice.request(
        "POST", "/tasks", data="{not json", headers={"Content-Type": "application/json"}
    )
    _assert_problem(response, 400)


def test_body_over_64_kib_is_413(alice: Account) -> None:
    response = alice.request("POST", "/tasks", json={"title": "x", "description": "y" * 70_000})
    _assert_problem(response, 413)


def test_validation_problem_lists_errors_per_field(alice: Account) -> None:
    body = _assert_problem(alice.request("POST", "/tasks", json={"title": ""}), 422)
    assert body["type"] == "urn:tasklake:problem:validation"
    assert "title" in body["errors"]["json"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no-such-thing", 404), ("PUT", "/tasks", 405), ("DELETE", "/auth/token", 405)],
)
def test_routing_errors_are_problems(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    _assert_problem(client.open(path, method=method), status)


def test_responses_echo_or_assign_a_request_id(client: FlaskClient) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": "trace-me-123"})
    assert echoed.headers["X-Request-ID"] == "trace-me-123"
    assigned = client.get("/health")
    assert len(assigned.headers["X-Request-ID"]) >= 16


def _settings_read_from_the_environment() -> set[str]:
    root = Path(__file__).parents[2] / "api"
    source = "\n".join(path.read_text() for path in root.rglob("*.py"))
    return set(re.findall(r"environ(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\"", source))


@pytest.mark.parametrize(
    ("missing", "method", "path"),
    [
        ({"cursor_secret": ""}, "GET", "/tasks"),
        ({"cognito_client_id": ""}, "POST", "/auth/password/forgot"),
        ({"cognito_user_pool_id": "", "cognito_issuer": ""}, "GET", "/tasks"),
    ],
)
def test_a_500_names_no_setting_but_the_log_does(
    engines: dict[str, str],
    alice: Account,
    missing: dict[str, str],
    method: str,
    path: str,
) -> None:
    settings = dataclasses.replace(Settings.from_env(engines), **missing)
    client = create_app(settings).test_client()
    names = _settings_read_from_the_environment()
    assert {"COGNITO_CLIENT_ID", "CURSOR_SECRET", "STAGE"} <= names

    body = {"email": alice.email} if method == "POST" else None
    with logged_problems() as logged:
        response = client.open(path, method=method, json=body, headers=alice.auth)

    problem = _assert_problem(response, 500)
    assert problem["type"] == "urn:tasklake:problem:misconfigured"
    assert [name for name in names if name in response.get_data(as_text=True)] == []
    assert [name for name in names if name in " ".join(logged)], (
        logged
    )  # the operator still learns it
