"""Verifying Cognito access tokens with flask-jwt-extended.

Cognito signs with RS256 and publishes its keys as a JWKS. The JWKS is fetched
on the first authenticated request, not at import (cold starts), and cached for
JWKS_CACHE_SECONDS (6 h): after that it is fetched again, so a key Cognito withdrew
stops verifying. An unknown `kid` triggers one refetch (key rotation). Access tokens carry
`client_id` instead of `aud`, so the audience check is done by hand, together
with `token_use == "access"` (an id token must not open the API).
"""

from __future__ import annotations

import functools
import ssl
import threading
from typing import Any

import jwt
from flask import Flask, Response, current_app, g, request
from flask_jwt_extended import get_jwt, get_jwt_identity

from api import deadline
from api.auth import session_check
from api.auth.identity import IdentityProvider
from api.auth.revocation import has_session_claims, is_revoked
from api.auth.verified_tokens import VerifyingOnceJWTManager
from api.config import Settings
from api.problems import Forbidden, ServiceUnavailable, Unauthorized, Unprocessable

ADMIN_GROUP = "admin"


@functools.cache
def jwks_tls_context() -> ssl.SSLContext:
    """One TLS context for every JWKS fetch: without one, each fetch (every
    `jwks_cache_seconds`) loads the system's CA certificates again (10-30 ms). Prepared in a
    SnapStart snapshot (api/snapshot.py)."""
    return ssl.create_default_context()


class SigningKeys:
    """The pool's public keys, fetched lazily and cached as one set for `jwks_cache_seconds`.

    Never per key (PyJWKClient's `cache_keys`): a key cached on its own outlives the set's
    lifespan, and stays trusted for the container's life after Cognito withdrew it.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def _jwks(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                self._client = jwt.PyJWKClient(
                    self._settings.jwks_url,
                    cache_keys=False,
                    cache_jwk_set=True,
                    lifespan=self._settings.jwks_cache_seconds,
                    timeout=deadline.JWKS_TIMEOUT_SECONDS,
                    ssl_context=jwks_tls_context(),
                )
            return self._client

    def key_for(self, header: dict[str, Any]) -> Any:
        kid = header.get("kid")
        if not kid:
            raise jwt.InvalidTokenError("token has no key id")
        # A cached key costs nothing, but a fetch may: start none the deadline cannot hold.
        deadline.require(deadline.JWKS_TIMEOUT_SECONDS * deadline.JWKS_FETCHES)
        try:
            return self._jwks().get_signing_key(kid).key
        except jwt.PyJWKClientConnectionError as error:
            raise ServiceUnavailable("The identity provider's keys are unreachable") from error
        except jwt.PyJWKClientError as error:
            raise jwt.InvalidTokenError(str(error)) from error


def _unauthorized(detail: str) -> Response:
    return Unauthorized(detail).to_response()


def _deletes_own_account(claims: dict[str, Any]) -> bool:
    """DELETE /users/me (or /users/<own sub>): the one request an account being deleted may
    still make with its earlier tokens, to finish that deletion (api/auth/revocation.py)."""
    user_id = (request.view_args or {}).get("user_id")
    return (
        request.method == "DELETE"
        and request.blueprint == "users"
        and user_id in ("me", claims.get("sub"))
    )


def init_jwt(app: Flask, settings: Settings) -> None:
    app.config.update(
        JWT_ALGORITHM="RS256",
        JWT_DECODE_ALGORITHMS=["RS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_IDENTITY_CLAIM="sub",
        JWT_DECODE_AUDIENCE=None,
        JWT_DECODE_LEEWAY=5,
        # Never used to sign (Cognito signs); set so nothing falls back to a default.
        JWT_SECRET_KEY=None,
        JWT_PUBLIC_KEY=None,
    )
    if settings.cognito_issuer or settings.cognito_user_pool_id:
        app.config["JWT_DECODE_ISSUER"] = settings.issuer
    manager = VerifyingOnceJWTManager(
        app, trust_seconds=settings.jwks_cache_seconds, leeway=app.config["JWT_DECODE_LEEWAY"]
    )
    keys = SigningKeys(settings)

    @manager.decode_key_loader
    def _decode_key(header: dict[str, Any], _claims: dict[str, Any]) -> Any:
        if not current_app.config.get("JWT_DECODE_ISSUER"):
            settings.require("cognito_user_pool_id")
        return keys.key_for(header)

    def is_access_token_for_us(claims: dict[str, Any]) -> bool:
        """An access token of our client, naming its session (else it could not be revoked)."""
        return (
            claims.get("token_use") == "access"
            and claims.get("client_id") == settings.require("cognito_client_id")
            and bool(claims.get("sub"))
            and has_session_claims(claims)
        )

    @manager.token_verification_loader
    def _verify(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
        ok = is_access_token_for_us(claims)
        if ok:
            g.user_id = claims.get("sub")
        return ok

    # Runs before `_verify`: a token that is not ours is refused there, without a read here.
    # The task endpoints carry the check in their own DynamoDB call (api/auth/session_check.py).
    @manager.token_in_blocklist_loader
    def _is_revoked(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
        if not is_access_token_for_us(claims) or session_check.defer(claims):
            return False
        return is_revoked(claims, finishing_own_deletion=_deletes_own_account(claims))

    manager.unauthorized_loader(lambda reason: _unauthorized(f"Missing bearer token: {reason}"))
    manager.invalid_token_loader(lambda reason: _unauthorized(f"Invalid token: {reason}"))
    manager.expired_token_loader(lambda _h, _c: _unauthorized("The token has expired"))
    manager.revoked_token_loader(lambda _h, _c: session_check.revoked().to_response())
    session_check.init_app(app)
    manager.token_verification_failed_loader(
        lambda _h, _c: _unauthorized("Not an access token issued for this API")
    )


def current_user_id() -> str:
    identity: str = get_jwt_identity()
    return identity


def is_admin() -> bool:
    return ADMIN_GROUP in (get_jwt().get("cognito:groups") or [])


def require_admin() -> None:
    if not is_admin():
        raise Forbidden("Only administrators may do this")


def session_of_refresh_token(identity: IdentityProvider, refresh_token: str) -> str:
    """The sign-in (`origin_jti`) a refresh token belongs to, or 422 if it is none of ours.

    Cognito's refresh tokens are opaque (encrypted), so the one way to ask is to use it: the
    access token it mints names its session. That token comes straight from Cognito over TLS
    in answer to this call, so its claims are read without checking the signature; it is then
    dropped, never returned.
    """
    try:
        minted = identity.refresh(refresh_token)
    except Unauthorized:
        raise Unprocessable(
            "That is not a refresh token of this client",
            errors={"json": {"refresh_token": ["Not a refresh token of this client"]}},
        ) from None
    claims = jwt.decode(minted.access_token, options={"verify_signature": False})
    return str(claims.get("origin_jti", ""))
