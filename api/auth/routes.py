"""POST /auth/token, /auth/refresh, /auth/logout."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import get_jwt, jwt_required

from api import dependencies, rate_limits
from api.auth.identity import Tokens
from api.auth.revocation import revoke
from api.auth.schemas import CredentialsSchema, LogoutSchema, RefreshSchema, TokenSchema
from api.auth.tokens import current_user_id
from api.smorest import BEARER_AUTH, Blueprint

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign in and out")


# Tokens are credentials: no cache on the way may keep them (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token_body(tokens: Tokens) -> tuple[dict[str, Any], int, dict[str, str]]:
    return {**tokens.__dict__, "token_type": "Bearer"}, 200, NO_STORE


@blp.post("/token")
@blp.arguments(CredentialsSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong email or password")
@rate_limits.per_client_address(blp, "token")
def issue_token(credentials: dict[str, str]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Sign in with email and password (too many wrong passwords for an email: 429)"""
    email = credentials["email"].strip().lower()
    with rate_limits.counting_sign_in_failures(email):
        tokens = dependencies.identity().authenticate(email, credentials["password"])
    return _token_body(tokens)


@blp.post("/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Refresh token invalid, expired or revoked")
@rate_limits.per_client_address(blp, "refresh")
def refresh_token(body: dict[str, str]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Trade a refresh token for a new access token"""
    return _token_body(dependencies.identity().refresh(body["refresh_token"]))


@blp.post("/logout")
@jwt_required()
@blp.doc(security=BEARER_AUTH)
@blp.arguments(LogoutSchema, required=False)
@blp.response(204)
@blp.alt_response(401, description="Missing or invalid bearer token")
def logout(body: dict[str, str]) -> None:
    """Revoke this access token (and, if given, its refresh token)"""
    if body.get("refresh_token"):
        dependencies.identity().revoke_refresh_token(body["refresh_token"])
    claims = get_jwt()
    revoke(claims["jti"], current_user_id(), int(claims["exp"]))
