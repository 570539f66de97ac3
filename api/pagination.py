"""Opaque, tamper-evident cursors over DynamoDB's LastEvaluatedKey.

A cursor is the page's LastEvaluatedKey plus the query it belongs to (caller
and filters), signed with HMAC-SHA256. Clients cannot forge one to read past
their own partition, nor replay it against a different filter.

Keys rotate: the secret is either one value, or `kid:secret` pairs separated by
commas, the first signing and every one verifying (`new:…,old:…`). A cursor
names its key id, so old cursors work until their key leaves the list.
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


def _keys(secret: str) -> dict[str, bytes]:
    pairs = (
        [entry.split(":", 1) for entry in secret.split(",")] if ":" in secret else [["0", secret]]
    )
    return {kid.strip(): hashlib.sha256(value.strip().encode()).digest() for kid, value in pairs}


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._keys = _keys(secret)
        self._kid = next(iter(self._keys))

    def _sign(self, payload: bytes, kid: str) -> bytes:
        return hmac.new(self._keys[kid], payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, last_key: Mapping[str, Any] | None, scope: Mapping[str, Any]) -> str | None:
        if not last_key:
            return None
        payload = json.dumps({"k": last_key, "s": scope}, sort_keys=True, separators=(",", ":"))
        raw = payload.encode()
        return f"{self._kid}.{_b64(self._sign(raw, self._kid) + raw)}"

    def decode(self, cursor: str | None, scope: Mapping[str, Any]) -> dict[str, Any] | None:
        if cursor is None:
            return None
        kid, _, token = cursor.partition(".")
        if kid not in self._keys:  # never issued, or signed with a retired key
            raise BadRequest("The cursor is not valid")
        try:
            blob = _unb64(token)
        except (binascii.Error, ValueError):
            raise BadRequest("The cursor is not valid") from None
        signature, raw = blob[:_SIGNATURE_BYTES], blob[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(raw, kid)):
            raise BadRequest("The cursor is not valid")
        decoded = json.loads(raw)
        if decoded.get("s") != json.loads(json.dumps(scope)):
            raise BadRequest("The cursor belongs to a different query")
        last_key: dict[str, Any] = decoded["k"]
        return last_key
