"""Which sign-in each refresh token belongs to, known without asking Cognito.

Cognito's refresh tokens are opaque: the one way to learn a token's session is to use it, a
GetTokensFromRefreshToken call that spends the account-wide authentication quota. Asked on
every logout, that made logout an amplifier (one Cognito call per junk token). So when the API
hands out a refresh token (sign-in, or a refresh that rotates it), the token's SHA-256 is
stored against its session (`origin_jti`), and logout compares hashes locally.

The rows live in the rate-limits table (short-lived abuse state, one row per sign-in, keyed
`refresh-token#<origin_jti>`) and expire with the session. A session without a row (signed in
before rows were written, or its row lost) falls back to asking Cognito once
(`api/auth/routes.py`), behind logout's own limits.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import jwt
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from api.auth.identity import Tokens
from api.auth.revocation import SESSION_MAX_SECONDS
from api.storage import BaseModel

KEY_PREFIX = "refresh-token#"


class RefreshTokenBinding(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "rate-limits"

    key = UnicodeAttribute(hash_key=True)
    token_sha256 = UnicodeAttribute()
    expires_at = TTLAttribute()


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def bind(tokens: Tokens) -> None:
    """Remember which session `tokens.refresh_token` belongs to, for as long as it can work.

    The access token comes straight from Cognito over TLS in answer to our call, so its
    claims are read without checking the signature.
    """
    if not tokens.refresh_token:
        return
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    ends = int(claims["auth_time"]) + SESSION_MAX_SECONDS
    RefreshTokenBinding(
        KEY_PREFIX + str(claims["origin_jti"]),
        token_sha256=_digest(tokens.refresh_token),
        expires_at=datetime.fromtimestamp(ends, UTC),
    ).save()


def is_bound_to(refresh_token: str, origin_jti: str) -> bool | None:
    """Whether this is the refresh token the API handed out for session `origin_jti`;
    None when no token was recorded for it."""
    try:
        binding = RefreshTokenBinding.get(KEY_PREFIX + origin_jti, consistent_read=True)
    except DoesNotExist:
        return None
    return hmac.compare_digest(binding.token_sha256, _digest(refresh_token))
