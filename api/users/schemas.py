"""What goes in and out of the user endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from api.auth.identity import PASSWORD_MIN_LENGTH, PASSWORD_PATTERN, password_problems
from api.smorest import Schema, Timestamp


def name_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(1, 100), **kwargs)


class SignUpSchema(Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=256),
        metadata={
            "description": "8+ characters with a lowercase, an uppercase letter and a digit",
            "minLength": PASSWORD_MIN_LENGTH,
            "pattern": PASSWORD_PATTERN,
        },
    )
    name = name_field(required=True)

    @ma.validates("password")
    def _meets_policy(self, value: str, **_: Any) -> None:
        problems = password_problems(value)
        if problems:
            raise ma.ValidationError(f"The password needs {', '.join(problems)}.")

    @ma.post_load
    def _normalise_email(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        return data


class UserPatchSchema(Schema):
    name = name_field(required=True)


class UserSchema(Schema):
    id = ma.fields.String(attribute="user_id", dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    created_at = Timestamp()


class UserListArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = ma.fields.String(validate=validate.Length(1, 2048))


class UserPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(UserSchema))
    next_cursor = ma.fields.String(allow_none=True)
