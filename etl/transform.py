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
from etl.tag_daily_stats import PARTIAL_TAG_COUNTS, tag_counts, tag_daily_stats
from etl.tasks_table import to_tasks_rows
from etl.user_buckets import BucketSpill, SortedBucket
from etl.user_daily_stats import completed_hours, merge_user_parts, user_daily_stats

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
        spill = BucketSpill(staging / "spill" / "tasks", TASKS)
        export_items = _spill_export(export_files, spill, snapshot_date)
        staged_files = {table: staging / partitions[table] / PARQUET_FILE_NAME for table in TABLES}
        tag_spill = BucketSpill(
            staging / "spill" / "tags", PARTIAL_TAG_COUNTS, key="tag", part_key=None
        )
        rows = _write_tables(spill, tag_spill, staged_files, snapshot_date)
        for partition in partitions.values():
            publish_partition(staging, out_root, partition)
    return TransformResult(
        snapshot_date=snapshot_date,
        export_items=export_items,
        rows=rows,
        files=[str(partitions[table] / PARQUET_FILE_NAME) for table in TABLES],
    )


def _spill_export(export_files: Iterable[Path], spill: BucketSpill, snapshot_date: date) -> int:
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
    split_user: str | None
    # Only for a part of a split user's tasks, whose median is taken over all the parts.
    completed_hours: pa.ChunkedArray | None


def _summarize_bucket(snapshot_date: date, bucket: SortedBucket) -> _BucketSummary:
    tasks = bucket.rows
    return _BucketSummary(
        tasks=tasks,
        user_daily_stats=user_daily_stats(tasks, snapshot_date),
        tag_counts=tag_counts(tasks, bucket.part_of),
        split_user=bucket.part_of,
        completed_hours=None if bucket.part_of is None else completed_hours(tasks, snapshot_date),
    )


class _SplitUserMerge:
    """Holds the stats of a split user's parts, which come one after the other, until the last."""

    def __init__(self) -> None:
        self._forget()

    def _forget(self) -> None:
        self.user: str | None = None
        self._stats: list[pa.Table] = []
        self._hours: list[pa.ChunkedArray] = []

    def add(self, part: _BucketSummary) -> None:
        assert part.completed_hours is not None  # noqa: S101 - set for every part, see above
        self.user = part.split_user
        self._stats.append(part.user_daily_stats)
        self._hours.append(part.completed_hours)

    def pop(self) -> pa.Table | None:
        """The merged row of the user held, if any, and forget them."""
        if not self._stats:
            return None
        merged = merge_user_parts(self._stats, self._hours)
        self._forget()
        return merged


def _write_tables(
    spill: BucketSpill, tag_spill: BucketSpill, files: dict[str, Path], snapshot_date: date
) -> dict[str, int]:
    """Write every table's file from the sorted buckets; returns the rows written per table.

    The partial tag counts go to their own spill, sorted by tag, and are added up a range of tags
    at a time: with free-form tags they are nearly as many as the tasks.
    """
    writers = {
        table: LakeFileWriter(files[table], table, min_rows=ROW_GROUP_ROWS) for table in TABLES
    }
    try:
        split_user = _SplitUserMerge()
        for bucket in spill.map_sorted_buckets(partial(_summarize_bucket, snapshot_date)):
            writers["tasks"].write(bucket.tasks)
            if split_user.user is not None and split_user.user != bucket.split_user:
                _write_if_any(writers["user_daily_stats"], split_user.pop())
            if bucket.split_user is None:
                writers["user_daily_stats"].write(bucket.user_daily_stats)
            else:
                split_user.add(bucket)
            tag_spill.add(bucket.tag_counts)
        _write_if_any(writers["user_daily_stats"], split_user.pop())
        for totals in tag_spill.map_sorted_buckets(lambda tags: tag_daily_stats(tags.rows)):
            writers["tag_daily_stats"].write(totals)
    except BaseException:
        for writer in writers.values():
            writer.discard()
        raise
    for writer in writers.values():
        writer.close()
    return {table: writer.rows_written for table, writer in writers.items()}


def _write_if_any(writer: LakeFileWriter, rows: pa.Table | None) -> None:
    if rows is not None:
        writer.write(rows)
