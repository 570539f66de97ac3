"""API latency beside the raw PynamoDB call, DynamoDB calls and round trips per request.

    python -m tests.bench.api_latency [--requests 500] [--ended-sessions 0]

For create/get/list/patch: the API called as a WSGI app (real Cognito token, real
DynamoDB Local, the same process), each request handed a fresh environ as Zappa's
handler hands one over, against the one PynamoDB call that does the same work, with
no HTTP, auth or validation around it. Not Flask's test client: building its
request and wrapping its response cost 0.2-0.4 ms a request here, none of it the
API's (docs/benchmarks.md). "API's
own" is each API request's time minus the time it spent waiting for DynamoDB
(botocore hooks time every call; calls in flight together count once): routing,
JWT verification, marshmallow, ETags, metrics and logging. Samples alternate
API/raw so that a busy machine slows both alike. `--ended-sessions N` first
writes N ended sessions of the bench user (logouts within the last 30 days):
the check reads two items by key, so its time should not move.

`--replay` times the API's own work alone: each operation's DynamoDB answers are recorded
once from DynamoDB Local, then every call is answered from the recording (no botocore, no
socket, no engine), so a busy machine's scheduling moves the numbers far less than it moves
"API's own" above. Reported: wall median, wall p10, CPU median (process time).
`--replay --wait-ms 3` answers each call after that long asleep, as a real round trip leaves
the process idle: on the 2-core dev VM the same code then takes about twice the CPU time
(docs/benchmarks.md), which is most of the gap between the two measures.

Times are numbers, not pass/fail; the round trips are: the run exits 1, loudly,
when any task request (delete included, counted once) waits for more than one
DynamoDB round trip (tests/api/test_dynamodb_calls.py holds the exact calls).
"""

from __future__ import annotations

import argparse
import io
import json
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
from unittest import mock

from flask import Flask
from pynamodb.connection.base import Connection
from werkzeug.test import EnvironBuilder, run_wsgi_app

from api.app import create_app, tables
from api.auth.revocation import SESSION, SESSION_MAX_SECONDS, Revocation
from api.config import Settings
from api.storage import utcnow
from api.tasks.models import Task, status_key
from infra.local.progress import Progress
from tests.dynamodb_calls import (
    Call,
    Span,
    counting_dynamodb_calls,
    round_trips,
    timing_dynamodb_calls,
)
from tests.harness import local_engines, sign_up, signed_in_token

# DynamoDB Local is a JVM: its first few hundred calls of a kind run interpreted.
WARMUP = 300
MAX_ROUND_TRIPS = 1
LIST_PAGE = 20


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Row:
    operation: str
    api: Timing | None
    raw: Timing | None
    own: Timing | None  # the API request's time outside DynamoDB calls
    calls: Counter[Call]
    round_trips: int


def _timing(samples: list[float]) -> Timing:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return Timing(statistics.median(samples), p99)


def _elapsed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def waiting_ms(spans: list[Span]) -> float:
    """Time spent with at least one DynamoDB call in flight (overlapping calls count once)."""
    total = 0.0
    reach = float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total * 1000


def measure_alternating(
    api: Callable[[], object],
    raw: Callable[[], object],
    requests: int,
    progress: Progress,
    models: list[type[Any]],
) -> tuple[Timing, Timing, Timing]:
    """Time the API request and the raw call in turn, round after round, so drift (JIT,
    other load) weighs alike; and each API request's own time, outside DynamoDB."""
    for _ in range(WARMUP):
        api()
        raw()
        progress.advance()
    api_ms: list[float] = []
    own_ms: list[float] = []
    raw_ms: list[float] = []
    for _ in range(requests):
        with timing_dynamodb_calls(models) as spans:
            api_ms.append(_elapsed_ms(api))
        own_ms.append(api_ms[-1] - waiting_ms(spans))
        raw_ms.append(_elapsed_ms(raw))
        progress.advance()
    return _timing(api_ms), _timing(raw_ms), _timing(own_ms)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Bench:
    def __init__(self, app: Flask, token: str, user_id: str) -> None:
        self.app = app
        # Everything a request's environ shares, built once; `_call` adds the request's own.
        self.environ = EnvironBuilder(headers=[("Authorization", f"Bearer {token}")]).get_environ()
        self.user_id = user_id
        self.models = [model for model, _ in tables(Settings.from_env())]
        self.task_id = self._api_create()["id"]
        self.etag = self._call("GET", f"/tasks/{self.task_id}", expect=200).headers["ETag"]
        # Its own task: the API's PATCHes move the version the raw update would condition on.
        self.raw_task = self.raw_create()

    def _call(
        self,
        method: str,
        path: str,
        *,
        expect: int,
        query: str = "",
        body: dict[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Answer:
        """One request through the WSGI app, as a server or Zappa's handler makes it."""
        data = json.dumps(body).encode() if body is not None else b""
        uri = f"{path}?{query}" if query else path
        environ = {
            **self.environ,
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_URI": uri,
            "RAW_URI": uri,
            "CONTENT_TYPE": "application/json" if body is not None else "",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
        }
        if if_match is not None:
            environ["HTTP_IF_MATCH"] = if_match
        # Werkzeug's plain WSGI call (what its test client wraps): the body read, then closed.
        chunks, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        answer = Answer(int(status.split()[0]), dict(headers), b"".join(chunks))
        if answer.status != expect:
            raise RuntimeError(f"{method} {path}: {answer.status}: {answer.body.decode()}")
        return answer

    # --- through the API ---

    def _api_create(self) -> Any:
        body = {"title": "bench", "priority": "high", "tags": ["bench"], "due_date": "2026-12-31"}
        return json.loads(self._call("POST", "/tasks", body=body, expect=201).body)

    def api_get(self) -> None:
        self._call("GET", f"/tasks/{self.task_id}", expect=200)

    def api_list(self) -> None:
        self._call("GET", "/tasks", query=f"limit={LIST_PAGE}", expect=200)

    def api_patch(self) -> None:
        answer = self._call(
            "PATCH",
            f"/tasks/{self.task_id}",
            body={"title": f"bench {time.perf_counter()}"},
            if_match=self.etag,
            expect=200,
        )
        self.etag = answer.headers["ETag"]

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

    def counted(self, action: Callable[[], object]) -> tuple[Counter[Call], int]:
        with (
            counting_dynamodb_calls(self.models) as calls,
            timing_dynamodb_calls(self.models) as spans,
        ):
            action()
        return calls, round_trips(spans)

    def row(self, operation: str, requests: int, progress: Progress) -> Row:
        api_action: Callable[[], object] = getattr(self, f"api_{operation}", self._api_create)
        raw_action: Callable[[], object] = getattr(self, f"raw_{operation}")
        calls, trips = self.counted(api_action)
        api, raw, own = measure_alternating(api_action, raw_action, requests, progress, self.models)
        return Row(operation, api, raw, own, calls, trips)

    def delete_row(self) -> Row:
        """Counted, not timed: each sample would need a task made for it first."""
        task_id = self._api_create()["id"]
        calls, trips = self.counted(lambda: self._call("DELETE", f"/tasks/{task_id}", expect=204))
        return Row("delete", None, None, None, calls, trips)


def replay_rows(bench: Bench, requests: int, wait_seconds: float = 0.0) -> list[str]:
    """Each operation's own time with DynamoDB answered from a recording of its real calls,
    each answer given after `wait_seconds` asleep (that wait is not counted)."""
    for _ in range(LIST_PAGE):  # the recorded Query answers a full page, as in the timed rows
        bench._api_create()
    recorded: dict[str, str] = {}
    real_call = Connection._make_api_call

    def recording(connection: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        answer = real_call(connection, operation, kwargs)
        recorded.setdefault(operation, json.dumps(answer))
        return answer

    with mock.patch.object(Connection, "_make_api_call", recording):
        bench.api_get()
        bench.api_list()
        bench.api_patch()
    # PATCH the version the recorded GetItem answers, every time, so each takes the usual path.
    pinned = f'"v{json.loads(recorded["GetItem"])["Item"]["version"]["N"]}"'

    def patch() -> None:
        bench.etag = pinned
        bench.api_patch()

    waits: list[Span] = []

    def replayed(_connection: Connection, operation: str, _kwargs: dict[str, Any]) -> Any:
        if wait_seconds:
            asleep = time.perf_counter()
            time.sleep(wait_seconds)
            waits.append((asleep, time.perf_counter()))
        return json.loads(recorded.get(operation, "{}"))  # a transaction answers nothing

    actions = {"create": bench._api_create, "get": bench.api_get, "list": bench.api_list}
    lines = []
    with mock.patch.object(Connection, "_make_api_call", replayed):
        for operation, action in {**actions, "patch": patch}.items():
            for _ in range(WARMUP):
                action()
            wall: list[float] = []
            cpu: list[float] = []
            for _ in range(requests):
                waits.clear()
                started, used = time.perf_counter(), time.process_time()
                action()
                cpu.append((time.process_time() - used) * 1000)
                wall.append((time.perf_counter() - started) * 1000 - waiting_ms(waits))
            wall.sort()
            lines.append(
                f"| {operation} | {statistics.median(wall):.2f} ms | {wall[len(wall) // 10]:.2f} ms"
                f" | {statistics.median(cpu):.2f} ms |"
            )
    return lines


def end_sessions(user_id: str, count: int) -> None:
    """Rows as `count` logouts of other sign-ins would leave, straight to the table (fast)."""
    expires_at = datetime.fromtimestamp(time.time() + SESSION_MAX_SECONDS, UTC)
    with Revocation.batch_write() as batch:
        for _ in range(count):
            batch.save(Revocation(user_id, SESSION + str(uuid.uuid4()), expires_at=expires_at))


def format_calls(calls: Counter[Call]) -> str:
    def short(tables: str) -> str:
        return "+".join(table.rsplit("-", 1)[-1] for table in tables.split("+"))

    return ", ".join(
        f"{count} {operation} {short(table)}" for (operation, table), count in sorted(calls.items())
    )


def _ms(timing: Timing | None, which: str) -> str:
    return "—" if timing is None else f"{getattr(timing, which):.2f} ms"


def table(rows: list[Row], requests: int) -> str:
    lines = [
        f"API latency vs raw PynamoDB: {requests} requests each, alternating, after {WARMUP}"
        " warm-up pairs"
        f" ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]})",
        "",
        "| operation | API median | API p99 | raw median | raw p99 | API's own (median)"
        " | API's own p99 | DynamoDB calls per API request | round trips | Scans |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        scans = sum(n for (operation, _), n in row.calls.items() if operation == "Scan")
        lines.append(
            f"| {row.operation} | {_ms(row.api, 'median_ms')} | {_ms(row.api, 'p99_ms')}"
            f" | {_ms(row.raw, 'median_ms')} | {_ms(row.raw, 'p99_ms')}"
            f" | {_ms(row.own, 'median_ms')} | {_ms(row.own, 'p99_ms')}"
            f" | {format_calls(row.calls)} | {row.round_trips} | {scans} |"
        )
    return "\n".join(lines)


def over_budget(rows: list[Row]) -> list[str]:
    return [
        f"{row.operation}: {row.round_trips} round trips ({format_calls(row.calls)})"
        for row in rows
        if row.round_trips > MAX_ROUND_TRIPS
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.api_latency")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per row")
    parser.add_argument(
        "--ended-sessions", type=int, default=0, help="ended sessions of the user, written first"
    )
    parser.add_argument(
        "--replay", action="store_true", help="the API's own time, DynamoDB answered from records"
    )
    parser.add_argument(
        "--wait-ms", type=float, default=0.0, help="with --replay: each answer after this long"
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
        if args.replay:
            print(
                "API's own time, DynamoDB answered from recorded answers"
                f" after {args.wait_ms:g} ms asleep (not counted): {args.requests} requests each"
                f" ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
                "| operation | wall median | wall p10 | CPU median |\n|---|---:|---:|---:|"
            )
            print("\n".join(replay_rows(bench, args.requests, args.wait_ms / 1000)))
            return 0
        operations = ("create", "get", "list", "patch")
        # A round is one API request and one raw call.
        progress = Progress("rounds", len(operations) * (WARMUP + args.requests))
        rows = [bench.row(operation, args.requests, progress) for operation in operations]
        rows.append(bench.delete_row())
    print(table(rows, args.requests))
    print(f"\nThe user had {args.ended_sessions} ended sessions.")
    failures = over_budget(rows)
    for failure in failures:
        print(f"FAIL: more than {MAX_ROUND_TRIPS} DynamoDB round trip: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
