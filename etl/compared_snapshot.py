"""Which earlier `tasks` partition a day's `task_changes` compares with, and getting its files.

The compared day is the newest published day before the snapshot day: the day before, unless that
one is missing (an outage, a day DynamoDB could not export), then the one before it, and so on.
None when the lake has no earlier day. The worker reads that day's files: from the lake bucket,
exactly the folder the Glue partition points at (what Athena reads), or from a local lake's own
partition folder (`make transform`).
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.lake_layout import is_data_file
from etl.partition_download import download_data_files
from etl.partition_output import partition_path
from etl.publish import published_days, published_partition
from etl.validation import ITEM_TABLE

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any


@dataclass(frozen=True)
class PublishedTasks:
    """A published `tasks` partition on local disk: its day and its data files (none if empty)."""

    day: date
    files: list[Path]


def compared_day(glue: GlueClient, database: str, snapshot_date: date) -> date | None:
    """The newest day before `snapshot_date` the catalog publishes `tasks` for (None: none)."""
    earlier = [day for day in published_days(glue, database, ITEM_TABLE) if day < snapshot_date]
    return max(earlier, default=None)


def download_compared_snapshot(
    s3: S3Client, glue: GlueClient, database: str, snapshot_date: date, dest: Path
) -> PublishedTasks | None:
    """Download the data files of the compared day's published `tasks` folder into `dest`."""
    day = compared_day(glue, database, snapshot_date)
    if day is None:
        return None
    partition = published_partition(glue, database, ITEM_TABLE, day)
    if partition is None:  # unpublished since it was listed: the run fails and is retried
        raise RuntimeError(f"{ITEM_TABLE} {day} was unpublished while being read")
    files = download_data_files(s3, partition, dest)
    return PublishedTasks(day, files)


def local_compared_snapshot(lake_root: Path, snapshot_date: date) -> PublishedTasks | None:
    """The newest `tasks` partition before `snapshot_date` in a local lake (`make transform`)."""
    days = []
    for folder in lake_root.glob(f"{ITEM_TABLE}/year=*/month=*/day=*"):
        values = [part.split("=", 1)[1] for part in folder.parts[-3:]]
        day = date(*(int(value) for value in values))
        if day < snapshot_date:
            days.append(day)
    if not days:
        return None
    folder = lake_root / partition_path(ITEM_TABLE, max(days))
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_data_file(p.name))
    return PublishedTasks(max(days), files)
