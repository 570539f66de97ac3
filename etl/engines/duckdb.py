"""Run the lake's Athena SQL on DuckDB, on the worker, within a fixed memory budget.

The statements in etl/sql/ are Athena engine v3 (Trino) SQL. `to_duckdb` is the one place where
the two dialects meet: sqlglot translates the names (`transform` -> `list_transform`,
`from_iso8601_timestamp` -> a cast to TIMESTAMPTZ, `timestamp(3)` -> `TIMESTAMP_MS`, ...). It maps
names, not meanings, so the SQL keeps to what means the same in both (etl/athena_rules.py checks
the Athena side; tests/etl/test_schemas.py that DuckDB writes exactly the Glue types):
- counts are `count(*) [FILTER (...)]` (bigint in both) and sums of counts are cast to bigint
  (DuckDB's sum of bigints is a 128-bit integer);
- every `/` has a decimal or double divisor (integer `/` truncates in Athena, not in DuckDB);
- timestamps are built as `timestamp(3)` from whole milliseconds, as Athena writes them.
`to_duckdb` also rewrites two constructs DuckDB computes slowly into the same result computed
fast: a `date_diff` in milliseconds (`_millisecond_diff_as_epoch_arithmetic`) and `array_distinct`
of a short list column (`_array_distinct_by_first_position`).

DuckDB is bounded as its tuning guide says: a `memory_limit`, a `temp_directory` to spill into,
and `preserve_insertion_order = false`, so large copies and aggregates stream or spill instead of
growing. The SQL uses only aggregates that spill (GROUP BY, not count(DISTINCT ...)).
"""

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from etl.engines import ZSTD_LEVEL

MEMORY_LIMIT = os.environ.get("TASKLAKE_DUCKDB_MEMORY_LIMIT", "256MB")
"""DuckDB's own buffers; the process adds the JSON reader's and Python's on top (peak RSS stays
within the transform's 512 MiB budget: docs/benchmarks.md, ETL section)."""
THREADS = int(os.environ.get("TASKLAKE_DUCKDB_THREADS", "2"))
"""Each thread holds its own buffers within the limit; measured on the 2-core bench machine
(MWAA's mw1.small has 1 vCPU: ADR 0016)."""
ROW_GROUP_ROWS = 400_000
"""Large row groups suit Athena's splits and cost nothing in size…"""
ROW_GROUP_BYTES = "32MB"
"""… but the writer holds a row group per thread in memory until it is full: with ten free-form
tags a task, 400k rows overran the memory limit, so a group also ends at this size."""
JSON_OBJECT_BYTES = 1 << 20
"""The largest export line read: a DynamoDB item is at most 400 KB. DuckDB's reader buffers a few
times this per thread (its default, 16 MB, costs 32 MB before the first row)."""


def connect(spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session bounded by MEMORY_LIMIT, spilling into `spill_dir`, in UTC."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(spill_dir),
            "preserve_insertion_order": False,
            "threads": THREADS,
        }
    )
    # Athena's sessions are in UTC: a cast of a moment to a date gives the same day in both.
    connection.execute("SET TimeZone = 'UTC'")
    # It draws on stderr whatever stderr is: noise in the task's log on the worker.
    connection.execute("SET enable_progress_bar = false")
    # The sqlglot MWAA's constraints pin (30.15) writes Trino's `x -> …` lambdas as they are;
    # later ones write DuckDB's `lambda x: …`. DuckDB 2 refuses the arrow unless told.
    connection.execute("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
    return connection


def to_duckdb(trino_sql: str) -> str:
    """The Athena statement in DuckDB's dialect."""
    statement = sqlglot.parse_one(trino_sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    statement = statement.transform(_millisecond_diff_as_epoch_arithmetic)
    statement = statement.transform(_array_distinct_by_first_position)
    return statement.sql("duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _floor_epoch_milliseconds(moment: exp.Expression) -> exp.Expression:
    """Whole milliseconds from the epoch to `moment`, rounded down as DuckDB's date_diff counts
    them (DuckDB's `//` truncates toward zero, so a negative remainder is taken off first).

    Not `epoch_ms`: DuckDB rounds it to the nearest millisecond. Not `floor(epoch_us / 1000.0)`:
    a double loses microseconds far from the epoch."""

    def microseconds() -> exp.Expression:  # a node has one parent: a fresh one for each use
        return exp.Anonymous(this="epoch_us", expressions=[moment.copy()])

    thousand = exp.Literal.number(1000)
    below_whole = exp.Mod(
        this=exp.Paren(this=exp.Mod(this=microseconds(), expression=thousand) + 1000),
        expression=thousand.copy(),
    )
    return exp.IntDiv(this=exp.Paren(this=microseconds() - below_whole), expression=thousand.copy())


def _millisecond_diff_as_epoch_arithmetic(node: exp.Expression) -> exp.Expression:
    """`date_diff('millisecond', a, b)` as the difference of the two moments' epoch milliseconds.

    The same number (the millisecond boundaries between them), but DuckDB computes its date_diff
    of zoned timestamps in ICU's calendar, about 0.19 µs a value against 0.05: with three a task
    it was near a third of the `tasks` statement's time (docs/benchmarks.md, ETL section).
    Exact for timestamps, zoned or not, in the UTC session `connect` opens (a plain timestamp's
    epoch is then its UTC reading, as date_diff takes it); etl/sql/ passes only moments parsed
    by `from_iso8601_timestamp`.
    """
    if not isinstance(node, exp.DateDiff) or node.unit is None:
        return node
    if node.unit.name.upper() != "MILLISECOND":
        return node
    start, end = node.expression, node.this
    return exp.Paren(this=_floor_epoch_milliseconds(end) - _floor_epoch_milliseconds(start))


DISTINCT_BY_POSITION_MAX = 64
"""The longest list `_array_distinct_by_first_position` de-duplicates by position (the API allows
10 tags); a longer one takes DuckDB's hash set."""


def _array_distinct_by_first_position(node: exp.Expression) -> exp.Expression:
    """`array_distinct` of a column as the elements whose first position in it is their own.

    That is what Trino returns: the first of each value, in order, one NULL kept. sqlglot's
    `list_distinct` drops NULLs and the order, and builds a hash set per list: over 10M free-form
    tag lists it took 2.4 s, against 0.6 s by position (docs/benchmarks.md, ETL section).
    Comparing positions is quadratic in the list's length, so a list longer than
    DISTINCT_BY_POSITION_MAX keeps `list_distinct`, and so does anything but a column (a
    computed list would be computed again for each element). So the SQL removes NULLs before
    `array_distinct` and never relies on its order (etl/athena_rules.py, `CHECKED_FUNCTIONS`).
    """
    if not isinstance(node, exp.ArrayDistinct) or not isinstance(node.this, exp.Column):
        return node
    values = node.this
    # Inside the lambda a parameter would hide a column or table of its name.
    taken = {part.name.lower() for part in values.parts}
    value, position = (
        _name_not_in(taken, name) for name in ("distinct_value", "distinct_position")
    )
    first_of_each = exp.ArrayFilter(
        this=values.copy(),
        expression=exp.Lambda(
            this=exp.EQ(
                this=exp.ArrayPosition(this=values.copy(), expression=value.copy()),
                expression=position.copy(),
            ),
            expressions=[value, position],
        ),
    )
    short = exp.LTE(
        this=exp.ArraySize(this=values.copy()),
        expression=exp.Literal.number(DISTINCT_BY_POSITION_MAX),
    )
    return exp.Case(ifs=[exp.If(this=short, true=first_of_each)], default=node.copy())


def _name_not_in(taken: set[str], name: str) -> exp.Identifier:
    while name in taken:
        name += "_"
    return exp.to_identifier(name)


def create_json_view(
    connection: duckdb.DuckDBPyConnection, name: str, files: Sequence[Path], hive_item_type: str
) -> None:
    """A view `name` over gzipped JSON lines with one column `item`, typed as Athena's external
    table declares it (`hive_item_type`, Hive DDL), as its JSON SerDe reads the files: keys
    matched without regard to case, absent or differently typed attributes read as null.
    No files is an empty table (an empty DynamoDB table exports none), of the same type."""
    item_type = exp.DataType.build(hive_item_type, dialect="hive").sql("duckdb")
    if not files:
        connection.execute(
            f"CREATE VIEW {name} AS SELECT CAST(NULL AS {item_type}) AS item LIMIT 0"
        )
        return
    paths = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    connection.execute(
        f"CREATE VIEW {name} AS SELECT Item AS item FROM read_json("  # noqa: S608 - our paths
        f"[{paths}], format = 'newline_delimited', compression = 'gzip', "
        f"maximum_object_size = {JSON_OBJECT_BYTES}, case_insensitive_keys = true, "
        # Every line is an object whose keys are the columns: said, not sampled. Left to detect,
        # DuckDB reads into every file each time a statement over the view is bound (0.4 s for
        # four files).
        f"records = true, columns = {{'Item': '{item_type}'}})"
    )


def create_parquet_view(connection: duckdb.DuckDBPyConnection, name: str, *paths: Path) -> None:
    """A view `name` over Parquet files of one table: how a later statement reads a table.

    A view of that name already there is replaced: an erasure rewrites day after day in one
    session, each day's gold reading that day's rewritten `tasks`."""
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    connection.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet([{quoted}])"  # noqa: S608
    )


def copy_to_parquet(connection: duckdb.DuckDBPyConnection, trino_sql: str, path: Path) -> int:
    """Write the rows of the Athena statement `trino_sql` to one Parquet file; returns the rows."""
    return _copy(connection, to_duckdb(trino_sql), path)


def _copy(connection: duckdb.DuckDBPyConnection, duckdb_sql: str, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    quoted = str(path).replace("'", "''")
    result = connection.execute(
        f"COPY ({duckdb_sql}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd, "
        f"COMPRESSION_LEVEL {ZSTD_LEVEL}, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, "
        f"ROW_GROUP_SIZE_BYTES '{ROW_GROUP_BYTES}')"
    ).fetchone()
    return int(result[0]) if result else 0


def copy_slices_to_parquet(
    connection: duckdb.DuckDBPyConnection, trino_sqls: Sequence[str], path: Path
) -> int:
    """Write the rows of several Athena statements with disjoint rows to one Parquet file.

    Each statement is written alone, then the files are copied into `path`: the lake keeps one
    file a partition. The slices' files go, whatever happens.
    """
    if len(trino_sqls) == 1:
        return copy_to_parquet(connection, trino_sqls[0], path)
    slices = [path.with_name(f".{path.stem}.slice-{n}.parquet") for n in range(len(trino_sqls))]
    try:
        for trino_sql, slice_path in zip(trino_sqls, slices, strict=True):
            copy_to_parquet(connection, trino_sql, slice_path)
        quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in slices)
        # The slices sit in the partition's `year=/month=/day=` folder: read them as they are,
        # or DuckDB would add those folders as columns.
        select = f"SELECT * FROM read_parquet([{quoted}], hive_partitioning = false)"  # noqa: S608
        return _copy(connection, select, path)
    finally:
        for slice_path in slices:
            slice_path.unlink(missing_ok=True)
