"""Where each email signed in from before, so strangers' wrong passwords for that email do not
lock its owner out there (api/rate_limits.py, ADR 0004).

Two kinds of place, each one row in the rate-limits table, stored hashed, written on a correct
password and kept KNOWN_FOR_SECONDS after the last one:

- a client address, as `rate_limits.client_address` counts it (an IPv4 address or an IPv6 /64);
- a device: a random `device_token` /auth/token hands out and the client sends back on its
  next sign-in, for devices whose address changes (mobile networks, dynamic IPv4).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from api.storage import BaseModel

ADDRESS = "known-address#"
DEVICE = "known-device#"
# A home connection keeps its address for weeks to months; a quarter covers the usual gaps
# between sign-ins without keeping where someone once was for long.
KNOWN_FOR_SECONDS = 90 * 24 * 3600


class KnownSignIn(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "rate-limits"

    key = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute()


def _key(kind: str, email: str, place: str) -> str:
    return kind + hashlib.sha256(f"{email}#{place}".encode()).hexdigest()[:32]


def _is_known(key: str) -> bool:
    try:
        row = KnownSignIn.get(key)
    except DoesNotExist:
        return False
    return row.expires_at.timestamp() > time.time()  # TTL deletes late, not on the second


def _remember(key: str) -> None:
    expires_at = datetime.fromtimestamp(time.time() + KNOWN_FOR_SECONDS, UTC)
    KnownSignIn(key, expires_at=expires_at).save()


def is_known_address(email: str, address: str) -> bool:
    """`email` signed in with its password from `address` within KNOWN_FOR_SECONDS."""
    return _is_known(_key(ADDRESS, email, address))


def is_known_device(email: str, device_token: str) -> bool:
    """`device_token` is one we handed out to a sign-in of `email` within KNOWN_FOR_SECONDS."""
    return _is_known(_key(DEVICE, email, device_token))


def new_device_token() -> str:
    return secrets.token_urlsafe(32)


def remember(email: str, address: str, device_token: str) -> None:
    _remember(_key(ADDRESS, email, address))
    _remember(_key(DEVICE, email, device_token))
