"""Idempotency records: which task a client's `Idempotency-Key` already created, and how a
repeated request is told from a reused key.

A record names the task and the hash of the request that made it, never the task's content:
an account's deletion removes its tasks, and its records (unreachable by user, keyed by
"<user_id>#<key>") then hold nothing of them until their TTL removes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from api.problems import Conflict, Unprocessable
from api.storage import BaseModel


class IdempotencyRecord(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "idempotency"

    # "<user_id>#<Idempotency-Key>": keys are only unique per caller.
    key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute()
    # Hash of the first request's body: the same key with another body is a client bug.
    request_hash = UnicodeAttribute()
    # When the task was created: with the replayed body (same hash) it makes the task again,
    # so no copy of the task's content is kept here, during its life or past its account's.
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


def request_fingerprint(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def new_record(
    user_id: str,
    idempotency_key: str,
    *,
    task_id: str,
    fields: Mapping[str, Any],
    created_at: datetime,
    ttl_seconds: int,
) -> IdempotencyRecord:
    return IdempotencyRecord(
        f"{user_id}#{idempotency_key}",
        task_id=task_id,
        request_hash=request_fingerprint(fields),
        created_at=created_at,
        expires_at=timedelta(seconds=ttl_seconds),
    )


def unused(now: datetime) -> Condition:
    """The condition a new record is stored on. DynamoDB's TTL removes expired records within
    days, not at once: until then one may still be there, and it no longer counts."""
    condition: Condition = IdempotencyRecord.key.does_not_exist() | (
        IdempotencyRecord.expires_at < now
    )
    return condition


def first_request(
    user_id: str, idempotency_key: str, fields: Mapping[str, Any]
) -> IdempotencyRecord:
    """The record of the key's first request, once this request is known to repeat it."""
    try:
        record = IdempotencyRecord.get(f"{user_id}#{idempotency_key}", consistent_read=True)
    except DoesNotExist:
        # The transaction lost to a concurrent one that has not committed yet.
        raise Conflict("A request with this Idempotency-Key is in progress; retry") from None
    if record.request_hash != request_fingerprint(fields):
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request body",
            errors={"headers": {"Idempotency-Key": ["Reused with a different body"]}},
        )
    return record
