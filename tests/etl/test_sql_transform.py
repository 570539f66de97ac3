"""The transform's SQL (etl/sql/, Athena's Trino dialect) gives exactly the pyarrow path's tables.

Athena itself cannot run here (no AWS account, and moto cannot execute queries), so the same SQL
runs on DuckDB: sqlglot translates it (`transpile(sql, read="trino", write="duckdb")`) and
`bronze_tasks` is a `read_json` view of the export files whose `Item` column has the external
table's type (`BRONZE_ITEM_TYPE`, translated by sqlglot too). Each table is compared with what the
pyarrow transform publishes from the same files: column names, order and types, then every row,
sorted, nulls included. The SQL is also parsed as Trino and must come back unchanged when sqlglot
writes it as Trino, calling only functions sqlglot knows in that dialect (all of them in Athena v3).

Where a pass here does not prove Athena gives the same, i.e. the translation's caveats:
- sqlglot maps names, not meanings: `from_iso8601_timestamp_nanos` becomes a cast to TIMESTAMPTZ,
  `to_unixtime` becomes `epoch`, `transform` becomes `list_transform`. Types are not mapped:
  `count_if` is bigint in Trino but a 128-bit integer in DuckDB, so the SQL counts with
  `count(*) FILTER (WHERE …)`, bigint in both; integer `/` truncates in Trino but not in DuckDB,
  so the SQL divides only by double literals or `2.0` (ADR 0020).
- DuckDB's timestamps carry no zone where pyarrow's say UTC: both are Glue `timestamp`, so they are
  compared as UTC wall times. Athena writes Glue timestamps in milliseconds and the pyarrow path in
  microseconds: Athena's `created_at`, `updated_at` and `completed_at` lose the microseconds,
  which DuckDB keeps (`hours_to_complete` is computed before and keeps them in both).
- DuckDB matches JSON keys by case (`Item`, `S`), Athena's JSON SerDe ignores case; the SQL names
  fields in lower case, which both engines resolve without regard to case.
"""

import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from etl.dynamodb_export import find_export_files
from etl.schemas import TABLES
from etl.synthetic import SyntheticTask, to_dynamodb_item, write_export
from etl.transform import transform_export
from etl.transform_sql import BRONZE_RELATION, table_query
from tests.etl.conftest import SNAPSHOT, read_partition
from tests.etl.items import Item, task_item
from tests.etl.sql_on_duckdb import differences, duckdb_over_export, run_on_duckdb


def _without(item: Item, attribute: str) -> Item:
    return {name: value for name, value in item.items() if name != attribute}


def _with(item: Item, attribute: str, value: dict[str, Any]) -> Item:
    return {**item, attribute: value}


EDGE_ITEMS: list[Item] = [
    task_item("edge-a", "no-optional-attributes"),
    task_item("edge-a", "empty-tag-list", tags=[]),
    _with(task_item("edge-a", "null-tags"), "tags", {"NULL": True}),
    _with(task_item("edge-a", "tag-set"), "tags", {"SS": ["home", "work"]}),
    _with(
        task_item("edge-a", "odd-tags"), "tags", {"L": [{"S": "home"}, {"S": "home"}, {"N": "1"}]}
    ),
    _with(task_item("edge-a", "null-due-date"), "due_date", {"NULL": True}),
    task_item("edge-a", "due-yesterday", due_date="2026-11-24", tags=["home"]),
    task_item("edge-a", "due-today", due_date="2026-11-25", tags=["home"]),
    _without(task_item("edge-a", "no-status", due_date="2026-11-01", tags=["work"]), "status"),
    _without(task_item("edge-b", "no-version", priority={"NULL": True}), "version"),
    task_item("edge-b", "unknown-attribute", archived={"BOOL": True}, version={"N": "42"}),
    task_item("edge-b", "created-today", created_at="2026-11-25T23:59:59.999999Z"),
    task_item("edge-b", "done-undated", status="done", due_date="2026-11-01", tags=["work"]),
    *(
        task_item(
            "edge-c",
            f"done-{completed_at}",
            status="done",
            created_at="2026-11-24T10:00:00.000001Z",
            completed_at=completed_at,
            due_date="2026-11-20",
        )
        for completed_at in (
            "2026-11-24T23:59:59.999999Z",
            "2026-11-25T00:00:00.000000Z",
            "2026-11-25T13:30:00.250000Z",
            "2026-11-25T13:30:00.250000Z",
            "2026-11-25T18:00:00.000007Z",
            "2026-11-26T00:00:00.000000Z",
        )
    ),
    *(
        task_item("edge-d", f"done-{hour}", status="done", completed_at=f"2026-11-25T{hour}:00:00Z")
        for hour in ("09", "12")
    ),
]


@pytest.fixture(scope="module")
def export_files(
    tmp_path_factory: pytest.TempPathFactory, synthetic_tasks: list[SyntheticTask]
) -> list[Path]:
    items = [*EDGE_ITEMS, *(to_dynamodb_item(task) for task in synthetic_tasks)]
    export_dir = tmp_path_factory.mktemp("sql-export") / "export"
    write_export(items, export_dir)
    return find_export_files(export_dir)


@pytest.fixture(scope="module")
def pyarrow_lake(tmp_path_factory: pytest.TempPathFactory, export_files: list[Path]) -> Path:
    lake = tmp_path_factory.mktemp("sql-pyarrow") / "lake"
    transform_export(export_files, lake, SNAPSHOT)
    return lake


@pytest.fixture(scope="module")
def duckdb_bronze(export_files: list[Path]) -> duckdb.DuckDBPyConnection:
    return duckdb_over_export(export_files)


def trino_tokens(sql: str) -> list[str]:
    """`sql`'s tokens, with the two rewrites sqlglot makes of valid Trino undone."""
    sql = re.sub(r"NOT (\S+) IS NULL", r"\1 IS NOT NULL", sql)
    sql = re.sub(r"AT_TIMEZONE\((\S+), ('\w+')\)", r"\1 AT TIME ZONE \2", sql)
    return [token.text.lower() for token in sqlglot.tokenize(sql, read="trino")]


@pytest.mark.parametrize("table", list(TABLES))
def test_sql_on_duckdb_gives_the_pyarrow_rows(
    table: str, pyarrow_lake: Path, duckdb_bronze: duckdb.DuckDBPyConnection
) -> None:
    expected = read_partition(pyarrow_lake, table)

    actual = run_on_duckdb(duckdb_bronze, table_query(table, SNAPSHOT))

    assert differences(table, expected, actual) == []


def test_the_comparison_catches_a_one_character_change(
    pyarrow_lake: Path, duckdb_bronze: duckdb.DuckDBPyConnection
) -> None:
    overdue_on_the_due_day = table_query("tasks", SNAPSHOT).replace("due_date <", "due_date <=")

    actual = run_on_duckdb(duckdb_bronze, overdue_on_the_due_day)

    problems = differences("tasks", read_partition(pyarrow_lake, "tasks"), actual)
    assert problems
    assert any("'task_id': 'due-today'" in problem for problem in problems)


@pytest.mark.parametrize("table", list(TABLES))
def test_sql_is_trino_as_written(table: str) -> None:
    sql = table_query(table, date(2026, 11, 25))
    (tree,) = sqlglot.parse(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert tree is not None

    (written,) = sqlglot.transpile(sql, read="trino", write="trino")

    assert trino_tokens(written) == trino_tokens(sql)
    assert [node.name for node in tree.find_all(exp.Anonymous)] == []
    assert {t.name for t in tree.find_all(exp.Table)} <= {BRONZE_RELATION, "tasks"}
