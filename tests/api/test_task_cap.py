"""One account holds at most MAX_TASKS_PER_USER tasks: past it, creating one is 409."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Settings
from api.users.models import User
from tests.api.conftest import Account

CAP = 3
LIMIT_REACHED = "urn:tasklake:problem:task-limit-reached"


@pytest.fixture
def capped(engines: dict[str, str]) -> Flask:
    return create_app(replace(Settings.from_env(engines), max_tasks_per_user=CAP))


def _create(client: FlaskClient, account: Account, **headers: str) -> Any:
    return client.post("/tasks", json={"title": "one more"}, headers={**account.auth, **headers})


def test_the_default_cap_is_ten_thousand() -> None:
    assert Settings.from_env({"STAGE": "dev"}).max_tasks_per_user == 10_000


def test_creating_past_the_cap_is_409_until_a_task_is_deleted(
    capped: Flask, alice: Account, bob: Account
) -> None:
    client = capped.test_client()
    created = [_create(client, alice) for _ in range(CAP)]

    refused = _create(client, alice)

    assert [response.status_code for response in created] == [201] * CAP
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == LIMIT_REACHED
    assert str(CAP) in refused.json["detail"]
    assert _create(client, bob).status_code == 201  # the cap is per account

    deleted = client.delete(f"/tasks/{created[0].json['id']}", headers=alice.auth)
    assert deleted.status_code == 204
    assert _create(client, alice).status_code == 201


def test_completing_a_task_keeps_its_place_under_the_cap(capped: Flask, alice: Account) -> None:
    """The cap bounds what an account stores (and exports to the lake), done tasks included."""
    client = capped.test_client()
    tasks = [_create(client, alice) for _ in range(CAP)]
    done = client.patch(
        f"/tasks/{tasks[0].json['id']}",
        json={"status": "done"},
        headers={**alice.auth, "If-Match": tasks[0].headers["ETag"]},
    )

    assert done.status_code == 200
    assert _create(client, alice).json["type"] == LIMIT_REACHED


def test_a_retried_create_is_replayed_even_at_the_cap(capped: Flask, alice: Account) -> None:
    client = capped.test_client()
    first = _create(client, alice, **{"Idempotency-Key": "at-the-cap"})
    for _ in range(CAP - 1):
        _create(client, alice)

    retried = _create(client, alice, **{"Idempotency-Key": "at-the-cap"})

    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json["id"] == first.json["id"]


def test_the_count_follows_creates_replays_refusals_and_deletes(
    capped: Flask, alice: Account
) -> None:
    client = capped.test_client()
    kept = _create(client, alice, **{"Idempotency-Key": "counted-once"})
    _create(client, alice, **{"Idempotency-Key": "counted-once"})  # a replay: no new task
    reused = client.post(
        "/tasks",
        json={"title": "another body"},
        headers={**alice.auth, "Idempotency-Key": "counted-once"},
    )
    gone = _create(client, alice)
    client.delete(f"/tasks/{gone.json['id']}", headers=alice.auth)

    assert reused.status_code == 422
    assert User.get(alice.id, consistent_read=True).task_count == 1
    assert kept.status_code == 201
