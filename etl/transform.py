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

from etl.dynamodb_export import read_item_batches
from etl.partition_output import (
    PARQUET_FILE_NAME,
    LakeFileWriter,
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
# A 2 MiB block holds ~3k items, which would reach each bucket as slivers of ~200 rows; spilling
# a few blocks at once keeps spill batches large enough that per-batch overheads vanish.
SPILL_BATCH_ROWS = 50_000
# Rows buffered per Parquet row group: ~60 MiB of task rows in memory at most.
ROW_GROUP_ROWS = 400_000


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
        unspilled: list[pa.Table] = []
        for items in read_item_batches([path]):
            items_read += len(items)
            unspilled.append(to_tasks_rows(items, snapshot_date))
            if sum(rows.num_rows for rows in unspilled) >= SPILL_BATCH_ROWS:
                spill.add(pa.concat_tables(unspilled))
                unspilled = []
        if unspilled:
            spill.add(pa.concat_tables(unspilled))
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
    writers = {
        table: LakeFileWriter(files[table], table, min_rows=ROW_GROUP_ROWS) for table in TABLES
    }
    try:
        partial_tag_counts: list[pa.Table] = []
        for bucket in spill.map_sorted_buckets(partial(_summarize_bucket, snapshot_date)):
            writers["tasks"].write(bucket.tasks)
            writers["user_daily_stats"].write(bucket.user_daily_stats)
            partial_tag_counts.append(bucket.tag_counts)
        writers["tag_daily_stats"].write(tag_daily_stats(partial_tag_counts))
    except BaseException:
        for writer in writers.values():
            writer.discard()
        raise
    for writer in writers.values():
        writer.close()
    return {table: writer.rows_written for table, writer in writers.items()}
