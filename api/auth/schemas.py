"""Bodies of the token and password endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from api.auth.password_policy import PASSWORD_MIN_LENGTH, PASSWORD_PATTERN, password_problems
from api.schemas import Schema

# The email is the Cognito username, which Cognito caps at 128 characters (passwords at 256):
# longer ones must be our clear 422, not the identity provider's refusal.
EMAIL_MAX_LENGTH = 128
PASSWORD_MAX_LENGTH = 256


def email_field() -> ma.fields.Email:
    return ma.fields.Email(required=True, validate=validate.Length(max=EMAIL_MAX_LENGTH))


def _meets_policy(value: str) -> None:
    problems = password_problems(value)
    if problems:
        raise ma.ValidationError(f"The password needs {', '.join(problems)}.")


def new_password_field() -> ma.fields.String:
    """A password being set: checked against the pool's policy here, so the answer is ours."""
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(max=PASSWORD_MAX_LENGTH), _meets_policy],
        metadata={
            "description": "8+ characters with a lowercase, an uppercase letter and a digit",
            "minLength": PASSWORD_MIN_LENGTH,
            "pattern": PASSWORD_PATTERN,
        },
    )


class CredentialsSchema(Schema):
    email = email_field()
    password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(1, PASSWORD_MAX_LENGTH)
    )
    device_token = ma.fields.String(
        load_default=None,
        validate=validate.Length(1, 128),
        metadata={"description": "The `device_token` an earlier sign-in here returned"},
    )


class RefreshSchema(Schema):
    refresh_token = ma.fields.String(required=True, validate=validate.Length(1, 8192))


class LogoutSchema(Schema):
    refresh_token = ma.fields.String(
        validate=validate.Length(1, 8192),
        metadata={"description": "This session's refresh token, to revoke it at Cognito too"},
    )


class TokenSchema(Schema):
    access_token = ma.fields.String()
    id_token = ma.fields.String(allow_none=True)
    refresh_token = ma.fields.String(allow_none=True)
    token_type = ma.fields.String(dump_default="Bearer")
    expires_in = ma.fields.Integer(
        metadata={"description": "Seconds until the access token expires"}
    )
    device_token = ma.fields.String(
        metadata={
            "description": "Send it back on the next sign-in from this device: other people's"
            " wrong passwords for the account then never refuse it, whatever its address"
        }
    )


class LogoutArgsSchema(Schema):
    all = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "End every session of this account, not just this one"},
    )


class EmailSchema(Schema):
    email = email_field()

    @ma.post_load
    def _normalise_email(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        return data


def code_field() -> ma.fields.String:
    return ma.fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "The code Cognito emailed"},
    )


class ForgotPasswordSchema(EmailSchema):
    device_token = ma.fields.String(
        load_default=None,
        validate=validate.Length(1, 128),
        metadata={
            "description": "The `device_token` a sign-in on this device returned: strangers'"
            " asks for this email then never refuse it"
        },
    )


class PasswordResetSchema(EmailSchema):
    code = code_field()
    new_password = new_password_field()


class PasswordChangeSchema(Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(1, PASSWORD_MAX_LENGTH)
    )
    new_password = new_password_field()
