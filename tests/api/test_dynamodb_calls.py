"""How many DynamoDB calls each request makes: the cost model of docs/adr/0002, held.

A task request waits for ONE round trip, its session check included (ADR 0003): create and
delete are one TransactWriteItems (the session's marks as ConditionChecks, the task, the
owner's task count); get is one BatchGetItem of the task and the marks; patch is one
TransactWriteItems with the task read alongside it, and a list page's Query has the marks
read alongside it (both pairs in flight together). A filtered page may take up to
MAX_QUERIES_PER_PAGE Queries to fill. Other authenticated requests make the check as one
strongly consistent BatchGetItem of two keyed items; one UpdateItem per rate-limit check,
made on the sign-up, sign-in, refresh, confirmation and password endpoints and on no other;
never a Scan.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from flask import Flask

from api.app import tables
from api.auth.revocation import Revocation
from api.config import Settings
from api.storage import connection
from api.tasks.models import Task
from api.tasks.service import FILTERED_READ_ITEMS, MAX_QUERIES_PER_PAGE
from tests.api.conftest import PASSWORD, Account, seed_tasks, unique_email
from tests.dynamodb_calls import TASK_REQUEST_OPERATIONS, Call, counting_dynamodb_calls
from tests.faults import client_error, injected

Counting = Callable[[], AbstractContextManager[Counter[Call]]]
CHANGE = {"current_password": PASSWORD, "new_password": "Battery-Staple-7"}


@pytest.fixture
def settings(app: Flask) -> Settings:
    return Settings.from_env()


@pytest.fixture
def counting(settings: Settings) -> Counting:
    models = [model for model, _ in tables(settings)]
    return lambda: counting_dynamodb_calls(models)


@pytest.fixture
def revocation_check(settings: Settings) -> Counter[Call]:
    return Counter({("BatchGetItem", settings.revoked_tokens_table): 1})


TRANSACTION = Counter({("TransactWriteItems", "(transaction)"): 1})


def on_tasks(settings: Settings, operation: str) -> Counter[Call]:
    return Counter({(operation, settings.tasks_table): 1})


@contextmanager
def sent(operation: str) -> Iterator[list[dict[str, Any]]]:
    """The parameters of each `operation` call made while the block runs."""
    recorded: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        recorded.append(params)

    event = f"before-parameter-build.dynamodb.{operation}"
    client = connection(Task).client
    client.meta.events.register(event, record)
    try:
        yield recorded
    finally:
        client.meta.events.unregister(event, record)


@contextmanager
def in_flight_together() -> Iterator[list[bool]]:
    """Each call made while the block runs waits (up to 5 s) until a second one is sent too:
    the list says, per call, whether one was (True: the two were in flight together)."""
    barrier = threading.Barrier(2, timeout=5)
    met: list[bool] = []

    def wait(**_: Any) -> None:
        try:
            barrier.wait()
            met.append(True)
        except threading.BrokenBarrierError:
            met.append(False)

    client = connection(Task).client
    client.meta.events.register("before-send.dynamodb.*", wait, unique_id="tasklake-together")
    try:
        yield met
    finally:
        client.meta.events.unregister("before-send.dynamodb.*", unique_id="tasklake-together")


def _items(transaction: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (kind, item["TableName"])
        for entry in transaction["TransactItems"]
        for kind, item in entry.items()
    ]


def test_create_is_one_transaction_with_the_count_and_the_session_check(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    with counting() as calls, sent("TransactWriteItems") as transactions:
        alice.create_task(title="counted")

    assert calls == TRANSACTION
    (transaction,) = transactions
    marks = ("ConditionCheck", settings.revoked_tokens_table)
    assert _items(transaction) == [
        marks,
        marks,
        ("Put", settings.tasks_table),
        ("Update", settings.users_table),
    ]


def test_create_with_idempotency_key_is_one_transaction_with_the_record(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    with counting() as calls, sent("TransactWriteItems") as transactions:
        response = alice.request(
            "POST", "/tasks", json={"title": "once"}, headers={"Idempotency-Key": "k-1"}
        )

    assert response.status_code == 201
    assert calls == TRANSACTION
    (transaction,) = transactions
    assert ("Put", settings.idempotency_table) in _items(transaction)


def test_get_one_task_is_one_batch_of_the_task_and_the_marks(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    task = alice.create_task()

    with counting() as calls, sent("BatchGetItem") as batches:
        assert alice.request("GET", f"/tasks/{task['id']}").status_code == 200

    tables = "+".join(sorted([settings.revoked_tokens_table, settings.tasks_table]))
    assert calls == Counter({("BatchGetItem", tables): 1})
    (batch,) = batches
    assert all(request["ConsistentRead"] for request in batch["RequestItems"].values())
    assert len(batch["RequestItems"][settings.revoked_tokens_table]["Keys"]) == 2


def test_delete_is_one_transaction_with_the_count_and_the_session_check(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    task = alice.create_task()

    with counting() as calls, sent("TransactWriteItems") as transactions:
        assert alice.request("DELETE", f"/tasks/{task['id']}").status_code == 204

    assert calls == TRANSACTION
    (transaction,) = transactions
    assert ("Delete", settings.tasks_table) in _items(transaction)
    assert ("Update", settings.users_table) in _items(transaction)


def test_patch_is_one_transaction_with_the_task_read_alongside(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    task = alice.create_task(title="old", tags=["a"])
    path = f"/tasks/{task['id']}"

    with counting() as calls, in_flight_together() as met:
        response = alice.request(
            "PATCH", path, json={"title": "new", "status": "done"}, headers={"If-Match": '"v1"'}
        )

    assert response.status_code == 200, response.json
    assert calls == TRANSACTION + on_tasks(settings, "GetItem")
    assert met == [True, True]
    # The answer is the task as stored, though the transaction returned none of it.
    stored = alice.request("GET", path)
    assert response.json == stored.json
    assert response.headers["ETag"] == stored.headers["ETag"] == '"v2"'


def test_patch_with_if_match_star_checks_first_then_updates(
    alice: Account, counting: Counting, settings: Settings, revocation_check: Counter[Call]
) -> None:
    """`*` names no version a read alongside could be matched to: two calls, one after the
    other (ADR 0002)."""
    task = alice.create_task()

    with counting() as calls:
        response = alice.request(
            "PATCH", f"/tasks/{task['id']}", json={"title": "any"}, headers={"If-Match": "*"}
        )

    assert response.status_code == 200
    assert calls == on_tasks(settings, "UpdateItem") + revocation_check


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=todo",
        "?due_after=2026-01-01&due_before=2026-12-31",
        "?status=todo&due_after=2026-01-01&tag=x",
        "?tag=x&limit=1",
    ],
)
def test_a_list_page_is_one_query_with_the_marks_read_alongside(
    alice: Account,
    *,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
    query: str,
) -> None:
    for day in ("2026-03-01", "2026-06-01", None):
        alice.create_task(due_date=day, tags=["x"])

    with counting() as calls, in_flight_together() as met:
        response = alice.request("GET", f"/tasks{query}")

    assert response.status_code == 200
    assert calls == on_tasks(settings, "Query") + revocation_check
    assert met == [True, True]


def test_the_revocation_check_reads_two_items_by_key_however_many_sessions_ended(
    alice: Account, counting: Counting, revocation_check: Counter[Call], settings: Settings
) -> None:
    """Ended sessions pile up in the user's partition; the check still reads only the mark
    and this session's row, by key, consistently, in one call."""
    for _ in range(3):
        other = alice.client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {other.json['access_token']}"}
        assert alice.client.post("/auth/logout", headers=bearer).status_code == 204
    assert alice.request("POST", "/auth/password/change", json=CHANGE).status_code == 204
    alice.tokens = alice.client.post(
        "/auth/token", json={"email": alice.email, "password": CHANGE["new_password"]}
    ).json
    reads: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        reads.append(params["RequestItems"][settings.revoked_tokens_table])

    event = "before-parameter-build.dynamodb.BatchGetItem"
    client = connection(Revocation).client
    client.meta.events.register(event, record)
    try:
        with counting() as calls:
            assert alice.request("GET", "/users/me").status_code == 200
    finally:
        client.meta.events.unregister(event, record)

    assert calls == Counter({("GetItem", settings.users_table): 1}) + revocation_check
    (read,) = reads
    assert read["ConsistentRead"] is True
    assert len(read["Keys"]) == 2


def _full_flow(alice: Account, admin: Account) -> Iterator[int]:
    task = alice.create_task(title="flow", due_date="2026-05-01", tags=["a"])
    yield alice.request("GET", f"/tasks/{task['id']}").status_code
    yield alice.request(
        "PATCH", f"/tasks/{task['id']}", json={"status": "done"}, headers={"If-Match": '"v1"'}
    ).status_code
    alice.create_task(title="second", status="done", due_date="2026-06-01", tags=["a"])
    for query in ("limit=1", "limit=1&status=done", "limit=1&due_before=2026-12-31", "tag=a"):
        page = alice.request("GET", f"/tasks?{query}")
        yield page.status_code
        if page.json["next_cursor"]:
            yield alice.request(
                "GET", f"/tasks?{query}&cursor={page.json['next_cursor']}"
            ).status_code
    yield alice.request("GET", "/users/me").status_code
    yield alice.request("PATCH", "/users/me", json={"name": "Alice B."}).status_code
    yield admin.request("GET", "/users?limit=2").status_code
    yield admin.request("GET", f"/users/{alice.id}").status_code
    yield alice.request("DELETE", f"/tasks/{task['id']}").status_code
    alice.create_task(title="left for account deletion")
    yield alice.request("DELETE", "/users/me").status_code


@pytest.mark.parametrize("request_line", sorted(TASK_REQUEST_OPERATIONS))
def test_each_task_request_sends_the_operations_its_table_names(
    alice: Account, counting: Counting, request_line: str
) -> None:
    """The table the request diagram is checked against is what the requests send."""
    method, path = request_line.split()
    task = alice.create_task(title="drawn")
    body = {"title": "drawn"} if method in ("POST", "PATCH") else None
    version = {"If-Match": '"v1"'} if method in ("PATCH", "DELETE") else {}
    with counting() as calls:
        response = alice.request(method, path.format(id=task["id"]), json=body, headers=version)

    assert response.status_code < 300, response.json
    operations = sorted(operation for (operation, _), count in calls.items() for _ in range(count))
    assert tuple(operations) == TASK_REQUEST_OPERATIONS[request_line]


def test_no_scan_anywhere_in_a_full_flow(
    alice: Account, admin: Account, counting: Counting
) -> None:
    with counting() as calls:
        statuses = list(_full_flow(alice, admin))

    assert all(status < 400 for status in statuses), statuses
    assert calls, "the counter saw no DynamoDB call at all"
    assert not [call for call in calls if call[0] == "Scan"], calls


def test_a_filtered_page_spends_at_most_its_read_budget(
    alice: Account,
    *,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
) -> None:
    # Nothing matches among more tasks than the budget can read: every Query of the budget
    # is spent, and the cursor continues after the last item read.
    tasks = MAX_QUERIES_PER_PAGE * FILTERED_READ_ITEMS + 10
    seed_tasks(alice, tasks)

    with counting() as calls:
        response = alice.request("GET", "/tasks?tag=nowhere")

    assert response.json["items"] == []
    assert response.json["next_cursor"]
    budget = Counter({("Query", settings.tasks_table): MAX_QUERIES_PER_PAGE})
    assert calls == budget + revocation_check


def test_a_filtered_page_that_fills_stops_reading(
    alice: Account,
    *,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
) -> None:
    # Every other task matches: the first Query of the budget fills the page.
    seed_tasks(alice, 2 * FILTERED_READ_ITEMS)

    with counting() as calls:
        response = alice.request("GET", "/tasks?tag=even&limit=10")

    assert len(response.json["items"]) == 10
    assert calls == on_tasks(settings, "Query") + revocation_check


@pytest.fixture
def address_check(settings: Settings) -> Counter[Call]:
    return Counter({("UpdateItem", settings.rate_limits_table): 1})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/refresh", {"refresh_token": "not-a-refresh-token"}),
        ("/auth/password/reset", {"email": "nobody@example.com", "code": "1",
                                  "new_password": "Battery-Staple-7"}),
        ("/users/confirm", {"email": "nobody@example.com", "code": "123456"}),
    ],
)  # fmt: skip
def test_an_unauthenticated_endpoint_costs_one_update_for_its_address_limit(
    client: Any, counting: Counting, address_check: Counter[Call], path: str, body: Any
) -> None:
    with counting() as calls:
        response = client.post(path, json=body)

    assert response.status_code < 500, response.json
    assert calls == address_check


@pytest.mark.parametrize("path", ["/auth/password/forgot", "/users/confirm/resend"])
def test_an_endpoint_that_mails_a_code_adds_the_requesters_and_the_recipients_budget(
    client: Any, counting: Counting, address_check: Counter[Call], path: str
) -> None:
    with counting() as calls:
        response = client.post(path, json={"email": "nobody@example.com"})

    assert response.status_code == 202, response.json
    assert calls == Counter(dict.fromkeys(address_check, 3))  # an IPv4 client: no /56, /48


def test_sign_up_mailing_no_code_is_its_address_check_and_the_profile_write(
    client: Any, counting: Counting, settings: Settings, address_check: Counter[Call]
) -> None:
    body = {"email": unique_email(), "password": PASSWORD, "name": "Counted"}
    with counting() as calls:
        assert client.post("/users", json=body).status_code == 201

    # The test engines confirm at once (make run's setting): no code, no mail budget.
    assert calls == address_check + Counter({("PutItem", settings.users_table): 1})


def test_sign_in_adds_the_email_reservations_given_back_on_success(
    alice: Account, counting: Counting, settings: Settings, address_check: Counter[Call]
) -> None:
    credentials = {"email": alice.email, "password": PASSWORD}
    with counting() as calls:
        assert alice.client.post("/auth/token", json=credentials).status_code == 200

    # From an address the email signed in from before (the fixture's): is it known, the
    # address check and this address's failure slot and its return; then the address and
    # the device are remembered and the refresh token's hash stored for logout.
    table = settings.rate_limits_table
    known = Counter({("GetItem", table): 1, ("PutItem", table): 3})
    assert calls == Counter(dict.fromkeys(address_check, 1 + 1 + 1)) + known


def test_password_change_is_the_revocation_check_its_limit_and_two_marks(
    alice: Account,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
    address_check: Counter[Call],
) -> None:
    """One mark before Cognito changes the password, one after (api/users/service.py)."""
    with counting() as calls:
        assert alice.request("POST", "/auth/password/change", json=CHANGE).status_code == 204

    marks = Counter({("UpdateItem", settings.revoked_tokens_table): 2})
    assert calls == revocation_check + address_check + marks


def test_keys_a_batch_left_unprocessed_are_sent_again(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    """BatchGetItem may leave keys unprocessed when a table throttles; they are read again.
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html"""
    task = alice.create_task(title="asked twice")
    client = connection(Task).client
    with sent("BatchGetItem") as batches:
        assert alice.request("GET", f"/tasks/{task['id']}").status_code == 200
    (asked,) = batches
    unprocessed = {"Responses": {}, "UnprocessedKeys": asked["RequestItems"]}

    with (
        counting() as calls,
        injected(client, "dynamodb", "BatchGetItem", response=unprocessed, times=1),
    ):
        response = alice.request("GET", f"/tasks/{task['id']}")

    assert response.status_code == 200
    assert response.json["title"] == "asked twice"
    tables = "+".join(sorted([settings.revoked_tokens_table, settings.tasks_table]))
    assert calls == Counter({("BatchGetItem", tables): 2})


def test_a_write_that_conflicts_is_sent_again(
    alice: Account, counting: Counting, settings: Settings
) -> None:
    """A user's writes share the mark items, so two at once may conflict: the loser is sent
    again, not answered 503.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
    """
    conflict = client_error(
        "TransactionCanceledException",
        "TransactWriteItems",
        CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}]
        + [{"Code": "None"}] * 2,
    )
    client = connection(Task).client
    with (
        counting() as calls,
        injected(client, "dynamodb", "TransactWriteItems", error=conflict, times=1),
    ):
        created = alice.request("POST", "/tasks", json={"title": "second try"})

    assert created.status_code == 201, created.json
    assert calls == TRANSACTION + TRANSACTION
    stored = alice.request("GET", f"/tasks/{created.json['id']}")
    assert stored.json["title"] == "second try"
