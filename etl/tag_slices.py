"""`tag_daily_stats` on the worker, in slices of the tag space when one pass would not fit.

Its inner GROUP BY has a group per (tag, user): with free-form tags at 10M tasks that is 50M
groups, and DuckDB's aggregate then stops with out-of-memory under the worker's limit instead of
spilling (docs/benchmarks.md, ETL section). Each slice keeps the tags whose hash falls in it, so
the slices' rows are disjoint, each complete for its tags, and the table is their union. The
statement is the one in etl/sql/ (`${tag_slice}`); Athena runs it whole.
"""

import math
from datetime import date
from pathlib import Path

import duckdb

from etl.engines import duckdb as engine
from etl.transform_sql import ComparedSnapshot, table_query

SLICED_TABLE = "tag_daily_stats"
PAIRS_PER_SLICE = 30_000_000
"""(task, tag) pairs one slice may hold: its groups are at most as many. Keyed by a tag and a
user's number, the statement over four fifths of the tags of 10M free-form tasks (40M groups)
ran within the 256MB limit at 392 MiB peak, and over all of them (50M) ran out of memory
(docs/benchmarks.md): a slice may take three quarters of what held. Each slice reads every task
again, so fewer slices are faster, down to two: under DuckDB 2.0.1 the 50M groups now finish in
one pass, but it spills so much that it took 31.9 s against 19.6 s in two slices and 21.8 s in
three."""


TAGS_LEAF = "tags, list, element"
"""The Parquet leaf column of `tasks.tags`, as parquet_metadata names it."""


def tag_slices(connection: duckdb.DuckDBPyConnection, tasks_file: Path) -> list[str]:
    """The `${tag_slice}` conditions that split the tags in `tasks_file` (silver `tasks` rows)
    into slices of PAIRS_PER_SLICE."""
    slices = max(1, math.ceil(_tag_values(connection, tasks_file) / PAIRS_PER_SLICE))
    if slices == 1:
        return ["TRUE"]
    return [f"hash(tag) % {slices} = {number}" for number in range(slices)]


def _tag_values(connection: duckdb.DuckDBPyConnection, tasks_file: Path) -> int:
    """The non-null tags in the file: the (task, tag) pairs the statement aggregates.

    From the footer when it has the counts (reading every task's tags took 0.95 s of a 10M
    free-form transform), else row by row.
    """
    from_footer = footer_tag_values(connection, tasks_file)
    if from_footer is not None:
        return from_footer
    (counted,) = connection.execute(
        "SELECT count(tag) FROM (SELECT unnest(tags) AS tag FROM read_parquet(?))",
        [str(tasks_file)],
    ).fetchone() or (0,)
    return int(counted)


def footer_tag_values(connection: duckdb.DuckDBPyConnection, tasks_file: Path) -> int | None:
    """The non-null tags in the file as its Parquet footer counts them, without reading a row:
    each row group's values in the tags leaf less its nulls (an empty or null list takes a null
    slot). None when any row group lacks the null count (a writer told to skip statistics, or a
    file without row groups), so that a gap is never read as no tags."""
    (from_footer,) = connection.execute(
        "SELECT CASE WHEN count(*) > 0 AND count(*) = count(stats_null_count) "
        "THEN sum(num_values - stats_null_count) END "
        "FROM parquet_metadata(?) WHERE path_in_schema = ?",
        [str(tasks_file), TAGS_LEAF],
    ).fetchone() or (None,)
    return None if from_footer is None else int(from_footer)


def copy_table(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    snapshot_date: date,
    target: Path,
    *,
    tasks: str,
    tasks_file: Path,
    compared: ComparedSnapshot | None = None,
) -> int:
    """Write `table`'s rows for the day to the Parquet file `target`; returns the rows.

    `tasks` names the relation over the day's silver rows, `tasks_file` the file it reads.
    """
    if table != SLICED_TABLE:
        query = table_query(table, snapshot_date, tasks=tasks, compared=compared)
        return engine.copy_to_parquet(connection, query, target)
    queries = [
        table_query(table, snapshot_date, tasks=tasks, tag_slice=condition)
        for condition in tag_slices(connection, tasks_file)
    ]
    return engine.copy_slices_to_parquet(connection, queries, target)
