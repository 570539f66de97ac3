"""What goes in and out of the user endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from api.auth.schemas import EmailSchema, code_field, email_field, new_password_field
from api.schemas import Schema, Timestamp


def name_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(1, 100), **kwargs)


class SignUpSchema(Schema):
    email = email_field()
    password = new_password_field()
    name = name_field(required=True)

    @ma.post_load
    def _normalise_email(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        return data


class ConfirmSchema(EmailSchema):
    code = code_field()


class UserPatchSchema(Schema):
    name = name_field()
    enabled = ma.fields.Boolean(
        metadata={"description": "Administrators only: false ends every session and blocks sign-in"}
    )

    class Meta(Schema.Meta):
        json_schema: ClassVar[dict[str, Any]] = {"minProperties": 1}

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("Send at least one of: name, enabled.")


class UserSchema(Schema):
    id = ma.fields.String(attribute="user_id", dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    enabled = ma.fields.Boolean()
    created_at = Timestamp()


class UserListArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = ma.fields.String(validate=validate.Length(1, 2048))


class UserPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(UserSchema))
    next_cursor = ma.fields.String(allow_none=True)
