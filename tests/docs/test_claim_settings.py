"""docs/runbook.md's settings table lists exactly the environment variables api/config.py reads.

The names come from the code: every `environ.get("NAME", …)`, `environ["NAME"]` and
`os.getenv("NAME")` in api/config.py. The table is the one in the runbook whose first column is
backticked variable names and which has a row for `STAGE`; a row may name several variables.
One family is allowed beyond the code's: `AWS_ENDPOINT_URL_<SERVICE>`, which botocore reads
itself so that api/config.py needs no "if local" branch, and which an operator still sets.
"""

import ast
import re
from dataclasses import fields

from api.config import Settings
from tests.docs.markdown import ROOT, without_fences

CONFIG = ROOT / "api" / "config.py"
RUNBOOK = ROOT / "docs" / "runbook.md"
READ_BY_BOTOCORE = re.compile(r"^AWS_ENDPOINT_URL_[A-Z_]+$")
SETTING = re.compile(r"`([A-Z][A-Z0-9_]*)`")
TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
SEPARATOR = re.compile(r"^[\s|:-]+$")


def environment_reads(source: str) -> set[str]:
    """The names `source` reads from the environment."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        target: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            reads = (
                isinstance(function, ast.Attribute)
                and function.attr in {"get", "getenv"}
                and _is_environment(function.value)
            )
            target = node.args[0] if reads else None
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            target = node.slice
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            names.add(target.value)
    return names


def _is_environment(node: ast.expr) -> bool:
    """`environ`, `os.environ` or `os` (for `os.getenv`)."""
    return (isinstance(node, ast.Name) and node.id in {"environ", "os"}) or (
        isinstance(node, ast.Attribute) and node.attr == "environ"
    )


def settings_tables(markdown: str) -> list[list[set[str]]]:
    """Every table whose first column is backticked variable names: the names, row by row."""
    tables: list[list[list[str]]] = [[]]
    for line in without_fences(markdown).split("\n"):
        row = TABLE_ROW.match(line)
        if row:
            tables[-1].append(row.group(1).split("|"))
        elif tables[-1]:
            tables.append([])
    found = []
    for table in tables:
        body = [cells for cells in table[1:] if not SEPARATOR.match("|".join(cells))]
        rows = [set(SETTING.findall(cells[0])) for cells in body]
        if rows and all(rows):
            found.append(rows)
    return found


def table_settings(markdown: str) -> set[str]:
    """The names in the settings table: the table of variables with a row for `STAGE`."""
    tables = [rows for rows in settings_tables(markdown) if any("STAGE" in row for row in rows)]
    assert len(tables) == 1, f"expected one settings table with a `STAGE` row, found {len(tables)}"
    return set().union(*tables[0])


def test_the_code_reads_are_found() -> None:
    source = (
        "import os\nfrom os import environ\n"
        "def f(environ):\n"
        "    return environ.get('A', 1), environ['B'], os.getenv('C'), os.environ.get('D'),"
        " {}.get('NOT_ENV')\n"
    )
    assert environment_reads(source) == {"A", "B", "C", "D"}


def test_the_settings_table_is_found_and_a_missing_row_shows() -> None:
    runbook = (
        "| task | command |\n|---|---|\n| run | `make run` |\n\n"
        "| variable | default | meaning |\n|---|---|---|\n"
        "| `STAGE` | — | the stage |\n| `TASKS_TABLE`, `USERS_TABLE` | from `STAGE` | tables |\n"
    )
    assert table_settings(runbook) == {"STAGE", "TASKS_TABLE", "USERS_TABLE"}
    assert table_settings(runbook) != environment_reads(CONFIG.read_text(encoding="utf-8"))


def test_the_runbook_lists_exactly_the_settings_the_code_reads() -> None:
    read = environment_reads(CONFIG.read_text(encoding="utf-8"))
    listed = table_settings(RUNBOOK.read_text(encoding="utf-8"))
    missing = sorted(read - listed)
    extra = sorted(name for name in listed - read if not READ_BY_BOTOCORE.match(name))
    assert (missing, extra) == ([], []), (
        f"docs/runbook.md's settings table: missing {missing} (read by api/config.py), "
        f"extra {extra} (api/config.py does not read them)"
    )


def test_every_setting_has_a_name_found_in_the_code() -> None:
    """If from_env moved its reads behind a helper, the names would stop being found here."""
    read = environment_reads(CONFIG.read_text(encoding="utf-8"))
    assert len(read) >= len(fields(Settings)), sorted(read)
