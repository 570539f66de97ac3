"""docs/openapi.json and the endpoint table in docs/README.md are the app's own description.

Both are written by `make openapi` (infra/openapi.py); when an endpoint changes, these tests
fail with that command, so the committed copies never drift from what the app serves.
"""

from __future__ import annotations

import json

from api.app import create_app
from api.config import Settings
from infra.openapi import (
    COMMAND,
    DOCUMENT,
    INDEX,
    TABLE_END,
    TABLE_START,
    document_text,
    endpoint_table,
    spec,
)


def committed_table() -> str:
    index = INDEX.read_text(encoding="utf-8")
    assert TABLE_START in index, f"{INDEX.name} lost the line {TABLE_START!r}"
    assert TABLE_END in index, f"{INDEX.name} lost the line {TABLE_END!r}"
    return index.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()


def test_the_committed_document_is_the_apps() -> None:
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""

    assert committed == document_text(spec()), f"docs/openapi.json is stale: run `{COMMAND}`"


def test_the_committed_document_is_what_the_app_serves() -> None:
    app = create_app(Settings.from_env({"STAGE": "docs"}))

    served = app.test_client().get("/openapi.json").json

    assert json.loads(DOCUMENT.read_text(encoding="utf-8")) == served


def test_the_endpoint_table_is_the_apps() -> None:
    assert committed_table() == endpoint_table(spec()), (
        f"the endpoint table in docs/README.md is stale: run `{COMMAND}`"
    )


def test_the_table_has_a_row_per_operation_with_its_auth() -> None:
    rows = [row.split(" | ") for row in committed_table().splitlines()[2:]]
    documented = {(method.strip("| "), path.strip("`")): auth for method, path, auth, _ in rows}

    # A public sign-in and a signed-in task list: the auth column follows each operation.
    assert documented[("POST", "/auth/token")] == "none"
    assert documented[("GET", "/tasks")] == "bearer token"
    operations = {
        (method.upper(), path)
        for path, item in spec()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert set(documented) == operations
