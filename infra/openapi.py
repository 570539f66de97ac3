"""`make openapi`: the API's description, committed where a reviewer reads it without running
anything: docs/openapi.json (the document the app serves at /openapi.json) and the endpoint
table in docs/README.md (method, path, auth, summary), both written from the app itself.

    python -m infra.openapi [--check]

tests/docs/test_openapi_document.py fails when either differs from the app, naming this command.
The app is built offline: nothing it describes depends on a table, a user pool or a secret, so a
stage name is all the settings it needs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api.app import create_app
from api.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
INDEX = ROOT / "docs" / "README.md"
COMMAND = "make openapi"
TABLE_START = f"<!-- endpoints: written by `{COMMAND}` from the app; do not edit -->"
TABLE_END = "<!-- /endpoints -->"
METHODS = ("get", "post", "put", "patch", "delete")


def spec() -> dict[str, Any]:
    """The OpenAPI document the app serves, built without a request (and its access log)."""
    app = create_app(Settings.from_env({"STAGE": "docs"}))
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    document: dict[str, Any] = api.spec.to_dict()
    return document


def document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def endpoint_table(document: dict[str, Any]) -> str:
    """One row per operation, in the document's order (the order the blueprints register)."""
    rows = ["| Method | Path | Auth | Summary |", "|---|---|---|---|"]
    for path, operations in document["paths"].items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            auth = "bearer token" if operation.get("security") else "none"
            summary = operation.get("summary", "").replace("|", "\\|")
            rows.append(f"| {method.upper()} | `{path}` | {auth} | {summary} |")
    return "\n".join(rows)


def with_table(index: str, table: str) -> str:
    """The index with the text between the markers replaced by the table."""
    start, end = index.find(TABLE_START), index.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"{INDEX.name} lacks the lines {TABLE_START!r} … {TABLE_END!r}")
    return f"{index[: start + len(TABLE_START)]}\n{table}\n{index[end:]}"


def stale_files() -> dict[Path, str]:
    """Each file that differs from the app, with the text it should hold."""
    document = spec()
    wanted = {
        DOCUMENT: document_text(document),
        INDEX: with_table(INDEX.read_text(encoding="utf-8"), endpoint_table(document)),
    }
    return {
        path: text
        for path, text in wanted.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only say what is stale (exit 1)")
    args = parser.parse_args(argv)
    try:
        stale = stale_files()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path, text in stale.items():
        name = path.relative_to(ROOT)
        if args.check:
            print(f"{name} differs from the app: run `{COMMAND}`", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {name}")
    if not stale:
        print("docs/openapi.json and the endpoint table match the app")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
