"""The SQL the documentation shows runs on the local lake, through the path `make query` takes
(`etl.query.connect_lake`: DuckDB views named like the Glue tables, ADR 0020). The SQL in
docs/ is written in the subset Athena and DuckDB share, so it runs as written, untranslated.

Checked: every fenced ```sql block in README.md and docs/, and every `make query SQL='…'` /
`make query FILE=…` in those documents.

Not checked, on purpose:
- a block whose info string says so: ```sql no-run (for SQL only Athena runs, such as Glue
  DDL); none is marked today — keep them rare and say why next to each;
- `make query SQL='…'` whose SQL is a placeholder (contains `…`).
"""

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from etl.compared_snapshot import local_compared_snapshot
from etl.dynamodb_export import find_export_files
from etl.lake_status import LAKE_STATUS_TABLE, ExportOrigin, status_row
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.query import connect_lake, write_csv
from etl.synthetic import generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from tests.docs.markdown import ROOT, documents, fences, make_commands, relative

# Two days, so `<table>_latest` and per-day trends have something to tell apart; a few hundred
# tasks, so the lake builds in well under a second.
LAKE_DAY = date(2026, 11, 25)
LAKE_TASKS = 400
SQL_DOCUMENTS = [
    path
    for path in documents()
    if relative(path) == "README.md" or relative(path).startswith("docs/")
]


@dataclass(frozen=True)
class Example:
    where: str  # file:line
    sql: str = ""
    file: str = ""  # or the SQL is in this file (`make query FILE=…`), relative to the root

    def text(self) -> str:
        path = ROOT / self.file
        assert not self.file or path.is_file(), f"{self.where}: FILE={self.file} does not exist"
        return path.read_text() if self.file else self.sql


def documented_sql() -> list[Example]:
    """Every runnable SQL example in SQL_DOCUMENTS."""
    found: list[Example] = []
    for document in SQL_DOCUMENTS:
        text = document.read_text()
        found += [
            Example(f"{relative(document)}:{fence.line}", sql=fence.text)
            for fence in fences(text)
            if fence.language == "sql" and "no-run" not in fence.flags
        ]
        for command in make_commands(text):
            if "query" not in command.targets:
                continue
            where = f"{relative(document)}:{command.line}"
            sql = command.variables.get("SQL", "")
            if sql and "…" not in sql:
                found.append(Example(where, sql=sql))
            if "FILE" in command.variables:
                found.append(Example(where, file=command.variables["FILE"]))
    return found


SQL = documented_sql()


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-day lake written by the transform, and each day's lake_status row as the publish
    writes it, as `make etl` leaves one under .local/lake."""
    root = tmp_path_factory.mktemp("docs-lake")
    tasks = list(generate_tasks(LAKE_TASKS, LAKE_DAY, seed=11))
    for day, day_tasks in (
        (LAKE_DAY - timedelta(days=1), tasks[: LAKE_TASKS // 2]),
        (LAKE_DAY, tasks),
    ):
        export = root / f"export-{day}"
        write_export((to_dynamodb_item(task) for task in day_tasks), export)
        compared = local_compared_snapshot(root / "lake", day)
        result = transform_export(find_export_files(export), root / "lake", day, compared)
        status = root / "lake" / partition_path(LAKE_STATUS_TABLE, day) / PARQUET_FILE_NAME
        status.parent.mkdir(parents=True)
        midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
        origin = ExportOrigin("duckdb", "native", midnight)
        pq.write_table(status_row(day, midnight + timedelta(hours=1), result.rows, origin), status)
    return root / "lake"


def test_documented_sql_is_found() -> None:
    assert SQL, "no SQL found in the documentation: has the README's `make query SQL=` gone?"


@pytest.mark.parametrize("example", SQL, ids=[example.where for example in SQL])
def test_documented_sql_runs_on_the_local_lake(example: Example, lake: Path) -> None:
    sql = example.text()
    output = io.StringIO()
    try:
        write_csv(connect_lake(str(lake)), sql, output)
    except duckdb.Error as error:
        pytest.fail(
            f"{example.where}: does not run on the local lake: {error}\n{sql}", pytrace=False
        )
    assert output.getvalue().count("\n") >= 1, f"{example.where}: no header row"
