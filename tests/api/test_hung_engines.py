"""A hung backing service is answered 503 + Retry-After within the request's deadline.

The engines are really frozen (SIGSTOP, tests/faults.py): they accept connections and
answer nothing, so every client timeout and retry runs as it would against a hung
service, which no injected error can reproduce.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Settings
from tests.api.conftest import PASSWORD, Account
from tests.faults import hung, listening_pid


def _engine_pid(engines: dict[str, str], service: str) -> int:
    port = urlsplit(engines[f"AWS_ENDPOINT_URL_{service}"]).port
    assert port is not None
    return listening_pid(port)


@pytest.fixture
def hung_dynamodb(engines: dict[str, str]) -> Iterator[None]:
    with hung(_engine_pid(engines, "DYNAMODB")):
        yield


@pytest.fixture
def hung_cognito(engines: dict[str, str]) -> Iterator[None]:
    with hung(_engine_pid(engines, "COGNITO_IDENTITY_PROVIDER")):
        yield


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _unavailable_in_time(response: Any, seconds: float) -> None:
    assert response.status_code == 503, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "urn:tasklake:problem:dependency-unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert seconds < Settings().request_deadline_seconds


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/tasks", None),
        ("POST", "/tasks", {"title": "while the table hangs"}),
        ("GET", "/users/me", None),
    ],
)
def test_authenticated_requests_get_503_when_dynamodb_hangs(
    alice: Account, method: str, path: str, body: Any, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("hung_dynamodb")  # after alice signed up
    response, seconds = _timed(lambda: alice.request(method, path, json=body))

    _unavailable_in_time(response, seconds)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/token", {"email": "someone@example.com", "password": PASSWORD}),
        ("/health", None),
    ],
)
def test_unauthenticated_requests_get_503_when_dynamodb_hangs(
    client: FlaskClient, hung_dynamodb: None, path: str, body: Any
) -> None:
    method = client.post if body else client.get
    response, seconds = _timed(lambda: method(path, json=body))

    _unavailable_in_time(response, seconds)


def test_sign_in_gets_503_when_cognito_hangs(
    client: FlaskClient, alice: Account, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("hung_cognito")
    response, seconds = _timed(
        lambda: client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})
    )

    _unavailable_in_time(response, seconds)


def test_a_fresh_instance_gets_503_when_the_keys_hang(
    alice: Account, engines: dict[str, str], request: pytest.FixtureRequest
) -> None:
    """A new container has no signing keys cached: it must fetch them from the hung pool."""
    cold: Flask = create_app(Settings.from_env(engines))
    request.getfixturevalue("hung_cognito")
    response, seconds = _timed(lambda: cold.test_client().get("/tasks", headers=alice.auth))

    _unavailable_in_time(response, seconds)
