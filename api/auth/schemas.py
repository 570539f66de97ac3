"""Bodies of the token endpoints."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from api.smorest import Schema


class CredentialsSchema(Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(1, 256))


class RefreshSchema(Schema):
    refresh_token = ma.fields.String(required=True, validate=validate.Length(1, 8192))


class LogoutSchema(Schema):
    refresh_token = ma.fields.String(
        validate=validate.Length(1, 8192),
        metadata={"description": "Also end the sign-in session this refresh token belongs to"},
    )


class TokenSchema(Schema):
    access_token = ma.fields.String()
    id_token = ma.fields.String(allow_none=True)
    refresh_token = ma.fields.String(allow_none=True)
    token_type = ma.fields.String(dump_default="Bearer")
    expires_in = ma.fields.Integer(
        metadata={"description": "Seconds until the access token expires"}
    )
