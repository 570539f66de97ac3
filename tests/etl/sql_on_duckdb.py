"""The transform's Athena SQL run on DuckDB, and the table comparison both equality tests use.

Why DuckDB stands in for Athena, and where that proof stops: tests/etl/test_sql_transform.py.
"""

from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from etl.schemas import glue_type
from etl.transform_sql import BRONZE_ITEM_TYPE, BRONZE_RELATION

SORT_KEYS = {
    "tasks": ["user_id", "task_id"],
    "user_daily_stats": ["user_id"],
    "tag_daily_stats": ["tag"],
}


def duckdb_over_export(export_files: list[Path]) -> duckdb.DuckDBPyConnection:
    """DuckDB with `bronze_tasks` shaped like Athena's external table over the export."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    item_type = exp.DataType.build(BRONZE_ITEM_TYPE, dialect="hive").sql("duckdb")
    files = ", ".join(f"'{path}'" for path in export_files)
    connection.execute(
        f"CREATE VIEW {BRONZE_RELATION} AS SELECT * FROM read_json([{files}], "  # noqa: S608
        f"format = 'newline_delimited', columns = {{'Item': '{item_type}'}})"
    )
    return connection


def run_on_duckdb(connection: duckdb.DuckDBPyConnection, trino_sql: str) -> pa.Table:
    (duckdb_sql,) = sqlglot.transpile(
        trino_sql, read="trino", write="duckdb", error_level=sqlglot.ErrorLevel.RAISE
    )
    return connection.sql(duckdb_sql).to_arrow_table()


def _engine_neutral(arrow_type: pa.DataType) -> pa.DataType:
    """The type with the timestamp zone dropped: Glue's `timestamp` has none (UTC by convention)."""
    if pa.types.is_timestamp(arrow_type):
        return pa.timestamp(arrow_type.unit)
    return arrow_type


def differences(table: str, expected: pa.Table, actual: pa.Table) -> list[str]:
    """Every way `actual` differs from `expected`: columns, types, then rows in key order."""
    expected_types = [(f.name, _engine_neutral(f.type), glue_type(f.type)) for f in expected.schema]
    actual_types = [(f.name, _engine_neutral(f.type), glue_type(f.type)) for f in actual.schema]
    if actual_types != expected_types:
        return [f"columns: {actual_types} != {expected_types}"]
    keys = [(key, "ascending") for key in SORT_KEYS[table]]
    expected_rows = expected.sort_by(keys).to_pylist()
    actual_rows = actual.cast(expected.schema).sort_by(keys).to_pylist()
    problems = [f"{len(actual_rows)} rows != {len(expected_rows)}"] * (
        len(actual_rows) != len(expected_rows)
    )
    return problems + [
        f"row {index}: {got} != {want}"
        for index, (got, want) in enumerate(zip(actual_rows, expected_rows, strict=False))
        if got != want
    ]
