"""Opaque, tamper-evident cursors over DynamoDB's LastEvaluatedKey.

A cursor is the page's LastEvaluatedKey plus the query it belongs to (caller
and filters), signed with HMAC-SHA256. Clients cannot forge one to read past
their own partition, nor replay it against a different filter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from api.problems import BadRequest

_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, last_key: Mapping[str, Any] | None, scope: Mapping[str, Any]) -> str | None:
        if not last_key:
            return None
        payload = json.dumps({"k": last_key, "s": scope}, sort_keys=True, separators=(",", ":"))
        raw = payload.encode()
        return _b64(self._sign(raw) + raw)

    def decode(self, cursor: str | None, scope: Mapping[str, Any]) -> dict[str, Any] | None:
        if cursor is None:
            return None
        try:
            blob = _unb64(cursor)
        except (binascii.Error, ValueError):
            raise BadRequest("The cursor is not valid") from None
        signature, raw = blob[:_SIGNATURE_BYTES], blob[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(raw)):
            raise BadRequest("The cursor is not valid")
        decoded = json.loads(raw)
        if decoded.get("s") != json.loads(json.dumps(scope)):
            raise BadRequest("The cursor belongs to a different query")
        last_key: dict[str, Any] = decoded["k"]
        return last_key
