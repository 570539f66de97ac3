"""POST /auth/token, /auth/refresh, /auth/logout and the password endpoints."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_jwt_extended import get_jwt, jwt_required

from api import dependencies, rate_limits
from api.auth import refresh_tokens
from api.auth.identity import IdentityProvider, Tokens
from api.auth.revocation import SESSION_MAX_SECONDS, end_session
from api.auth.schemas import (
    CredentialsSchema,
    ForgotPasswordSchema,
    LogoutArgsSchema,
    LogoutSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    RefreshSchema,
    TokenSchema,
)
from api.auth.tokens import current_user_id, session_of_refresh_token
from api.problems import Unprocessable
from api.smorest import BEARER_AUTH, Blueprint
from api.users import service

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign in and out, passwords")


# Tokens are credentials: no cache on the way may keep them (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token_body(tokens: Tokens) -> tuple[dict[str, Any], int, dict[str, str]]:
    return {**tokens.__dict__, "token_type": "Bearer"}, 200, NO_STORE


@blp.post("/token")
@blp.arguments(CredentialsSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong email or password, or the account is disabled")
@blp.alt_response(403, description="The account's email address is not confirmed yet")
@rate_limits.per_client_address(blp, "token")
def issue_token(credentials: dict[str, str]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Sign in with email and password (too many wrong passwords for an email: 429)

    A 429 of type `urn:tasklake:problem:password-attempts-exceeded` means the identity provider
    paused sign-ins to the account after wrong passwords: wait, or reset the password.
    """
    email = credentials["email"].strip().lower()
    device = credentials["device_token"]
    with rate_limits.counting_sign_in_failures(email, device) as device_token:
        tokens = dependencies.identity().authenticate(email, credentials["password"])
    refresh_tokens.bind(tokens)
    body, status, headers = _token_body(tokens)
    return {**body, "device_token": device_token}, status, headers


@blp.post("/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Refresh token invalid, expired or revoked")
@rate_limits.per_client_address(blp, "refresh")
def refresh_token(body: dict[str, str]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Trade a refresh token for a new access token"""
    tokens = dependencies.identity().refresh(body["refresh_token"])
    if tokens.refresh_token != body["refresh_token"]:  # rotated: logout must know the new one
        refresh_tokens.bind(tokens)
    return _token_body(tokens)


@blp.post("/logout")
@jwt_required()
@blp.doc(security=BEARER_AUTH)
@blp.arguments(LogoutArgsSchema, location="query")
@blp.arguments(LogoutSchema, required=False)
@blp.response(204)
@blp.alt_response(401, description="Missing or invalid bearer token")
@blp.alt_response(422, description="The refresh token is not this session's")
@rate_limits.per_client_address(blp, "logout")
@rate_limits.per_signed_in_user("logout")
def logout(args: dict[str, bool], body: dict[str, str]) -> None:
    """End this session (every token of this sign-in), or with `all=true` every session"""
    identity = dependencies.identity()
    if args["all"]:
        service.end_all_sessions(identity, current_user_id())
        return
    claims = get_jwt()
    session = str(claims["origin_jti"])
    refresh_token = body.get("refresh_token")
    # Only this session's refresh token: another one would end a session the caller did not
    # present, while this one's refresh token outlived its row.
    if refresh_token and not _belongs_to(identity, refresh_token, session):
        raise Unprocessable(
            "That refresh token belongs to another session",
            errors={"json": {"refresh_token": ["Not a refresh token of this session"]}},
        )
    # As long as any refresh token of the session could mint tokens, whatever Cognito revokes.
    end_session(current_user_id(), session, until=int(claims["auth_time"]) + SESSION_MAX_SECONDS)
    if refresh_token:
        identity.revoke_refresh_token(refresh_token)


def _belongs_to(identity: IdentityProvider, refresh_token: str, session: str) -> bool:
    """Compared with the hash stored at sign-in; only a session signed in before those were
    stored costs a Cognito call (api/auth/refresh_tokens.py)."""
    bound = refresh_tokens.is_bound_to(refresh_token, session)
    if bound is None:
        return session_of_refresh_token(identity, refresh_token) == session
    return bound


@blp.post("/password/change")
@jwt_required()
@blp.doc(security=BEARER_AUTH)
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(401, description="Missing or invalid bearer token")
@blp.alt_response(
    422, description="The current password is wrong (sessions end all the same) or the new one weak"
)
@rate_limits.per_client_address(blp, "password-change")
def change_password(body: dict[str, str]) -> None:
    """Change your password; every earlier session ends"""
    bearer = request.headers["Authorization"].split(None, 1)[1]
    service.change_password(
        dependencies.identity(),
        current_user_id(),
        bearer,
        body["current_password"],
        body["new_password"],
    )


@blp.post("/password/forgot")
@blp.arguments(ForgotPasswordSchema)
@blp.response(202)
@rate_limits.per_client_address(blp, "password-forgot")
def forgot_password(body: dict[str, Any]) -> None:
    """Email a reset code (the same answer whether or not the account exists)"""
    rate_limits.spend_code_email_budgets(body["email"], body["device_token"])
    dependencies.identity().forgot_password(body["email"])


@blp.post("/password/reset")
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@blp.alt_response(422, description="The code is wrong or expired, or the password too weak")
@rate_limits.per_client_address(blp, "password-reset")
def reset_password(body: dict[str, str]) -> None:
    """Set a new password with the emailed code; every earlier session ends"""
    service.reset_password(
        dependencies.identity(), body["email"], body["code"], body["new_password"]
    )
