"""Count the DynamoDB calls PynamoDB makes, and the round trips they cost, with botocore's
event hooks.

The models share one Connection (`api.storage.bind_tables`), transactions included;
a handler registered on the `before-parameter-build.dynamodb.*` event of each
distinct client sees every API call (once per call, retries excepted) with its
parameters, so calls are counted per operation and table:
`("GetItem", "tasklake-dev-tasks")`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.models import Model

from api.storage import connection

EVENT = "before-parameter-build.dynamodb.*"

# The DynamoDB operations each task request sends, in one round trip, its session check
# included (ADR 0003): held to what the requests really send by
# tests/api/test_dynamodb_calls.py, and to docs/diagrams/request-sequence.mmd by
# tests/docs/test_diagrams.py. (PATCH with `If-Match: *` differs: see ADR 0002.)
TASK_REQUEST_OPERATIONS: dict[str, tuple[str, ...]] = {
    "POST /tasks": ("TransactWriteItems",),
    "GET /tasks": ("BatchGetItem", "Query"),
    "GET /tasks/{id}": ("BatchGetItem",),
    "PATCH /tasks/{id}": ("GetItem", "TransactWriteItems"),
    "DELETE /tasks/{id}": ("TransactWriteItems",),
}
HANDLER_ID = "tasklake-dynamodb-call-counter"
Call = tuple[str, str]


def _clients(models: Iterable[type[Model]]) -> list[Any]:
    clients = {id(client): client for client in (connection(m).client for m in models)}
    return list(clients.values())


@contextmanager
def counting_dynamodb_calls(models: Iterable[type[Model]]) -> Iterator[Counter[Call]]:
    """Yields a Counter of (operation, table) → calls made while the block runs.

    A transaction counts once, under the table "(transaction)"; a batch once, under the
    tables it names, joined by "+".
    """
    calls: Counter[Call] = Counter()

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        batch = "+".join(sorted(params.get("RequestItems", ())))
        calls[(operation, params.get("TableName") or batch or "(transaction)")] += 1

    clients = _clients(models)
    for client in clients:
        client.meta.events.register(EVENT, record, unique_id=HANDLER_ID)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister(EVENT, unique_id=HANDLER_ID)


Span = tuple[float, float]


def round_trips(spans: Iterable[Span]) -> int:
    """How many round trips one waits for: calls in flight together are one wait, so a call
    begins a new one only when it starts after every earlier call has answered."""
    waits = 0
    answered = float("-inf")
    for start, end in sorted(spans):
        if start > answered:
            waits += 1
            answered = end
        else:
            answered = max(answered, end)
    return waits


@contextmanager
def timing_dynamodb_calls(models: Iterable[type[Model]]) -> Iterator[list[Span]]:
    """Yields the (sent, answered) perf_counter times of each call made while the block runs."""
    spans: list[Span] = []
    started: dict[int, float] = {}
    lock = threading.Lock()

    def sent(**_: Any) -> None:
        started[threading.get_ident()] = time.perf_counter()

    def answered(**_: Any) -> None:
        start = started.pop(threading.get_ident(), None)
        if start is not None:
            with lock:
                spans.append((start, time.perf_counter()))

    hooks = [
        ("before-parameter-build.dynamodb.*", sent),
        ("after-call.dynamodb.*", answered),
        ("after-call-error.dynamodb.*", answered),
    ]
    clients = _clients(models)
    for client in clients:
        for event, handler in hooks:
            client.meta.events.register(event, handler, unique_id=f"{HANDLER_ID}-{event}")
    try:
        yield spans
    finally:
        for client in clients:
            for event, _ in hooks:
                client.meta.events.unregister(event, unique_id=f"{HANDLER_ID}-{event}")
