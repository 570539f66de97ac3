"""etl/engines/duckdb.py: what its translation changes must mean the same in DuckDB."""

from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot

from etl.engines import duckdb as engine
from etl.transform_sql import BRONZE_ITEM_TYPE, table_query

MOMENTS = [
    "2026-11-20T08:15:30.123456Z",
    "2026-03-29T01:30:00.5+01:00",
    "1970-01-01T00:00:00.0009Z",
    "1969-12-31T23:59:59.9995Z",
    "1960-05-05T01:02:03.000999+05:30",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
]
"""Whole and partial milliseconds on both sides of the epoch, in several offsets."""


@pytest.mark.parametrize("moment", MOMENTS)
def test_millisecond_differences_are_duckdbs_own(moment: str, tmp_path: Path) -> None:
    trino = (
        "SELECT date_diff('millisecond', from_iso8601_timestamp('1970-01-01T00:00:00Z'),"
        " from_iso8601_timestamp(moment)),"
        " date_diff('millisecond', from_iso8601_timestamp(moment),"
        " from_iso8601_timestamp('2026-01-01T00:00:00.0005Z')) FROM moments"
    )
    # What sqlglot alone makes of it: DuckDB's own date_diff, the meaning to keep.
    (plain,) = sqlglot.transpile(trino, read="trino", write="duckdb")
    # The worker's own session (UTC), the one the rewrite is exact in.
    connection = engine.connect(tmp_path / "spill")
    connection.execute("CREATE TABLE moments AS SELECT ? AS moment", [moment])

    rewritten = connection.execute(engine.to_duckdb(trino)).fetchall()

    assert rewritten == connection.execute(plain).fetchall()


def test_the_tasks_statement_computes_no_zoned_date_diff() -> None:
    # DuckDB's date_diff of zoned timestamps goes through ICU's calendar: five times the cost of
    # epoch arithmetic, three times a task (docs/benchmarks.md, ETL section).
    sql = engine.to_duckdb(table_query("tasks", date(2026, 11, 25)))

    assert "DATE_DIFF" not in sql.upper()
    assert sql.upper().count("EPOCH_US(") >= 3


def test_other_units_keep_date_diff() -> None:
    sql = engine.to_duckdb("SELECT date_diff('day', DATE '2026-01-01', DATE '2026-01-03')")

    assert duckdb.connect().execute(sql).fetchone() == (2,)
    assert "DATE_DIFF" in sql.upper()


def _first_of_each(values: list[str | None] | None) -> list[str | None] | None:
    """Trino's array_distinct, as its reference states it: each value once, in first-seen order,
    NULL among them."""
    return None if values is None else list(dict.fromkeys(values))


@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", "b", "c", "a"],
        [None, "a", None, "b", "a"],
        ["work", "home"],
        ["x"],
        [],
        None,
        [f"t{n % 7}" for n in range(engine.DISTINCT_BY_POSITION_MAX)],
    ],
)
def test_array_distinct_keeps_the_first_of_each_value_in_order(
    values: list[str | None] | None, tmp_path: Path
) -> None:
    connection = engine.connect(tmp_path / "spill")
    connection.execute("CREATE TABLE lists AS SELECT CAST(? AS VARCHAR[]) AS tags", [values])

    (distinct,) = connection.execute(
        engine.to_duckdb("SELECT array_distinct(tags) FROM lists")
    ).fetchone() or (None,)

    assert distinct == _first_of_each(values)


def test_past_the_bound_a_list_takes_duckdbs_own_distinct(tmp_path: Path) -> None:
    # Why the SQL removes NULLs before array_distinct: past DISTINCT_BY_POSITION_MAX (positions
    # are compared pairwise) DuckDB's list_distinct loses the NULL Trino keeps.
    values = [None] + [f"t{n % 50}" for n in range(engine.DISTINCT_BY_POSITION_MAX)]
    connection = engine.connect(tmp_path / "spill")
    connection.execute("CREATE TABLE lists AS SELECT CAST(? AS VARCHAR[]) AS tags", [values])

    (distinct,) = connection.execute(
        engine.to_duckdb("SELECT array_distinct(tags) FROM lists")
    ).fetchone() or (None,)

    assert sorted(distinct) == sorted({value for value in values if value is not None})


@pytest.mark.parametrize(
    "query",
    [
        "SELECT array_distinct(distinct_value) FROM lists",
        "SELECT array_distinct(distinct_position.distinct_value) FROM lists AS distinct_position",
    ],
)
def test_a_column_named_like_the_lambdas_parameters_is_not_hidden(
    query: str, tmp_path: Path
) -> None:
    connection = engine.connect(tmp_path / "spill")
    connection.execute("CREATE TABLE lists AS SELECT ['b', 'a', 'b', NULL] AS distinct_value")

    assert connection.execute(engine.to_duckdb(query)).fetchall() == [(["b", "a", None],)]


def test_a_computed_list_keeps_duckdbs_own_distinct(tmp_path: Path) -> None:
    # Rewritten, the computed list would be computed again for each of its elements.
    connection = engine.connect(tmp_path / "spill")
    connection.execute("CREATE TABLE lists AS SELECT ['B', 'a', 'b'] AS tags")

    sql = engine.to_duckdb("SELECT array_distinct(transform(tags, tag -> lower(tag))) FROM lists")

    assert "LIST_DISTINCT" in sql.upper()
    assert sorted(connection.execute(sql).fetchall()[0][0]) == ["a", "b"]


def test_a_view_over_the_export_reads_no_file_until_queried(tmp_path: Path) -> None:
    # Left to detect the lines' shape, DuckDB reads into every file each time a statement over
    # the view is bound: twice per run, 0.4 s each for the four files of a 1M-task export.
    unreadable = tmp_path / "part-00000.json.gz"
    unreadable.write_text("not gzip")
    connection = duckdb.connect()

    engine.create_json_view(connection, "bronze", [unreadable], BRONZE_ITEM_TYPE)

    with pytest.raises(duckdb.IOException, match="GZIP"):
        connection.execute("SELECT count(*) FROM bronze").fetchall()
