"""An Idempotency-Key's record names the task it created, never the task's content.

Records are keyed "<user_id>#<key>": nothing finds them by user, so an account's deletion
cannot remove them, and they stay until their TTL. What they hold must then be nothing of
the deleted tasks. Read straight from DynamoDB Local's table.
"""

from __future__ import annotations

import json
import uuid

from api.idempotency import IdempotencyRecord
from tests.api.conftest import Account


def _records_mentioning(text: str) -> list[str]:
    items = IdempotencyRecord.scan()
    return [item.key for item in items if text in json.dumps(item.serialize())]


def test_no_record_holds_a_task_past_its_accounts_deletion(alice: Account) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    body = {"title": f"title {canary}", "description": f"secret {canary}"}
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    created = alice.request("POST", "/tasks", json=body, headers=key)
    assert created.status_code == 201

    assert alice.request("DELETE", "/users/me").status_code == 204

    assert _records_mentioning(alice.id) != []  # the record is still there
    assert _records_mentioning(canary) == []


def test_a_replay_still_answers_the_task_as_first_created(alice: Account) -> None:
    body = {"title": "first", "description": "as created", "priority": "high", "tags": ["a"]}
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = alice.request("POST", "/tasks", json=body, headers=key)
    task_id = first.json["id"]
    etag = first.headers["ETag"]
    patched = alice.request(
        "PATCH", f"/tasks/{task_id}", json={"title": "changed"}, headers={"If-Match": etag}
    )
    assert patched.status_code == 200, patched.json

    replay = alice.request("POST", "/tasks", json=body, headers=key)

    assert replay.status_code == first.status_code, replay.json
    assert replay.json == first.json
    assert replay.headers["ETag"] == etag
