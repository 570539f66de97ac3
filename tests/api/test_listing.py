"""GET /tasks: cursor pagination, filters and their cursors."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from api.app import create_app
from api.config import Settings
from api.tasks.models import Task
from tests.api.conftest import Account, seed_tasks


def _walk(account: Account, **query: object) -> tuple[list[dict[str, object]], int]:
    items: list[dict[str, object]] = []
    pages = 0
    cursor = None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = account.request("GET", "/tasks", query_string=params)
        assert response.status_code == 200, response.json
        pages += 1
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return items, pages


def test_following_next_cursor_returns_every_task_exactly_once_newest_first(
    alice: Account,
) -> None:
    ids = seed_tasks(alice, 301)

    items, pages = _walk(alice, limit=25)

    returned = [item["id"] for item in items]
    assert returned == list(reversed(ids))
    assert pages >= 13


def test_default_page_size_is_20(alice: Account) -> None:
    seed_tasks(alice, 25)
    page = alice.request("GET", "/tasks").json
    assert len(page["items"]) == 20
    assert page["next_cursor"]


@pytest.mark.parametrize("limit", [0, -1, 101, "ten"])
def test_limit_out_of_range_is_422(alice: Account, limit: object) -> None:
    response = alice.request("GET", "/tasks", query_string={"limit": limit})
    assert response.status_code == 422
    assert "limit" in response.json["errors"]["query"]


@pytest.mark.parametrize("cursor", ["garbage", "!!!", base64.urlsafe_b64encode(b"x" * 40).decode()])
def test_garbage_cursor_is_400(alice: Account, cursor: str) -> None:
    response = alice.request("GET", "/tasks", query_string={"cursor": cursor})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_tampered_cursor_is_400(alice: Account) -> None:
    seed_tasks(alice, 3)
    cursor = alice.request("GET", "/tasks", query_string={"limit": 1}).json["next_cursor"]
    kid, _, token = cursor.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01
    tampered = f"{kid}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"

    assert alice.request("GET", "/tasks", query_string={"cursor": tampered}).status_code == 400


def test_a_cursor_works_only_for_its_owner_and_filters(alice: Account, bob: Account) -> None:
    seed_tasks(alice, 3)
    cursor = alice.request("GET", "/tasks", query_string={"limit": 1}).json["next_cursor"]

    assert bob.request("GET", "/tasks", query_string={"cursor": cursor}).status_code == 400
    other_filter = {"cursor": cursor, "status": "done"}
    assert alice.request("GET", "/tasks", query_string=other_filter).status_code == 400
    assert alice.request("GET", "/tasks", query_string={"cursor": cursor}).status_code == 200


def test_status_filter_returns_only_that_status_completely(alice: Account) -> None:
    ids = seed_tasks(alice, 60)
    items, _ = _walk(alice, status="done", limit=7)

    assert {item["status"] for item in items} == {"done"}
    assert [item["id"] for item in items] == [ids[n] for n in reversed(range(60)) if n % 3 == 2]


def test_due_date_range_filter(alice: Account) -> None:
    seed_tasks(alice, 90)
    items, _ = _walk(alice, due_after="2026-01-10", due_before="2026-01-19", limit=8)

    due = [item["due_date"] for item in items]
    assert len(due) == len([n for n in range(90) if 9 <= n % 60 <= 18])
    assert all("2026-01-10" <= d <= "2026-01-19" for d in due)
    assert due == sorted(due)  # ordered by due date when filtering on it


def test_tag_and_combined_filters(alice: Account) -> None:
    seed_tasks(alice, 30)
    tagged, _ = _walk(alice, tag="even", limit=4)
    assert len(tagged) == 15
    assert all(item["tags"] == ["even"] for item in tagged)

    combined, _ = _walk(alice, status="todo", tag="even", due_before="2026-01-20", limit=3)
    expected = [n for n in range(30) if n % 3 == 0 and n % 2 == 0 and n % 60 <= 19]
    assert len(combined) == len(expected)


def test_reversed_due_range_is_422(alice: Account) -> None:
    response = alice.request(
        "GET", "/tasks", query_string={"due_after": "2026-02-01", "due_before": "2026-01-01"}
    )
    assert response.status_code == 422


def test_listing_is_scoped_to_the_caller(alice: Account, bob: Account) -> None:
    seed_tasks(alice, 5)
    assert bob.request("GET", "/tasks").json == {"items": [], "next_cursor": None}


def test_cursor_keys_rotate_without_breaking_outstanding_cursors(
    engines: dict[str, str], alice: Account
) -> None:
    seed_tasks(alice, 3)

    def cursor_from(secret: str, cursor: str | None = None) -> tuple[int, str | None]:
        app = create_app(replace(Settings.from_env(engines), cursor_secret=secret))
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = app.test_client().get("/tasks", query_string=query, headers=alice.auth)
        return page.status_code, (page.json or {}).get("next_cursor")

    _, old = cursor_from("k1:old-secret")
    status, new = cursor_from("k2:new-secret,k1:old-secret", old)  # k2 signs, k1 still verifies
    assert status == 200
    assert new
    assert new.startswith("k2.")
    assert cursor_from("k2:new-secret", new)[0] == 200
    assert cursor_from("k2:new-secret", old)[0] == 400  # k1 retired


def _seed_rare(account: Account, count: int, every: int) -> list[str]:
    """`count` tasks, every `every`-th tagged "rare"; returns the rare ids, newest first."""
    ids = seed_tasks(account, count)
    with Task.batch_write() as batch:
        for task in Task.batch_get([(account.id, i) for i in ids[::every]]):
            task.tags = ["rare"]
            batch.save(task)
    return list(reversed(ids[::every]))


def test_a_rare_tag_fills_its_pages_and_returns_every_match_exactly_once(
    alice: Account,
) -> None:
    rare = _seed_rare(alice, 1200, every=97)  # 13 matches, ~1 in 100 items read

    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {"tag": "rare", "limit": 5, **({"cursor": cursor} if cursor else {})}
        page = alice.request("GET", "/tasks", query_string=query).json
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [task_id for page in pages for task_id in page] == rare
    assert [len(page) for page in pages[:2]] == [5, 5]  # full, not ~0.05 per Query read
    assert len(pages) <= 4
