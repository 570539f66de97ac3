"""The client addresses each email signed in from before, so strangers' wrong passwords for
that email do not lock its owner out there (api/rate_limits.py, ADR 0004).

One row per (email, client address) in the rate-limits table, both stored hashed, written on a
correct password and kept KNOWN_FOR_SECONDS after the last one. An address is what
`rate_limits.client_address` counts: an IPv4 address or an IPv6 /64.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from api.storage import BaseModel

KEY_PREFIX = "known-address#"
# A home connection keeps its address for weeks to months; a quarter covers the usual gaps
# between sign-ins without keeping where someone once was for long.
KNOWN_FOR_SECONDS = 90 * 24 * 3600


class KnownAddress(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "rate-limits"

    key = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute()


def _key(email: str, address: str) -> str:
    digest = hashlib.sha256(f"{email}#{address}".encode()).hexdigest()[:32]
    return KEY_PREFIX + digest


def is_known(email: str, address: str) -> bool:
    """`email` signed in with its password from `address` within KNOWN_FOR_SECONDS."""
    try:
        row = KnownAddress.get(_key(email, address))
    except DoesNotExist:
        return False
    return row.expires_at.timestamp() > time.time()  # TTL deletes late, not on the second


def remember(email: str, address: str) -> None:
    expires_at = datetime.fromtimestamp(time.time() + KNOWN_FOR_SECONDS, UTC)
    KnownAddress(_key(email, address), expires_at=expires_at).save()
