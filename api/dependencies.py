"""What request handlers need from the app, built once per process in `create_app`."""

from __future__ import annotations

from flask import current_app

from api.auth.identity import IdentityProvider
from api.config import Settings
from api.cursor_secret import CursorSecret
from api.pagination import CursorCodec

_KEY = "tasklake"
_CURSORS = "tasklake.cursors"


def install(app_extensions: dict[str, object], settings: Settings) -> None:
    app_extensions[_KEY] = settings
    app_extensions[_CURSORS] = CursorSecret(settings)  # read on first use


def settings() -> Settings:
    value: Settings = current_app.extensions[_KEY]
    return value


def identity() -> IdentityProvider:
    return IdentityProvider(settings())


def cursors() -> CursorCodec:
    secret: CursorSecret = current_app.extensions[_CURSORS]
    return CursorCodec(secret.value())
