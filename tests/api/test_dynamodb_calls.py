"""How many DynamoDB calls each request makes: the cost model of docs/adr/0002, held.

One call on the task table per single-task request, plus one UpdateItem of the owner's task
count when a task is created or deleted (api/tasks/quota.py), one Query per list page
selected by keys alone (a filtered page may take up to MAX_QUERIES_PER_PAGE to fill),
plus the revocation check every authenticated request makes (exactly one strongly
consistent BatchGetItem of two keyed items); one UpdateItem per rate-limit check, made on
the sign-up, sign-in, refresh, confirmation and password endpoints and on no other; never
a Scan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from flask import Flask

from api.app import tables
from api.auth.revocation import Revocation
from api.config import Settings
from api.storage import connection
from api.tasks.service import FILTERED_READ_ITEMS, MAX_QUERIES_PER_PAGE
from tests.api.conftest import PASSWORD, Account, seed_tasks, unique_email
from tests.dynamodb_calls import Call, counting_dynamodb_calls

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


@pytest.fixture
def task_count(settings: Settings) -> Counter[Call]:
    return Counter({("UpdateItem", settings.users_table): 1})


def on_tasks(settings: Settings, operation: str) -> Counter[Call]:
    return Counter({(operation, settings.tasks_table): 1})


def test_create_is_one_put_and_the_count(
    alice: Account,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
    task_count: Counter[Call],
) -> None:
    with counting() as calls:
        alice.create_task(title="counted")

    assert calls == on_tasks(settings, "PutItem") + task_count + revocation_check


def test_create_with_idempotency_key_is_one_transaction_and_the_count(
    alice: Account,
    counting: Counting,
    revocation_check: Counter[Call],
    task_count: Counter[Call],
) -> None:
    with counting() as calls:
        response = alice.request(
            "POST", "/tasks", json={"title": "once"}, headers={"Idempotency-Key": "k-1"}
        )

    assert response.status_code == 201
    transaction = Counter({("TransactWriteItems", "(transaction)"): 1})
    assert calls == transaction + task_count + revocation_check


@pytest.mark.parametrize(
    ("method", "operation", "extra"),
    [
        ("GET", "GetItem", {}),
        ("PATCH", "UpdateItem", {"json": {"title": "new"}, "headers": {"If-Match": '"v1"'}}),
        ("DELETE", "DeleteItem", {}),
    ],
)
def test_one_task_is_one_call(
    alice: Account,
    *,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
    method: str,
    operation: str,
    extra: dict[str, Any],
) -> None:
    task = alice.create_task()

    with counting() as calls:
        response = alice.request(method, f"/tasks/{task['id']}", **extra)

    assert response.status_code < 300, response.json
    counted = Counter({("UpdateItem", settings.users_table): 1 if method == "DELETE" else 0})
    assert calls == on_tasks(settings, operation) + counted + revocation_check


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
def test_a_list_page_is_one_query_when_it_fills_or_the_data_ends(
    alice: Account,
    *,
    counting: Counting,
    settings: Settings,
    revocation_check: Counter[Call],
    query: str,
) -> None:
    for day in ("2026-03-01", "2026-06-01", None):
        alice.create_task(due_date=day, tags=["x"])

    with counting() as calls:
        response = alice.request("GET", f"/tasks{query}")

    assert response.status_code == 200
    assert calls == on_tasks(settings, "Query") + revocation_check


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
