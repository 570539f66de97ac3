"""Count the DynamoDB calls PynamoDB makes, with botocore's event hooks.

The models share one Connection (`api.storage.bind_tables`), transactions included;
a handler registered on the `before-parameter-build.dynamodb.*` event of each
distinct client sees every API call (once per call, retries excepted) with its
parameters, so calls are counted per operation and table:
`("GetItem", "tasklake-dev-tasks")`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.models import Model

from api.storage import connection

EVENT = "before-parameter-build.dynamodb.*"
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
