"""Every request prints one CloudWatch Embedded Metric Format line holding all its metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Settings
from api.metrics import CATALOG, NAMESPACE, STAGE, STAGE_ROUTE_METHOD, UNMATCHED_ROUTE
from tests.api.conftest import PASSWORD, Account, unique_email

Capture = Callable[[], list[dict[str, Any]]]


def assert_valid_emf(document: dict[str, Any]) -> dict[str, float]:
    """Checks the EMF structure against the catalog; returns the metrics by name."""
    assert isinstance(document["_aws"]["Timestamp"], int)
    emitted: dict[str, float] = {}
    for directive in document["_aws"]["CloudWatchMetrics"]:
        assert directive["Namespace"] == NAMESPACE
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(document[key], str) for key in dimension_set)
        for definition in directive["Metrics"]:
            metric = CATALOG[definition["Name"]]
            assert definition == {"Name": metric.name, "Unit": metric.unit}
            assert [tuple(keys) for keys in directive["Dimensions"]] == list(metric.dimension_sets)
            assert isinstance(document[metric.name], int | float)
            emitted[metric.name] = document[metric.name]
    return emitted


@pytest.fixture
def emf(capsys: pytest.CaptureFixture[str]) -> Capture:
    """The EMF documents printed since the last call, each checked for validity."""

    def read() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        documents = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
        for document in documents:
            assert_valid_emf(document)
        return documents

    return read


def only(documents: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(documents) == 1, documents  # one line per request
    return documents[0]


@pytest.fixture
def fresh_app(engines: dict[str, str]) -> Flask:
    """A new container's app: its first request is a cold start. It has no cursor secret."""
    return create_app(replace(Settings.from_env(engines), cursor_secret=""))


def test_request_metrics_carry_stage_route_template_and_method(
    alice: Account, emf: Capture, engines: dict[str, str]
) -> None:
    task = alice.create_task()
    emf()
    alice.request("GET", f"/tasks/{task['id']}", headers={"X-Request-ID": "emf-1"})

    document = only(emf())
    assert (document["Stage"], document["Route"], document["Method"]) == (
        Settings.from_env(engines).stage,
        "/tasks/<task_id>",
        "GET",
    )
    assert document["request_id"] == "emf-1"
    assert [keys for d in document["_aws"]["CloudWatchMetrics"] for keys in d["Dimensions"]] == [
        list(STAGE),
        list(STAGE_ROUTE_METHOD),
    ]
    values = assert_valid_emf(document)
    assert (values["Requests"], values["Errors4xx"], values["Errors5xx"]) == (1, 0, 0)
    assert values["Latency"] > 0
    assert "ColdStart" not in values


def test_client_errors_count_as_4xx_and_unmatched_paths_share_one_route(
    client: FlaskClient, emf: Capture
) -> None:
    emf()
    client.get("/tasks")
    unauthorized = only(emf())
    client.get("/users/12345/no-such-thing")
    unmatched = only(emf())

    assert unauthorized["Route"] == "/tasks"
    assert (unauthorized["Errors4xx"], unauthorized["Errors5xx"]) == (1, 0)
    assert unmatched["Route"] == UNMATCHED_ROUTE
    assert (unmatched["Errors4xx"], unmatched["Errors5xx"]) == (1, 0)


def test_server_errors_count_as_5xx_and_cold_start_only_once(
    fresh_app: Flask, alice: Account, emf: Capture
) -> None:
    client = fresh_app.test_client()
    emf()
    responses = [client.get("/tasks", headers=alice.auth) for _ in range(3)]

    documents = emf()
    assert [response.status_code for response in responses] == [500] * 3  # no cursor secret
    assert [(d["Errors4xx"], d["Errors5xx"]) for d in documents] == [(0, 1)] * 3
    assert [d.get("ColdStart") for d in documents] == [1, None, None]


def test_business_counters_count_what_succeeded(
    client: FlaskClient, alice: Account, emf: Capture
) -> None:
    def counters() -> dict[str, float]:
        values = assert_valid_emf(only(emf()))
        return {name: values[name] for name in values if CATALOG[name].dimension_sets == (STAGE,)}

    emf()
    client.post("/users", json={"email": unique_email(), "password": PASSWORD, "name": "N"})
    assert counters() == {"SignUps": 1}
    client.post("/auth/token", json={"email": alice.email, "password": PASSWORD + "x"})
    assert counters() == {"LoginsFailed": 1}

    key = {"Idempotency-Key": "metrics-create-1"}
    created = alice.request("POST", "/tasks", json={"title": "count me"}, headers=key)
    assert counters() == {"TasksCreated": 1}
    alice.request("POST", "/tasks", json={"title": "count me"}, headers=key)
    assert counters() == {}  # a replay creates nothing

    path, etag = f"/tasks/{created.json['id']}", created.headers["ETag"]
    done = alice.request("PATCH", path, json={"status": "done"}, headers={"If-Match": etag})
    assert counters() == {"TasksCompleted": 1}
    alice.request(
        "PATCH", path, json={"status": "done"}, headers={"If-Match": done.headers["ETag"]}
    )
    assert counters() == {}  # already done
