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
again, so fewer slices are faster."""


def tag_slices(connection: duckdb.DuckDBPyConnection, tasks: str) -> list[str]:
    """The `${tag_slice}` conditions that split `tasks`' tags into slices of PAIRS_PER_SLICE."""
    row = connection.execute(
        f"SELECT coalesce(sum(len(tags)), 0) FROM {tasks}"  # noqa: S608 - a relation of ours
    ).fetchone()
    slices = max(1, math.ceil((row[0] if row else 0) / PAIRS_PER_SLICE))
    if slices == 1:
        return ["TRUE"]
    return [f"hash(tag) % {slices} = {number}" for number in range(slices)]


def copy_table(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    snapshot_date: date,
    target: Path,
    *,
    tasks: str,
    compared: ComparedSnapshot | None = None,
) -> int:
    """Write `table`'s rows for the day to the Parquet file `target`; returns the rows."""
    if table != SLICED_TABLE:
        query = table_query(table, snapshot_date, tasks=tasks, compared=compared)
        return engine.copy_to_parquet(connection, query, target)
    queries = [
        table_query(table, snapshot_date, tasks=tasks, tag_slice=condition)
        for condition in tag_slices(connection, tasks)
    ]
    return engine.copy_slices_to_parquet(connection, queries, target)
