"""Publish one day: its tables and its `lake_status` row, under the day's lock, all or none.

The one publish both paths take: a run publishing its own day, and a run healing an earlier day
(`etl.heal`). Under the day's lock (`etl.publish_lock`) it stages the day's status row beside
the validated tables, flips every partition (`publish_partitions`: all or none), repoints
`<table>_latest` and writes the pointers; then it tags what the flip replaced. A heal asks
`only_if_missing`: if, once it holds the lock, every table already publishes the day (another
run got there first), it publishes nothing, so two runs never both publish a missing day.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from etl.lake_status import ExportOrigin, stage_status, status_row
from etl.latest_snapshot import LATEST_OF, point_latest_tables
from etl.publish import (
    PartitionFolder,
    publish_partitions,
    published_location,
    tag_superseded,
    write_pointers,
)
from etl.publish_lock import day_lock
from etl.validation import check_staged_files

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any


def is_published(glue: GlueClient, database: str, tables: Iterable[str], day: date) -> bool:
    """Whether every one of `tables` publishes `day`."""
    return all(published_location(glue, database, table, day) for table in tables)


def attempt_key_of(staged: list[PartitionFolder]) -> str:
    """The attempt folder name (`run=<key>/`) the staged tables share."""
    keys = {partition.location.rstrip("/").rsplit("/run=", 1)[1] for partition in staged}
    if len(keys) != 1:
        raise ValueError(f"the staged partitions come from {len(keys)} attempts, not one")
    return keys.pop()


def publish_day(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    bucket: str,
    snapshot_date: date,
    staged: list[PartitionFolder],
    origin: ExportOrigin,
    owner: str,
    only_if_missing: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, int] | None:
    """Publish the validated `staged` tables of the day and its status row; rows per table.

    None, with nothing published, when `only_if_missing` and the day is published already.
    """
    tables = [partition.table for partition in staged]
    with day_lock(s3, bucket, snapshot_date, owner=owner):
        if only_if_missing and is_published(glue, database, tables, snapshot_date):
            return None
        rows = {partition.table: partition.rows for partition in staged}
        status = stage_status(
            s3,
            glue,
            database=database,
            row=status_row(snapshot_date, clock(), rows, origin),
            snapshot_date=snapshot_date,
            attempt_key=attempt_key_of(staged),
        )
        check_staged_files(s3, glue, database, [status])
        everything = [*staged, status]
        replaced = publish_partitions(glue, database, everything)
        point_latest_tables(glue, database, [table for table in tables if table in LATEST_OF])
        write_pointers(s3, everything)
    tag_superseded(s3, replaced)
    return rows
