"""Run SQL over the local lake with DuckDB, standing in for Athena; prints CSV with a header.

    python -m etl.query "SELECT count(*) FROM tasks"
    python -m etl.query --file docs/queries/completion_rate_per_day.sql

Each lake table is a view named like its Glue table, over the Hive partitions under the lake root
(`LAKE_ROOT`, default `.local/lake`), with year/month/day as strings as Glue declares them; each
`<table>_latest` is a view of the newest partition's files only, without partition columns, as
publish points the Glue table of that name (etl/latest_snapshot.py). Sessions run in UTC so
casting a timestamp to a date gives the same day as Athena.
"""

import argparse
import csv
import os
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from etl.schemas import LATEST_TABLES, PARTITION_KEYS, TABLES

DEFAULT_LAKE_ROOT = ".local/lake"


def _has_files(lake_root: str, table: str) -> bool:
    # An S3 root is not listed here: DuckDB resolves it (with its httpfs extension) at query time.
    return lake_root.startswith("s3://") or any(Path(lake_root, table).glob("*/*/*/*.parquet"))


def _newest_partition(connection: duckdb.DuckDBPyConnection, files: str) -> str:
    """The folder of the newest `year=/month=/day=` partition among `files` (a glob)."""
    (newest,) = connection.execute("SELECT max(file) FROM glob(?)", [files]).fetchone() or (None,)
    return str(newest).rsplit("/", 1)[0]


def connect_lake(lake_root: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with views of each lake table that has data, and its latest."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    hive_types = ", ".join(f"'{name}': 'VARCHAR'" for name, _ in PARTITION_KEYS)
    latest_of = {table: latest for latest, table in LATEST_TABLES.items()}
    for table in TABLES:
        if not _has_files(lake_root, table):
            continue
        files = f"{lake_root.rstrip('/')}/{table}/*/*/*/*.parquet"
        # Names from TABLES; the paths are ours.
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet("  # noqa: S608
            f"'{files}', hive_partitioning = true, hive_types = {{{hive_types}}})"
        )
        newest = _newest_partition(connection, files)
        connection.execute(
            f"CREATE VIEW {latest_of[table]} AS SELECT * FROM read_parquet("  # noqa: S608
            f"'{newest}/*.parquet', hive_partitioning = false)"
        )
    return connection


def write_csv(connection: duckdb.DuckDBPyConnection, sql: str, output: TextIO) -> None:
    cursor = connection.execute(sql)
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(column[0] for column in cursor.description or [])
    while rows := cursor.fetchmany(10_000):
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl.query", description="Run SQL over the local lake; print CSV."
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("sql", nargs="?", help="the SQL text")
    source.add_argument("--file", type=Path, help="a .sql file to run instead")
    args = parser.parse_args(argv)
    lake_root = os.environ.get("LAKE_ROOT", DEFAULT_LAKE_ROOT)
    try:
        sql = args.file.read_text() if args.file else args.sql
        write_csv(connect_lake(lake_root), sql, sys.stdout)
    except BrokenPipeError:
        # The reader (e.g. `| head`) has seen enough; silence the flush at interpreter exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (duckdb.Error, OSError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"query failed: {first_line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
