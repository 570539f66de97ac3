"""API latency beside the raw PynamoDB call, and DynamoDB calls per request.

    python -m tests.bench.api_latency [--requests 500] [--ended-sessions 0]

For create/get/list/patch: the API through Flask's test client (real Cognito
token, real DynamoDB Local, the same process) against the one PynamoDB call
that does the same work, with no HTTP, auth or validation around it. The
difference is what the API adds: the revocation check (one more DynamoDB
call, timed on its own too), then routing, JWT verification, marshmallow,
ETags and logging ("API's own"). Samples alternate API/raw/revocation so that
a busy machine slows all three alike. `--ended-sessions N` first writes N ended
sessions of the bench user (logouts within the last 30 days): the check reads
two items by key, so its time should not move. Numbers, not pass/fail:
tests/api/test_dynamodb_calls.py holds the call counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from flask import Flask

from api.app import create_app, tables
from api.auth.revocation import SESSION, SESSION_MAX_SECONDS, Revocation, is_revoked
from api.config import Settings
from api.storage import utcnow
from api.tasks.models import Task, status_key
from infra.local.progress import Progress
from tests.dynamodb_calls import Call, counting_dynamodb_calls
from tests.harness import local_engines, sign_up, signed_in_token

# DynamoDB Local is a JVM: its first few hundred calls of a kind run interpreted.
WARMUP = 300


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Row:
    operation: str
    api: Timing
    raw: Timing
    revocation_check: Timing
    calls: Counter[Call]

    @property
    def overhead_ms(self) -> float:
        return self.api.median_ms - self.raw.median_ms

    @property
    def own_overhead_ms(self) -> float:
        """What the API's Python adds once its second DynamoDB call is set aside."""
        return self.overhead_ms - self.revocation_check.median_ms


def _timing(samples: list[float]) -> Timing:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return Timing(statistics.median(samples), p99)


def _elapsed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure_alternating(
    actions: list[Callable[[], object]], requests: int, progress: Progress
) -> list[Timing]:
    """Time each action in turn, round after round, so drift (JIT, other load) weighs alike."""
    for _ in range(WARMUP):
        for action in actions:
            action()
        progress.advance()
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(requests):
        for action, timings in zip(actions, samples, strict=True):
            timings.append(_elapsed_ms(action))
        progress.advance()
    return [_timing(timings) for timings in samples]


class Bench:
    def __init__(self, app: Flask, token: str, user_id: str) -> None:
        # The check reads the session (origin_jti), the user (sub) and the sign-in (auth_time).
        self.claims = jwt.decode(token, options={"verify_signature": False})
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.user_id = user_id
        self.models = [model for model, _ in tables(Settings.from_env())]
        self.task_id = self._api_create()["id"]
        self.etag = self.client.get(f"/tasks/{self.task_id}", headers=self.headers).headers["ETag"]
        # Its own task: the API's PATCHes move the version the raw update would condition on.
        self.raw_task = self.raw_create()

    def _check(self, response: Any, status: int) -> Any:
        if response.status_code != status:
            raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)}")
        return response

    # --- through the API ---

    def _api_create(self) -> Any:
        body = {"title": "bench", "priority": "high", "tags": ["bench"], "due_date": "2026-12-31"}
        response = self.client.post("/tasks", json=body, headers=self.headers)
        return self._check(response, 201).json

    def api_get(self) -> None:
        self._check(self.client.get(f"/tasks/{self.task_id}", headers=self.headers), 200)

    def api_list(self) -> None:
        self._check(self.client.get("/tasks?limit=20", headers=self.headers), 200)

    def api_patch(self) -> None:
        response = self.client.patch(
            f"/tasks/{self.task_id}",
            json={"title": f"bench {time.perf_counter()}"},
            headers={**self.headers, "If-Match": self.etag},
        )
        self.etag = self._check(response, 200).headers["ETag"]

    # --- the same work as one raw PynamoDB call ---

    def raw_create(self) -> Task:
        now = utcnow()
        task = Task(
            self.user_id,
            str(uuid.uuid4()),
            title="bench",
            status="todo",
            priority="high",
            due_date="2026-12-31",
            tags=["bench"],
            created_at=now,
            updated_at=now,
            status_key=status_key(self.user_id, "todo"),
        )
        task.save()
        return task

    def raw_get(self) -> None:
        Task.get(self.user_id, self.task_id, consistent_read=True)

    def raw_list(self) -> None:
        list(Task.query(self.user_id, scan_index_forward=False, limit=20))

    def raw_patch(self) -> None:
        self.raw_task.update(
            [Task.title.set(f"bench {time.perf_counter()}"), Task.updated_at.set(utcnow())],
            condition=Task.task_id.exists(),
        )

    def revocation_check(self) -> None:
        is_revoked(self.claims)

    def row(self, operation: str, requests: int, progress: Progress) -> Row:
        api_action: Callable[[], object] = getattr(self, f"api_{operation}", self._api_create)
        raw_action: Callable[[], object] = getattr(self, f"raw_{operation}")
        with counting_dynamodb_calls(self.models) as calls:
            api_action()
        api, raw, revocation = measure_alternating(
            [api_action, raw_action, self.revocation_check], requests, progress
        )
        return Row(operation, api, raw, revocation, calls)


def end_sessions(user_id: str, count: int) -> None:
    """Rows as `count` logouts of other sign-ins would leave, straight to the table (fast)."""
    expires_at = datetime.fromtimestamp(time.time() + SESSION_MAX_SECONDS, UTC)
    with Revocation.batch_write() as batch:
        for _ in range(count):
            batch.save(Revocation(user_id, SESSION + str(uuid.uuid4()), expires_at=expires_at))


def format_calls(calls: Counter[Call]) -> str:
    return ", ".join(
        f"{count} {operation} {table.rsplit('-', 1)[-1]}"
        for (operation, table), count in sorted(calls.items())
    )


def table(rows: list[Row], requests: int) -> str:
    lines = [
        f"API latency vs raw PynamoDB: {requests} requests each, alternating, after {WARMUP}"
        " warm-up pairs"
        f" ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]})",
        "",
        "| operation | API median | API p99 | raw median | raw p99 | overhead (median)"
        " | of which revocation check | API's own | DynamoDB calls per API request | Scans |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        scans = sum(n for (operation, _), n in row.calls.items() if operation == "Scan")
        lines.append(
            f"| {row.operation} | {row.api.median_ms:.2f} ms | {row.api.p99_ms:.2f} ms"
            f" | {row.raw.median_ms:.2f} ms | {row.raw.p99_ms:.2f} ms"
            f" | {row.overhead_ms:+.2f} ms | {row.revocation_check.median_ms:.2f} ms"
            f" | {row.own_overhead_ms:+.2f} ms | {format_calls(row.calls)} | {scans} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.api_latency")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per row")
    parser.add_argument(
        "--ended-sessions", type=int, default=0, help="ended sessions of the user, written first"
    )
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory(prefix="tasklake-bench-") as workdir,
        local_engines(Path(workdir), cursor_secret="bench-cursor-secret") as environment,
    ):
        # One access line per request would be timed too; production logs at INFO.
        app = create_app(replace(Settings.from_env(environment), log_level="WARNING"))
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        sign_up(app, email, name="Bench User")
        token = signed_in_token(app, email)
        user_id = (
            app.test_client()
            .get("/users/me", headers={"Authorization": f"Bearer {token}"})
            .json["id"]
        )
        end_sessions(user_id, args.ended_sessions)
        bench = Bench(app, token, user_id)
        operations = ("create", "get", "list", "patch")
        # A round is one API request, one raw call and one revocation check.
        progress = Progress("rounds", len(operations) * (WARMUP + args.requests))
        rows = [bench.row(operation, args.requests, progress) for operation in operations]
    print(table(rows, args.requests))
    print(f"\nThe user had {args.ended_sessions} ended sessions.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
