"""Cognito's SECRET_HASH, the proof of the app client's secret on calls made without a token."""

from __future__ import annotations

import base64
import hashlib
import hmac


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """Base64(HMAC-SHA256(client secret, username + client id))."""
    message = (username + client_id).encode()
    return base64.b64encode(
        hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    ).decode()
