"""What every PynamoDB model shares: timestamps, table binding, timeouts.

Endpoints are never set here: botocore reads `AWS_ENDPOINT_URL_DYNAMODB`
itself, so the same code talks to DynamoDB Local and to AWS.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.connection import Connection
from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import STRING
from pynamodb.exceptions import GetError, TableError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from api import deadline, upstream

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC, so stored timestamps also sort as strings."""
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


class IsoDateTimeAttribute(Attribute[datetime]):
    """A UTC timestamp stored as `2026-11-25T09:30:00.123456Z`."""

    attr_type = STRING

    def serialize(self, value: datetime) -> str:
        return iso(value)

    def deserialize(self, value: str) -> datetime:
        # fromisoformat reads the `Z` form since Python 3.11, ~50x faster than strptime:
        # a 20-task page parses 60 of these.
        return datetime.fromisoformat(value)


class BaseModel(Model):
    class Meta:
        abstract = True
        # Fail fast: a Lambda that waits 60 s on a sick endpoint helps nobody (api/deadline.py).
        connect_timeout_seconds = deadline.DYNAMODB.connect_timeout
        read_timeout_seconds = deadline.DYNAMODB.read_timeout
        max_retry_attempts = deadline.DYNAMODB.attempts - 1


class _DeadlineConnection(Connection):
    """PynamoDB's connection whose botocore client checks the request deadline (api/deadline.py).

    The guard goes on whichever client PynamoDB hands out, when it hands it out: the client is
    built on the first DynamoDB call, not when the app loads (building it costs ~50 ms of a cold
    start that `/openapi.json` and a 401 never need), and PynamoDB builds a new one when the old
    one lost its credentials, which must be guarded too.
    """

    @property
    def client(self) -> Any:
        # One thread builds it: a request's first calls are sent from two threads at once
        # (`alongside`), and each would otherwise build a botocore session and client of its
        # own (~35 ms apiece, both on a signed-in cold start's first list or PATCH).
        with _building_client:
            client = super().client
            if client is not getattr(self, "_guarded_client", None):
                self._guarded_client = deadline.guard(client, deadline.DYNAMODB)
        return client


_building_client = threading.Lock()


def bind_tables(tables: Iterable[tuple[type[Model], str]], region: str) -> None:
    """Point each model at its table for this deployment (names come from settings).

    All the models then share one connection, so the process builds one botocore
    session and DynamoDB client, not one per table: each costs ~35 ms of the
    first request that touches its table (an authenticated GET /tasks reads two).
    """
    shared: Connection | None = None
    for model, table_name in tables:
        model.Meta.table_name = table_name
        model.Meta.region = region
        # A cached connection remembers the old table; drop it. PynamoDB keeps it in a private
        # class attribute and offers no public rebinding (tests/api/test_private_api_pins.py).
        model._connection = None
        table = model._get_connection()
        if shared is None:
            shared = table.connection
            # PynamoDB builds its Connection itself and offers no hook to pass another class;
            # the subclass adds only a property, so re-classing the instance is safe
            # (tests/api/test_deadline.py pins that the client is lazy and guarded).
            shared.__class__ = _DeadlineConnection
        else:
            # A table two models share (api/auth/refresh_tokens.py) is described once.
            with suppress(ValueError):
                shared.add_meta_table(table.get_meta_table())
            table.connection = shared


def connection(model: type[Model]) -> Connection:
    """The DynamoDB connection the models share (for transactions across tables)."""
    # Private in PynamoDB, which has no public handle on a model's connection (pinned).
    shared: Connection = model._get_connection().connection
    return shared


def conditional_update(
    item: Model, actions: list[Action], *, condition: Condition, **options: Any
) -> bool:
    """One conditional UpdateItem; False when its condition refused it, an expected outcome
    the caller answers. Every other failure raises. (Writes inside a transaction say the same
    through their cancellation reasons: api/tasks/writes.py.)"""
    try:
        item.update(actions, condition=condition, **options)
    except UpdateError as error:
        if upstream.error_code(error) != upstream.CONDITION_FAILED:
            raise
        return False
    return True


def key_of(*parts: tuple[Attribute[str], str]) -> dict[str, Any]:
    """A DynamoDB key from (key attribute, string value) pairs, for calls PynamoDB lacks."""
    return {attribute.attr_name: {STRING: value} for attribute, value in parts}


# BatchGetItem may leave keys unprocessed when a table throttles; they are sent again after
# this backoff (doubling), within the request's deadline (api/deadline.py).
UNPROCESSED_BACKOFF_SECONDS = 0.025


def get_together(keys: Mapping[type[Model], list[dict[str, Any]]]) -> dict[str, list[Any]]:
    """Items of several tables by key in ONE strongly consistent BatchGetItem (raw items by
    table name): one round trip where a GetItem per table would take one each."""
    request_items = {
        model.Meta.table_name: {"Keys": model_keys, "ConsistentRead": True}
        for model, model_keys in keys.items()
    }
    found: dict[str, list[Any]] = {table: [] for table in request_items}
    shared = connection(next(iter(keys)))
    backoff = UNPROCESSED_BACKOFF_SECONDS
    while True:
        try:
            data = shared.dispatch("BatchGetItem", {"RequestItems": request_items})
        except BOTOCORE_EXCEPTIONS as error:
            raise GetError(f"Failed to batch get items: {error}", error) from error
        for table, items in data.get("Responses", {}).items():
            found[table] += items
        request_items = data.get("UnprocessedKeys") or {}
        if not request_items:
            return found
        time.sleep(backoff)
        backoff *= 2


# Threads for a second call sent while the request's thread makes its first: Lambda runs one
# request at a time per process, so a few cover the test servers' concurrency too.
_alongside = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dynamodb-alongside")


def alongside[T](call: Callable[[], T]) -> Future[T]:
    """Start `call` on another thread now, in this request's context (its deadline included):
    two independent calls in flight together cost one round trip of waiting, not two."""
    return _alongside.submit(contextvars.copy_context().run, call)


def create_missing_tables(models: Iterable[type[Model]], **table_options: Any) -> list[str]:
    """Create the tables that do not exist yet (local stack and tests; AWS uses CloudFormation)."""
    created = []
    for model in models:
        if not model.exists():
            try:
                model.create_table(billing_mode="PAY_PER_REQUEST", wait=True, **table_options)
            except TableError as error:
                # On a busy machine the first CreateTable can outlast the read timeout yet
                # succeed; botocore's retry is then refused as a table that already exists.
                if upstream.error_code(error) != "ResourceInUseException":
                    raise
                _wait_until_active(model)
            created.append(model.Meta.table_name)
    return created


def _wait_until_active(model: type[Model]) -> None:
    while True:
        table = model.describe_table()
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table["TableStatus"] == "ACTIVE" and all(
            index["IndexStatus"] == "ACTIVE" for index in indexes
        ):
            return
        time.sleep(0.1)


# An item as DynamoDB returns it: attribute name -> attribute value (`{"S": "..."}`).
StoredItem = dict[str, Any]


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    last_key: dict[str, Any] | None


def filled_page(
    query: Callable[..., ResultIterator[Any]],
    *,
    limit: int,
    start_key: dict[str, Any] | None,
    key_names: Iterable[str],
    max_queries: int,
) -> Page[StoredItem]:
    """Query pages until `limit` items came back, the data ended, or `max_queries` were sent.

    The cursor continues exactly after the last item returned: DynamoDB's LastEvaluatedKey
    when every item read was returned or filtered out, else the key of the last item kept.
    The items are returned as stored: a page is written from them without building models.
    """
    # `page_iter` (PynamoDB's raw pages, undocumented) gives one Query's items and its own
    # LastEvaluatedKey; the public iterator would fetch on. Pinned by test_private_api_pins.py.
    raw_items: list[StoredItem] = []
    last_key = start_key
    for _ in range(max_queries):
        results = query(last_evaluated_key=last_key)
        page: dict[str, Any] = next(results.page_iter, {})
        raw_items += page.get("Items", [])
        last_key = results.page_iter.last_evaluated_key
        if len(raw_items) >= limit or not last_key:
            break
    if len(raw_items) > limit:
        raw_items = raw_items[:limit]
        last_key = {name: raw_items[-1][name] for name in key_names}
    return Page(raw_items, last_key)


def one_page[M: Model](results: ResultIterator[M], model: type[M]) -> Page[M]:
    """Exactly one Query: PynamoDB's iterator alone would keep fetching to fill a page."""
    raw: dict[str, Any] = next(results.page_iter, {})
    items = [model.from_raw_data(item) for item in raw.get("Items", [])]
    return Page(items, results.page_iter.last_evaluated_key)
