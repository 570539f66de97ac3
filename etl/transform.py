"""Transform one DynamoDB export into the lake partitions of its snapshot date.

The DAG calls `transform_export`; everything it needs to report or upload is in `TransformResult`.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl.dynamodb_export import read_item_batches
from etl.partition_output import (
    PARQUET_FILE_NAME,
    parquet_writer,
    partition_path,
    publish_partition,
    staging_area,
)
from etl.schemas import TABLES, TASKS
from etl.tag_daily_stats import tag_counts, tag_daily_stats
from etl.tasks_table import to_tasks_rows
from etl.user_buckets import UserBucketSpill
from etl.user_daily_stats import user_daily_stats

# gunzip is single-threaded per file: reading two files at once keeps both worker cores busy.
PARALLEL_EXPORT_FILES = 2
# Large row groups compress better (~8 % smaller than one per bucket) and suit Athena's splits;
# this many sorted task rows are buffered before a row group is written (~60 MiB in memory).
TASKS_ROW_GROUP_ROWS = 400_000


@dataclass(frozen=True)
class TransformResult:
    """What one run wrote: `files` are POSIX paths relative to the lake root, one per table."""

    snapshot_date: date
    export_items: int
    rows: dict[str, int]
    files: list[str]


def transform_export(
    export_files: Iterable[Path], out_root: Path, snapshot_date: date
) -> TransformResult:
    """Write the `tasks`, `user_daily_stats` and `tag_daily_stats` partitions of `snapshot_date`.

    Streams the export, so memory stays flat whatever its size. Either every partition is
    replaced by a complete new one or, if anything fails, the lake is left as it was.
    """
    partitions = {table: partition_path(table, snapshot_date) for table in TABLES}
    with staging_area(out_root) as staging:
        spill = UserBucketSpill(staging / "spill", TASKS)
        export_items = _spill_export(export_files, spill, snapshot_date)
        staged_files = {table: staging / partitions[table] / PARQUET_FILE_NAME for table in TABLES}
        rows = _write_tables(spill, staged_files, snapshot_date)
        for partition in partitions.values():
            publish_partition(staging, out_root, partition)
    return TransformResult(
        snapshot_date=snapshot_date,
        export_items=export_items,
        rows=rows,
        files=[str(partitions[table] / PARQUET_FILE_NAME) for table in TABLES],
    )


def _spill_export(export_files: Iterable[Path], spill: UserBucketSpill, snapshot_date: date) -> int:
    """Read every export file into the spill as `tasks` rows; returns the number of items."""

    def spill_file(path: Path) -> int:
        items_read = 0
        for items in read_item_batches([path]):
            items_read += len(items)
            spill.add(to_tasks_rows(items, snapshot_date))
        return items_read

    with ThreadPoolExecutor(max_workers=PARALLEL_EXPORT_FILES) as readers:
        return sum(readers.map(spill_file, export_files))


@dataclass(frozen=True)
class _BucketSummary:
    tasks: pa.Table
    user_daily_stats: pa.Table
    tag_counts: pa.Table


def _summarize_bucket(snapshot_date: date, tasks: pa.Table) -> _BucketSummary:
    return _BucketSummary(tasks, user_daily_stats(tasks, snapshot_date), tag_counts(tasks))


def _write_tables(
    spill: UserBucketSpill, files: dict[str, Path], snapshot_date: date
) -> dict[str, int]:
    """Write every table's file from the sorted buckets; returns the rows written per table."""
    rows = dict.fromkeys(TABLES, 0)
    writers = {table: parquet_writer(files[table], table) for table in TABLES}
    try:
        unwritten_tasks: list[pa.Table] = []
        partial_tag_counts: list[pa.Table] = []
        for bucket in spill.map_sorted_buckets(partial(_summarize_bucket, snapshot_date)):
            writers["user_daily_stats"].write_table(bucket.user_daily_stats)
            rows["user_daily_stats"] += bucket.user_daily_stats.num_rows
            partial_tag_counts.append(bucket.tag_counts)
            unwritten_tasks.append(bucket.tasks)
            if sum(table.num_rows for table in unwritten_tasks) >= TASKS_ROW_GROUP_ROWS:
                rows["tasks"] += _write_row_group(writers["tasks"], unwritten_tasks)
                unwritten_tasks = []
        rows["tasks"] += _write_row_group(writers["tasks"], unwritten_tasks)
        tags = tag_daily_stats(partial_tag_counts)
        writers["tag_daily_stats"].write_table(tags)
        rows["tag_daily_stats"] = tags.num_rows
    finally:
        for writer in writers.values():
            writer.close()
    return rows


def _write_row_group(writer: pq.ParquetWriter, tables: list[pa.Table]) -> int:
    if not tables:
        return 0
    combined = pa.concat_tables(tables)
    row_count: int = combined.num_rows
    writer.write_table(combined, row_group_size=row_count)
    return row_count
