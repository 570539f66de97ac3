"""GET /health tells a probe whether DynamoDB answers."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Settings
from api.health import CACHE_EXTENSION, PROBE_CACHE_SECONDS, ProbeCache
from api.tasks.models import Task
from infra.local.services import free_port
from tests.api.conftest import Account
from tests.dynamodb_calls import counting_dynamodb_calls


def test_health_is_200_when_dynamodb_answers(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "dynamodb": "ok"}


def test_health_is_503_when_dynamodb_does_not(
    engines: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dead)
    broken = create_app(Settings.from_env())
    try:
        response = broken.test_client().get("/health")
        assert response.status_code == 503
        assert response.content_type == "application/problem+json"
    finally:
        monkeypatch.undo()
        create_app(Settings.from_env())  # rebind the models to the live engine


def test_requests_get_503_problem_when_dynamodb_is_down(
    alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    broken = create_app(Settings.from_env())
    try:
        response = broken.test_client().get("/tasks", headers=alice.auth)
        assert response.status_code == 503
        assert response.content_type == "application/problem+json"
        assert response.json["type"] == "urn:tasklake:problem:dependency-unavailable"
    finally:
        monkeypatch.undo()
        create_app(Settings.from_env())  # rebind the models to the live engine


def test_spec_and_docs_need_no_auth(client: FlaskClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    assert {"/tasks", "/tasks/{task_id}", "/users", "/users/{user_id}", "/auth/token"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_a_loop_of_probes_costs_one_dynamodb_read_per_few_seconds(
    engines: dict[str, str],
) -> None:
    app = create_app(Settings.from_env(engines))
    now = [1000.0]
    app.extensions[CACHE_EXTENSION] = ProbeCache(PROBE_CACHE_SECONDS, clock=lambda: now[0])
    client = app.test_client()

    with counting_dynamodb_calls([Task]) as calls:
        for _ in range(50):
            assert client.get("/health").status_code == 200
        now[0] += PROBE_CACHE_SECONDS
        assert client.get("/health").status_code == 200

    assert sum(calls.values()) == 2, calls
