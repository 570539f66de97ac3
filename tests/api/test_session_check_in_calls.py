"""The task endpoints carry the session check in their own DynamoDB call (ADR 0003): each
way a session ends still refuses every task request at once, and a refused write changes
nothing (no task, no count, no edit, no removal).

The marks are read in the same BatchGetItem as the task (get), conditioned on in the same
TransactWriteItems as the write (create, patch, delete), or read alongside the Query (list).
ConditionCheck in TransactWriteItems:
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from api.app import create_app
from api.auth.revocation import SessionCheck, begin_deletion
from api.config import Settings
from api.tasks.models import Task
from api.users.models import User
from tests.api.conftest import PASSWORD, Account

CHANGE = {"current_password": PASSWORD, "new_password": "Battery-Staple-7"}


def _logout(alice: Account, _admin: Account) -> None:
    assert alice.request("POST", "/auth/logout").status_code == 204


def _logout_everywhere(alice: Account, _admin: Account) -> None:
    assert alice.request("POST", "/auth/logout?all=true").status_code == 204


def _password_change(alice: Account, _admin: Account) -> None:
    tokens = dict(alice.tokens)
    assert alice.request("POST", "/auth/password/change", json=CHANGE).status_code == 204
    alice.tokens = tokens  # the token from before the change


def _disable(alice: Account, admin: Account) -> None:
    assert admin.request("PATCH", f"/users/{alice.id}", json={"enabled": False}).status_code == 200


def _deletion_under_way(alice: Account, _admin: Account) -> None:
    begin_deletion(alice.id)


ENDINGS: dict[str, Callable[[Account, Account], None]] = {
    "logout": _logout,
    "logout everywhere": _logout_everywhere,
    "password change": _password_change,
    "disabled account": _disable,
    "deletion under way": _deletion_under_way,
}


def _every_task_request(alice: Account, task_id: str) -> dict[str, Any]:
    path = f"/tasks/{task_id}"
    return {
        "list": alice.request("GET", "/tasks"),
        "list, filtered": alice.request("GET", "/tasks?status=todo&tag=kept"),
        "get": alice.request("GET", path),
        "create": alice.request("POST", "/tasks", json={"title": "after the end"}),
        "create, with a key": alice.request(
            "POST", "/tasks", json={"title": "after the end"}, headers={"Idempotency-Key": "k"}
        ),
        "create, invalid body": alice.request("POST", "/tasks", json={"title": ""}),
        "patch": alice.request(
            "PATCH", path, json={"title": "changed"}, headers={"If-Match": '"v1"'}
        ),
        "patch, any version": alice.request(
            "PATCH", path, json={"title": "changed"}, headers={"If-Match": "*"}
        ),
        "patch, no If-Match": alice.request("PATCH", path, json={"title": "changed"}),
        "delete": alice.request("DELETE", path),
    }


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_task_request_is_refused_once_the_session_ended(
    alice: Account, admin: Account, ending: str
) -> None:
    task = alice.create_task(title="kept", tags=["kept"])

    ENDINGS[ending](alice, admin)
    answers = _every_task_request(alice, task["id"])

    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == dict.fromkeys(answers, 401)
    assert {response.json["detail"] for response in answers.values()} == {
        "The token has been revoked"
    }
    stored = Task.get(alice.id, task["id"], consistent_read=True)
    assert (stored.title, stored.version) == ("kept", 1)
    assert [t.task_id for t in Task.query(alice.id, consistent_read=True)] == [task["id"]]
    assert User.get(alice.id, consistent_read=True).task_count == 1


@pytest.fixture
def capped(engines: dict[str, str]) -> Flask:
    return create_app(replace(Settings.from_env(engines), max_tasks_per_user=1))


def test_a_refused_token_is_401_not_the_cap_nor_a_replay(capped: Flask, alice: Account) -> None:
    """The marks are the transaction's first items: they decide before the cap or a used key."""
    client = capped.test_client()
    key = {"Idempotency-Key": "once"}
    first = client.post("/tasks", json={"title": "one"}, headers={**alice.auth, **key})
    assert first.status_code == 201
    assert client.post("/tasks", json={"title": "two"}, headers=alice.auth).status_code == 409

    _logout(alice, alice)

    at_cap = client.post("/tasks", json={"title": "two"}, headers=alice.auth)
    replay = client.post("/tasks", json={"title": "one"}, headers={**alice.auth, **key})
    assert (at_cap.status_code, replay.status_code) == (401, 401)


def test_other_sessions_keep_working_after_one_logout(alice: Account) -> None:
    other = alice.client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})
    task = alice.create_task(title="mine")
    _logout(alice, alice)
    alice.tokens = other.json

    answers = _every_task_request(alice, task["id"])

    assert answers["list"].status_code == 200
    assert answers["get"].status_code == 200
    assert answers["create"].status_code == 201
    assert answers["patch"].status_code == 200
    assert answers["delete"].status_code == 204


def test_a_tokens_write_conditions_are_built_once_and_only_for_it() -> None:
    # A client writes with one token for up to an hour; the conditions are cached per check.
    check = SessionCheck("user-1", "origin-1", 1_800_000_000)

    again = SessionCheck("user-1", "origin-1", 1_800_000_000).conditions()
    later_sign_in = SessionCheck("user-1", "origin-1", 1_800_000_001).conditions()

    assert again is check.conditions()
    assert later_sign_in is not again
    assert str(later_sign_in[0][1]) != str(again[0][1])
