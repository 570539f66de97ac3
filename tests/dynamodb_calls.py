"""Count the DynamoDB calls PynamoDB makes, with botocore's event hooks.

Each PynamoDB model owns a Connection with its own botocore client (and the task
service keeps one more for transactions); a handler registered on each client's
`before-parameter-build.dynamodb.*` event sees every API call it makes (once per
call, retries excepted) with its parameters, so calls are counted per operation
and table: `("GetItem", "tasklake-dev-tasks")`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.models import Model

from api.tasks import service as task_service

EVENT = "before-parameter-build.dynamodb.*"
HANDLER_ID = "tasklake-dynamodb-call-counter"
Call = tuple[str, str]


def _clients(models: Iterable[type[Model]]) -> list[Any]:
    clients = [model._get_connection().connection.client for model in models]
    clients.append(task_service._transactions().client)
    return clients


@contextmanager
def counting_dynamodb_calls(models: Iterable[type[Model]]) -> Iterator[Counter[Call]]:
    """Yields a Counter of (operation, table) → calls made while the block runs.

    A transaction counts once, under the table "(transaction)".
    """
    calls: Counter[Call] = Counter()

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        calls[(operation, params.get("TableName", "(transaction)"))] += 1

    clients = _clients(models)
    for client in clients:
        client.meta.events.register(EVENT, record, unique_id=HANDLER_ID)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister(EVENT, unique_id=HANDLER_ID)
