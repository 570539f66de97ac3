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
import json
import os
import re
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from etl.lake_layout import POINTER_NAME, is_data_file
from etl.schemas import CATALOG_TABLES, LATEST_TABLES, PARTITION_KEYS

DEFAULT_LAKE_ROOT = ".local/lake"
_PARTITION = re.compile(r"/year=[^/]+/month=[^/]+/day=[^/]+/")


def _data_files(connection: duckdb.DuckDBPyConnection, pattern: str) -> list[str]:
    rows = connection.execute("SELECT file FROM glob(?) ORDER BY file", [pattern]).fetchall()
    return [file for (file,) in rows if is_data_file(file.rsplit("/", 1)[-1])]


def partition_files(connection: duckdb.DuckDBPyConnection, lake_root: str, table: str) -> list[str]:
    """Every data file of each published partition of `table`: what Athena would read.

    Two layouts. A copy of the lake bucket (or the bucket itself) keeps one `run=` folder per
    attempt in each partition, and `_published/…/pointer.json` names the folder the catalog
    serves: only that one is read. `make transform` and the local mirror write the served files
    straight into each `year=/month=/day=` folder.
    """
    root = f"{lake_root.rstrip('/')}/{table}"
    pointers = [
        file
        for (file,) in connection.execute(
            "SELECT file FROM glob(?) ORDER BY file", [f"{root}/_published/*/*/*/{POINTER_NAME}"]
        ).fetchall()
    ]
    if not pointers:
        return _data_files(connection, f"{root}/year=*/month=*/day=*/*")
    files: list[str] = []
    for (content,) in connection.execute(
        "SELECT content FROM read_text(?) ORDER BY filename", [pointers]
    ).fetchall():
        # The pointer names the bucket's folder; the same path under this root is its copy.
        served = json.loads(content)["location"].split(f"/{table}/", 1)[1]
        files += _data_files(connection, f"{root}/{served.rstrip('/')}/*")
    return files


def _newest_partition(files: list[str]) -> list[str]:
    """The files of the newest `year=/month=/day=` partition among `files`."""

    def day(file: str) -> str:
        match = _PARTITION.search(file)
        return match[0] if match else ""

    newest = max(map(day, files))
    return [file for file in files if day(file) == newest]


def _sql_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + file.replace("'", "''") + "'" for file in files) + "]"


def connect_lake(lake_root: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with views of each lake table that has data, and its latest."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    hive_types = ", ".join(f"'{name}': 'VARCHAR'" for name, _ in PARTITION_KEYS)
    latest_of = {table: latest for latest, table in LATEST_TABLES.items()}
    keys = [name for name, _ in PARTITION_KEYS]
    for table in CATALOG_TABLES:
        files = partition_files(connection, lake_root, table)
        if not files:
            continue
        # A `run=` folder reads as one more Hive key, which Athena's table does not have; the
        # partition keys come last, in Glue's order, whatever order DuckDB found them in.
        hidden = [*keys, "run"] if "/run=" in files[0] else keys
        # Names from CATALOG_TABLES; the paths are ours.
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * EXCLUDE ({', '.join(hidden)}), "  # noqa: S608
            f"{', '.join(keys)} FROM read_parquet({_sql_list(files)}, "
            f"hive_partitioning = true, hive_types = {{{hive_types}}})"
        )
        if table not in latest_of:
            continue
        connection.execute(
            f"CREATE VIEW {latest_of[table]} AS SELECT * FROM read_parquet("  # noqa: S608
            f"{_sql_list(_newest_partition(files))}, hive_partitioning = false)"
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
