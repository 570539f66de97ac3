"""Revoked access tokens, keyed by `jti`, kept until the token would expire anyway."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from api.storage import BaseModel


class RevokedToken(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "revoked-tokens"

    jti = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    # DynamoDB's TTL deletes the row once the token could not be used anyway.
    expires_at = TTLAttribute()


def revoke(jti: str, user_id: str, expires_at: int) -> None:
    RevokedToken(jti, user_id=user_id, expires_at=datetime.fromtimestamp(expires_at, UTC)).save()


def is_revoked(jti: str) -> bool:
    return RevokedToken.count(jti, limit=1) > 0
