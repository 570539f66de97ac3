"""What request handlers need from the app, built once per process in `create_app`."""

from __future__ import annotations

from flask import current_app

from api.auth.identity import IdentityProvider
from api.config import Settings
from api.pagination import CursorCodec

_KEY = "tasklake"


def install(app_extensions: dict[str, object], settings: Settings) -> None:
    app_extensions[_KEY] = settings


def settings() -> Settings:
    value: Settings = current_app.extensions[_KEY]
    return value


def identity() -> IdentityProvider:
    return IdentityProvider(settings())


def cursors() -> CursorCodec:
    return CursorCodec(settings().require("cursor_secret"))
