"""Idempotency records: which task a client's `Idempotency-Key` already created.

A record names the task and the hash of the request that made it, never the task's content:
an account's deletion removes its tasks, and its records (unreachable by user, keyed by
"<user_id>#<key>") then hold nothing of them until their TTL removes them.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

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
