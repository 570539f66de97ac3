"""Idempotency records: which task a client's `Idempotency-Key` already created."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from api.storage import BaseModel


class IdempotencyRecord(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "idempotency"

    # "<user_id>#<Idempotency-Key>": keys are only unique per caller.
    key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute()
    # Hash of the first request's body: the same key with another body is a client bug.
    request_hash = UnicodeAttribute()
    # The created task's attributes (DynamoDB JSON), replayed as they were.
    response = UnicodeAttribute()
    expires_at = TTLAttribute()
