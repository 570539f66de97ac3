"""With SnapStart (prod), the snapshot holds the DynamoDB client and the JWKS fetch's TLS
context ready, so a restored container's first signed-in request builds neither.

`snapshot_restore_py` ships only inside Lambda's Python runtime, and no local engine runs
snapshot hooks: a stand-in module records the registration here (mocked, for that reason).
https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from api import snapshot
from api.app import create_app
from api.auth.tokens import jwks_tls_context
from api.config import Settings


@pytest.fixture
def built_clients(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    create_client = botocore.session.Session.create_client

    def counting(self: botocore.session.Session, service_name: str, *args: Any, **kw: Any) -> Any:
        built.append(service_name)
        return create_client(self, service_name, *args, **kw)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return built


def test_the_snapshot_holds_the_clients_the_first_signed_in_request_needs(
    engines: dict[str, str], built_clients: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = hooks.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    create_app(Settings.from_env(engines))
    jwks_tls_context.cache_clear()

    assert snapshot.register()
    assert built_clients == []  # registering builds nothing: init stays as lean as before
    (before_snapshot,) = hooks
    before_snapshot()

    assert built_clients == ["dynamodb"]
    assert jwks_tls_context.cache_info().currsize == 1
    assert "ulid" in sys.modules


def test_without_snapstart_nothing_is_registered_or_built(
    engines: dict[str, str], built_clients: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    create_app(Settings.from_env(engines))

    assert not snapshot.register()
    assert built_clients == []
