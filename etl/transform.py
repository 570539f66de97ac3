"""Transform one DynamoDB export into the lake partitions of its snapshot date, on the worker.

The DAG calls `transform_export`; everything it needs to report or upload is in `TransformResult`.
DuckDB runs each table's statement from etl/sql/ (the same text Athena runs), in the order of
`TABLES`: `tasks` from the export, then each gold table from the `tasks` file just written
(`task_changes` also from the compared day's published `tasks` files, etl/compared_snapshot.py),
and `users` from the users table's export and that same file. Each table written becomes a view
of its name, so any later statement can read it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from etl.compared_snapshot import PublishedTasks
from etl.dynamodb_export import ExportFormatError
from etl.engines import duckdb as engine
from etl.partition_output import PARQUET_FILE_NAME, partition_path, staging_area, swap_in_partition
from etl.schemas import TABLES
from etl.tag_slices import copy_table
from etl.transform_sql import (
    EXPORT_RELATIONS,
    ComparedSnapshot,
    no_rows_of,
)
from etl.validation import ITEM_TABLE

COMPARED_TASKS_VIEW = "compared_tasks"


@dataclass(frozen=True)
class TransformResult:
    """What one run wrote: `files` are POSIX paths relative to the lake root, one per table."""

    snapshot_date: date
    export_items: int
    rows: dict[str, int]
    files: list[str]


def transform_export(
    export_files: Iterable[Path],
    out_root: Path,
    snapshot_date: date,
    compared: PublishedTasks | None = None,
    *,
    users_files: Sequence[Path] = (),
) -> TransformResult:
    """Write every lake table's partition of `snapshot_date` from the export's files.

    `compared` is the published `tasks` partition `task_changes` compares with (None: the lake
    has no earlier day, and `task_changes` is empty). `users_files` are the users table's export
    of the same moment; without them `users` has no rows (the DAG's validation refuses that day
    when tasks has some).

    DuckDB streams the export and spills what does not fit its memory limit, so memory stays
    bounded whatever the export's size or shape. Either every partition is replaced by a complete
    new one or, if anything fails, the lake is left as it was.
    """
    partitions = {table: partition_path(table, snapshot_date) for table in TABLES}
    rows: dict[str, int] = {}
    with staging_area(out_root) as staging:
        connection = engine.connect(staging / "spill")
        try:
            exports = {"tasks": list(export_files), "users": list(users_files)}
            for source, (relation, item_type) in EXPORT_RELATIONS.items():
                engine.create_json_view(connection, relation, exports[source], item_type)
            compared_snapshot = _compared_snapshot(connection, compared)
            staged_files = {t: staging / partitions[t] / PARQUET_FILE_NAME for t in TABLES}
            for table in TABLES:
                staged = staged_files[table]
                rows[table] = copy_table(
                    connection, table, snapshot_date, staged, tasks=ITEM_TABLE,
                    tasks_file=staged_files[ITEM_TABLE], compared=compared_snapshot,
                )  # fmt: skip
                if table == ITEM_TABLE:
                    _check_keys_present(connection, staged)
                engine.create_parquet_view(connection, table, staged)
        finally:
            connection.close()
        for partition in partitions.values():
            swap_in_partition(staging, out_root, partition)
    return TransformResult(
        snapshot_date=snapshot_date,
        export_items=rows[ITEM_TABLE],
        rows=rows,
        files=[str(partitions[table] / PARQUET_FILE_NAME) for table in TABLES],
    )


def _compared_snapshot(
    connection: duckdb.DuckDBPyConnection, compared: PublishedTasks | None
) -> ComparedSnapshot | None:
    """The compared day's rows as a relation; a partition without files is an empty table."""
    if compared is None:
        return None
    if not compared.files:
        return ComparedSnapshot(compared.day, no_rows_of(ITEM_TABLE))
    engine.create_parquet_view(connection, COMPARED_TASKS_VIEW, *compared.files)
    return ComparedSnapshot(compared.day, COMPARED_TASKS_VIEW)


def _check_keys_present(connection: duckdb.DuckDBPyConnection, tasks_file: Path) -> None:
    """Every line was an item with its keys: anything else means the export cannot be trusted."""
    (keyless,) = connection.execute(
        "SELECT count(*) FROM read_parquet(?) WHERE user_id IS NULL OR task_id IS NULL",
        [str(tasks_file)],
    ).fetchone() or (0,)
    if keyless:
        raise ExportFormatError(
            f"the export has no Item with a user_id and task_id on {keyless} of its lines"
        )
