"""One JSON access line per request, with the fields operators query on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from api.observability import JsonFormatter
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
        "/tasks/<string:task_id>",
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
