"""One JSON access line per request with the fields operators query on; no secrets, ever."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, NoReturn

import pytest
from flask.testing import FlaskClient

from api.app import create_app, tables
from api.config import Settings
from api.observability import JsonFormatter, configure_logging
from api.storage import bind_tables
from api.tasks import service as task_service
from infra.local.services import free_port
from tests.api.conftest import Account


@contextmanager
def access_lines() -> Iterator[list[dict[str, Any]]]:
    """Collects the access log lines written while the block runs, as parsed JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(handler)
        entries = [json.loads(line) for line in stream.getvalue().splitlines()]
        lines.extend(entry for entry in entries if entry["logger"] == "tasklake.access")


def test_authenticated_request_logs_user_route_status_and_latency(alice: Account) -> None:
    with access_lines() as lines:
        task = alice.create_task()
        alice.request("GET", f"/tasks/{task['id']}", headers={"X-Request-ID": "req-42"})

    assert len(lines) == 2  # exactly one line per request
    line = lines[-1]
    assert line["request_id"] == "req-42"
    assert line["user_id"] == alice.id
    assert (line["method"], line["route"], line["status"]) == (
        "GET",
        "/tasks/<task_id:task_id>",
        200,
    )
    assert isinstance(line["latency_ms"], float)
    assert line["level"] == "INFO"
    assert line["timestamp"].endswith("+00:00")


def test_anonymous_failure_is_logged_without_user(alice: Account) -> None:
    with access_lines() as lines:
        alice.client.get("/tasks")

    (line,) = lines
    assert line["status"] == 401
    assert "user_id" not in line
    assert line["request_id"]


def test_access_line_says_whether_the_container_was_cold(engines: dict[str, str]) -> None:
    fresh = create_app(Settings.from_env(engines))
    with access_lines() as lines:
        for _ in range(2):
            fresh.test_client().get("/health")

    assert [line["cold_start"] for line in lines] == [True, False]
    # Outside Lambda there is no invocation or API Gateway request to name.
    assert (lines[0]["lambda_request_id"], lines[0]["apigw_request_id"]) == (None, None)


@pytest.fixture
def logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def capture_everything(capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """From now on: all the process writes, through the app's own log setup at DEBUG, and
    every raw record. (Called in the test body: pytest swaps stdout between setup and call.)"""
    configure_logging("DEBUG")
    records: list[str] = []
    recorder = logging.Handler()
    recorder.emit = lambda record: records.append(repr(record.__dict__))  # type: ignore[method-assign]
    logging.getLogger().addHandler(recorder)

    def read() -> str:
        out, err = capsys.readouterr()
        return "\n".join([out, err, *records])

    return read


def _entries(text: str, request_id: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"timestamp"')]
    return [line for line in lines if line.get("request_id") == request_id]


def _assert_failure_logged_once(text: str, request_id: str) -> None:
    entries = _entries(text, request_id)
    errors = [entry for entry in entries if entry["level"] == "ERROR"]
    assert len(errors) == 1, entries
    assert "Traceback" in errors[0]["exception"]
    assert entries[-1]["logger"] == "tasklake.access"  # and the access line follows


def test_no_password_token_or_body_reaches_any_log_line(
    client: FlaskClient,
    engines: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    logging_restored: None,
) -> None:
    misconfigured = create_app(replace(Settings.from_env(engines), cursor_secret="")).test_client()
    everything_written = capture_everything(capsys)
    canary = f"canary-{uuid.uuid4().hex}"
    email, password = f"{canary}@example.com", f"Pw-{canary}-A1"
    body = {"title": f"title-{canary}", "description": f"body-{canary}"}
    client.post("/users", json={"email": email, "password": password, "name": canary})
    client.post("/auth/token", json={"email": email, "password": password + "-wrong"})
    tokens = client.post("/auth/token", json={"email": email, "password": password}).json
    refreshed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post("/tasks", json=body, headers=auth).status_code == 201
    assert client.get("/tasks", headers=auth).status_code == 200  # signs a cursor
    failed = misconfigured.get("/tasks", headers={**auth, "X-Request-ID": "misconfigured-1"})
    assert failed.status_code == 500

    # No input makes a handler crash, yet that path must not log the body either.
    def crash(*_args: object, **_kwargs: object) -> NoReturn:
        raise RuntimeError("the store blew up")

    monkeypatch.setattr(task_service, "create_task", crash)
    crashed = client.post("/tasks", json=body, headers={**auth, "X-Request-ID": "crash-1"})
    assert crashed.status_code == 500
    monkeypatch.undo()

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    bind_tables(tables(Settings.from_env()), Settings.from_env().region)
    try:
        down = client.post("/tasks", json=body, headers={**auth, "X-Request-ID": "down-1"})
        assert down.status_code == 503
    finally:
        monkeypatch.undo()
        bind_tables(tables(Settings.from_env()), Settings.from_env().region)

    client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=auth)

    written = everything_written()
    _assert_failure_logged_once(written, "misconfigured-1")
    _assert_failure_logged_once(written, "crash-1")
    _assert_failure_logged_once(written, "down-1")
    secrets = {
        "password": password,
        "access token": tokens["access_token"],
        "id token": tokens["id_token"],
        "refresh token": tokens["refresh_token"],
        "refreshed access token": refreshed["access_token"],
        "cursor secret": engines["CURSOR_SECRET"],
        "request body": canary,
    }
    assert [name for name, value in secrets.items() if value in written] == []
