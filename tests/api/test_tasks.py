"""Tasks: CRUD, validation, ETags, idempotent create and per-user isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ulid import ULID

from api.idempotency import IdempotencyRecord
from api.storage import utcnow
from tests.api.conftest import Account


def test_create_returns_the_task_with_location_and_etag(alice: Account) -> None:
    response = alice.request(
        "POST",
        "/tasks",
        json={
            "title": "Write the ADR",
            "description": "Why DynamoDB",
            "priority": "high",
            "due_date": "2026-12-01",
            "tags": ["docs", "adr", "docs"],
        },
    )

    assert response.status_code == 201
    task = response.json
    assert ULID.from_str(task["id"])  # a real ULID
    assert response.headers["Location"] == f"/tasks/{task['id']}"
    assert response.headers["ETag"] == '"v1"'
    assert task["title"] == "Write the ADR"
    assert task["status"] == "todo"
    assert task["priority"] == "high"
    assert task["due_date"] == "2026-12-01"
    assert task["tags"] == ["docs", "adr"]
    assert task["completed_at"] is None
    assert task["created_at"] == task["updated_at"]
    assert task["created_at"].endswith("Z")
    assert "user_id" not in task
    assert "version" not in task


def test_defaults_for_a_minimal_task(alice: Account) -> None:
    task = alice.create_task(title="Minimal")
    assert (task["status"], task["priority"], task["tags"], task["due_date"]) == (
        "todo",
        "medium",
        [],
        None,
    )


def test_created_done_task_has_completed_at(alice: Account) -> None:
    task = alice.create_task(status="done")
    assert task["completed_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "x" * 5001}, "description"),
        ({"title": "ok", "status": "finished"}, "status"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "due_date": "31/12/2026"}, "due_date"),
        ({"title": "ok", "tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"title": "ok", "tags": ["x" * 33]}, "tags"),
        ({"title": "ok", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "id"),
        ({"title": "ok", "user_id": "someone-else"}, "user_id"),
        ({"title": "ok", "created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"title": "ok", "completed_at": "2026-01-01T00:00:00Z"}, "completed_at"),
        ({"title": "ok", "version": 7}, "version"),
        ({"title": "ok", "colour": "red"}, "colour"),
    ],
)
def test_invalid_or_server_owned_fields_are_422(
    alice: Account, body: dict[str, object], field: str
) -> None:
    response = alice.request("POST", "/tasks", json=body)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.json
    assert problem["status"] == 422
    assert field in problem["errors"]["json"]


def test_get_returns_etag_and_honours_if_none_match(alice: Account) -> None:
    task = alice.create_task()

    first = alice.request("GET", f"/tasks/{task['id']}")
    assert first.status_code == 200
    assert first.json == task
    etag = first.headers["ETag"]

    again = alice.request("GET", f"/tasks/{task['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_patch_requires_if_match(alice: Account) -> None:
    task = alice.create_task()

    response = alice.request("PATCH", f"/tasks/{task['id']}", json={"title": "new"})

    assert response.status_code == 428
    assert response.content_type == "application/problem+json"
    assert alice.request("GET", f"/tasks/{task['id']}").json["title"] == "a task"


def test_patch_with_current_etag_updates_and_returns_new_etag(alice: Account) -> None:
    task = alice.create_task(tags=["a"])

    response = alice.request(
        "PATCH",
        f"/tasks/{task['id']}",
        json={"title": "renamed", "tags": ["b", "c"], "due_date": "2027-01-02"},
        headers={"If-Match": '"v1"'},
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"v2"'
    body = response.json
    assert (body["title"], body["tags"], body["due_date"]) == ("renamed", ["b", "c"], "2027-01-02")
    assert body["updated_at"] > task["updated_at"]
    assert body["created_at"] == task["created_at"]
    assert alice.request("GET", f"/tasks/{task['id']}").json == body


def test_patch_with_stale_etag_is_412_and_changes_nothing(alice: Account) -> None:
    task = alice.create_task()
    alice.request(
        "PATCH", f"/tasks/{task['id']}", json={"title": "v2"}, headers={"If-Match": '"v1"'}
    )

    stale = alice.request(
        "PATCH", f"/tasks/{task['id']}", json={"title": "lost"}, headers={"If-Match": '"v1"'}
    )

    assert stale.status_code == 412
    assert stale.content_type == "application/problem+json"
    assert alice.request("GET", f"/tasks/{task['id']}").json["title"] == "v2"


def test_patch_with_unparseable_etag_is_412(alice: Account) -> None:
    task = alice.create_task()
    response = alice.request(
        "PATCH", f"/tasks/{task['id']}", json={"title": "x"}, headers={"If-Match": '"banana"'}
    )
    assert response.status_code == 412


def test_patch_clears_nullable_fields(alice: Account) -> None:
    task = alice.create_task(description="d", due_date="2026-12-24", tags=["x"])

    body = alice.request(
        "PATCH",
        f"/tasks/{task['id']}",
        json={"description": None, "due_date": None, "tags": []},
        headers={"If-Match": '"v1"'},
    ).json

    assert (body["description"], body["due_date"], body["tags"]) == (None, None, [])


@pytest.mark.parametrize(
    "body",
    [{}, {"title": None}, {"id": "x"}, {"version": 3}, {"status": "nope"}, {"title": ""}],
)
def test_patch_rejects_bad_bodies(alice: Account, body: dict[str, object]) -> None:
    task = alice.create_task()
    response = alice.request(
        "PATCH", f"/tasks/{task['id']}", json=body, headers={"If-Match": '"v1"'}
    )
    assert response.status_code == 422


def test_completing_sets_and_reopening_clears_completed_at(alice: Account) -> None:
    task = alice.create_task()
    path = f"/tasks/{task['id']}"

    done = alice.request("PATCH", path, json={"status": "done"}, headers={"If-Match": '"v1"'})
    assert done.json["completed_at"] is not None
    completed_at = done.json["completed_at"]

    still_done = alice.request(
        "PATCH", path, json={"title": "still done"}, headers={"If-Match": '"v2"'}
    )
    assert still_done.json["completed_at"] == completed_at

    done_again = alice.request("PATCH", path, json={"status": "done"}, headers={"If-Match": '"v3"'})
    assert done_again.json["completed_at"] == completed_at

    reopened = alice.request(
        "PATCH", path, json={"status": "in_progress"}, headers={"If-Match": '"v4"'}
    )
    assert reopened.json["completed_at"] is None
    assert reopened.json["status"] == "in_progress"


def test_if_match_star_accepts_any_version(alice: Account) -> None:
    task = alice.create_task()
    response = alice.request(
        "PATCH", f"/tasks/{task['id']}", json={"title": "any"}, headers={"If-Match": "*"}
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"v2"'


def test_delete_without_if_match_removes_the_task(alice: Account) -> None:
    task = alice.create_task()

    assert alice.request("DELETE", f"/tasks/{task['id']}").status_code == 204
    assert alice.request("GET", f"/tasks/{task['id']}").status_code == 404
    assert alice.request("DELETE", f"/tasks/{task['id']}").status_code == 404


def test_delete_honours_if_match_when_sent(alice: Account) -> None:
    task = alice.create_task()
    path = f"/tasks/{task['id']}"
    alice.request("PATCH", path, json={"title": "v2"}, headers={"If-Match": '"v1"'})

    assert alice.request("DELETE", path, headers={"If-Match": '"v1"'}).status_code == 412
    assert alice.request("GET", path).status_code == 200
    assert alice.request("DELETE", path, headers={"If-Match": '"v2"'}).status_code == 204
    assert alice.request("GET", path).status_code == 404


def test_unknown_task_is_404(alice: Account) -> None:
    missing = str(ULID())
    assert alice.request("GET", f"/tasks/{missing}").status_code == 404
    response = alice.request(
        "PATCH", f"/tasks/{missing}", json={"title": "x"}, headers={"If-Match": '"v1"'}
    )
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_another_users_task_is_404_for_every_method_and_stays_untouched(
    alice: Account, bob: Account
) -> None:
    task = alice.create_task(title="Alice's secret")
    path = f"/tasks/{task['id']}"

    assert bob.request("GET", path).status_code == 404
    assert (
        bob.request(
            "PATCH", path, json={"title": "pwned"}, headers={"If-Match": '"v1"'}
        ).status_code
        == 404
    )
    assert (
        bob.request("PATCH", path, json={"title": "pwned"}, headers={"If-Match": "*"}).status_code
        == 404
    )
    assert bob.request("DELETE", path).status_code == 404
    assert bob.request("DELETE", path, headers={"If-Match": '"v1"'}).status_code == 404
    assert all(item["id"] != task["id"] for item in bob.request("GET", "/tasks").json["items"])

    mine = alice.request("GET", path)
    assert mine.status_code == 200
    assert mine.json == task


def test_idempotency_key_replays_the_first_result(alice: Account) -> None:
    headers = {"Idempotency-Key": "create-milk-1"}
    body = {"title": "Buy milk"}

    first = alice.request("POST", "/tasks", json=body, headers=headers)
    second = alice.request("POST", "/tasks", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    titles = [item["title"] for item in alice.request("GET", "/tasks").json["items"]]
    assert titles.count("Buy milk") == 1


def test_idempotency_key_reused_with_other_body_is_422(alice: Account) -> None:
    headers = {"Idempotency-Key": "k-1"}
    alice.request("POST", "/tasks", json={"title": "one"}, headers=headers)

    response = alice.request("POST", "/tasks", json={"title": "two"}, headers=headers)

    assert response.status_code == 422
    titles = [item["title"] for item in alice.request("GET", "/tasks").json["items"]]
    assert "two" not in titles


def test_idempotency_keys_are_per_user(alice: Account, bob: Account) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = alice.request("POST", "/tasks", json={"title": "same"}, headers=headers)
    theirs = bob.request("POST", "/tasks", json={"title": "same"}, headers=headers)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_replay_answers_what_the_first_request_got_not_the_task_as_it_is_now(
    alice: Account,
) -> None:
    headers = {"Idempotency-Key": "create-then-edit"}
    first = alice.request("POST", "/tasks", json={"title": "Draft"}, headers=headers)
    alice.request(
        "PATCH", f"/tasks/{first.json['id']}", json={"title": "Edited"}, headers={"If-Match": "*"}
    )

    replay = alice.request("POST", "/tasks", json={"title": "Draft"}, headers=headers)

    assert replay.status_code == 201
    assert replay.json == first.json
    assert replay.headers["ETag"] == first.headers["ETag"] == '"v1"'
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_an_expired_idempotency_record_no_longer_replays(alice: Account) -> None:
    headers = {"Idempotency-Key": "expiring"}
    first = alice.request("POST", "/tasks", json={"title": "Once"}, headers=headers)
    # DynamoDB's TTL sweeps within days: the record may outlive its expiry, as here.
    record = IdempotencyRecord.get(f"{alice.id}#expiring")
    record.update([IdempotencyRecord.expires_at.set(utcnow() - timedelta(seconds=1))])

    again = alice.request("POST", "/tasks", json={"title": "Once"}, headers=headers)

    assert again.status_code == 201
    assert again.json["id"] != first.json["id"]
    assert "Idempotent-Replayed" not in again.headers
