"""Publish a run's partitions to the lake so readers switch from the old data to the new at once.

Each attempt uploads its files under its own `run=<attempt key>/` folder inside the partition
(invisible to Athena, which reads only the folder a Glue partition names), then points the Glue
partition at that folder. The flip is a single catalog call per table: a reader sees the previous
run's complete partition or this run's complete partition, never a mix and never both. Rerunning a
date, even under the same run id, uploads to a new folder and flips again, so a date always has
exactly one set of rows and the published files are never rewritten.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from etl.lake_layout import partition_suffix, partition_values, pointer_key

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any

log = logging.getLogger(__name__)

KEYS_PARAMETER = "tasklake:keys"
"""Glue partition parameter listing the objects of the folder it points at, as JSON: what to tag
superseded when the partition is re-pointed, with no need to list the bucket."""
REPLACED_PARAMETER = "tasklake:replaced"
"""Glue partition parameter naming the folder (location and keys, as JSON) the publish that
pointed the partition here replaced: a retry after the flip finds it here, as the partition it
reads before flipping is already its own."""
SUPERSEDED_TAG = ("tasklake:lake-state", "superseded")
"""Expired by the lake bucket's `expire-superseded-runs` lifecycle rule (infra/analytics.yaml)."""


class LiveLocationError(RuntimeError):
    """An attempt was about to upload into the folder readers are served from."""


@dataclass(frozen=True)
class PartitionFolder:
    """One table's partition of one day as one run folder holds it: where, which keys, how many
    rows. The same record whether the folder is staged, published, replaced or in a pointer."""

    table: str
    snapshot_date: str
    location: str
    """`s3://bucket/<table location>/year=…/month=…/day=…/run=<key>/`"""
    keys: list[str]
    rows: int

    @property
    def bucket(self) -> str:
        return urlparse(self.location).netloc

    @property
    def pointer_key(self) -> str:
        """Where `write_pointers` records that this folder is the published one."""
        prefix = urlparse(self.location).path.lstrip("/")
        suffix = partition_suffix(date.fromisoformat(self.snapshot_date))
        return pointer_key(prefix[: prefix.rindex(suffix)], date.fromisoformat(self.snapshot_date))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PartitionFolder":
        return cls(**data)


def table_location(glue: GlueClient, database: str, table: str) -> str:
    """The table's S3 location as the catalog declares it, with a trailing slash."""
    location: str = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"][
        "Location"
    ]
    return location if location.endswith("/") else location + "/"


def stage_partitions(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    out_root: Path,
    files: Iterable[str],
    rows: dict[str, int],
    snapshot_date: date,
    attempt_key: str,
) -> list[PartitionFolder]:
    """Upload the transform's output files, one attempt folder per table partition.

    `files` are lake-relative paths like `tasks/year=2026/month=11/day=25/part-00000.parquet`;
    `attempt_key` comes from `etl.lake_layout.new_attempt_key`. Uploading into the folder a
    partition is published from would change what readers see before validation, so it fails.
    """
    by_table: dict[str, list[str]] = {}
    for relative in files:
        path = PurePosixPath(relative)
        by_table.setdefault(path.parts[0], []).append(relative)
    staged: list[PartitionFolder] = []
    for table, relatives in sorted(by_table.items()):
        location = (
            f"{table_location(glue, database, table)}{partition_suffix(snapshot_date)}"
            f"run={attempt_key}/"
        )
        if published_location(glue, database, table, snapshot_date).rstrip("/") == location[:-1]:
            raise LiveLocationError(f"{table}: {location} is published; stage a new attempt")
        parsed = urlparse(location)
        keys = []
        for relative in sorted(relatives):
            key = parsed.path.lstrip("/") + PurePosixPath(relative).name
            s3.upload_file(str(out_root / relative), parsed.netloc, key)
            keys.append(key)
        staged.append(
            PartitionFolder(table, snapshot_date.isoformat(), location, keys, rows.get(table, 0))
        )
    return staged


def _partition_input(
    glue: GlueClient, database: str, partition: PartitionFolder, replaced: PartitionFolder | None
) -> Any:
    descriptor = glue.get_table(DatabaseName=database, Name=partition.table)["Table"][
        "StorageDescriptor"
    ]
    storage = {
        key: value
        for key, value in descriptor.items()
        if key in {"Columns", "InputFormat", "OutputFormat", "SerdeInfo", "Compressed"}
    }
    values = partition_values(date.fromisoformat(partition.snapshot_date))
    parameters = {KEYS_PARAMETER: json.dumps(partition.keys)}
    if replaced is not None:
        parameters[REPLACED_PARAMETER] = json.dumps(
            {"location": replaced.location, "keys": replaced.keys}
        )
    return {
        "Values": values,
        "StorageDescriptor": {**storage, "Location": partition.location},
        "Parameters": parameters,
    }


Published = tuple[PartitionFolder, PartitionFolder | None]
"""A partition as `_published` reads it: its folder, and the folder its publish replaced."""


def _published(
    glue: GlueClient, database: str, table: str, snapshot_date: date
) -> Published | None:
    """The published partition and the folder its publish replaced (None: none recorded)."""
    try:
        found = glue.get_partition(
            DatabaseName=database,
            TableName=table,
            PartitionValues=partition_values(snapshot_date),
        )["Partition"]
    except glue.exceptions.EntityNotFoundException:
        return None
    parameters = found.get("Parameters", {})
    keys = json.loads(parameters.get(KEYS_PARAMETER, "[]"))
    location = found["StorageDescriptor"]["Location"]
    partition = PartitionFolder(table, snapshot_date.isoformat(), location, keys, 0)
    if REPLACED_PARAMETER not in parameters:
        return partition, None
    replaced = json.loads(parameters[REPLACED_PARAMETER])
    return partition, replace(partition, location=replaced["location"], keys=replaced["keys"])


def published_partition(
    glue: GlueClient, database: str, table: str, snapshot_date: date
) -> PartitionFolder | None:
    """The partition readers of `table` get for `snapshot_date` right now, if it was published.

    `keys` is empty for a partition published before the catalog recorded them; rows are not
    recorded in the catalog (0).
    """
    found = _published(glue, database, table, snapshot_date)
    return found[0] if found is not None else None


def published_location(glue: GlueClient, database: str, table: str, snapshot_date: date) -> str:
    """Where readers of `table` find `snapshot_date` right now ('' when it was never published)."""
    partition = published_partition(glue, database, table, snapshot_date)
    return partition.location if partition is not None else ""


def published_days(glue: GlueClient, database: str, table: str) -> set[date]:
    """Every snapshot day the catalog publishes for `table`."""
    return {
        date(*(int(value) for value in partition["Values"]))
        for page in glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table
        )
        for partition in page["Partitions"]
    }


def newest_published_day(glue: GlueClient, database: str, table: str) -> date | None:
    """The latest snapshot day the catalog publishes for `table` (None when it has none)."""
    return max(published_days(glue, database, table), default=None)


def point_partition(
    glue: GlueClient,
    database: str,
    partition: PartitionFolder,
    *,
    replaced: PartitionFolder | None = None,
) -> None:
    """Point the table's partition at the staged run folder, creating it on a date's first run.

    `replaced`, the folder it pointed at before, is recorded in the partition for a retry.
    """
    partition_input = _partition_input(glue, database, partition, replaced)
    try:
        glue.create_partition(
            DatabaseName=database, TableName=partition.table, PartitionInput=partition_input
        )
    except glue.exceptions.AlreadyExistsException:
        glue.update_partition(
            DatabaseName=database,
            TableName=partition.table,
            PartitionValueList=partition_input["Values"],
            PartitionInput=partition_input,
        )


def _restore(
    glue: GlueClient, database: str, partition: PartitionFolder, before: Published | None
) -> None:
    """Put a partition back as it was before this run (None: it did not exist).

    Only a partition that points at this run's folder is touched: one whose flip never reached
    Glue is already right, and one another publish has re-pointed since is not ours to undo.
    """
    snapshot_date = date.fromisoformat(partition.snapshot_date)
    if published_location(glue, database, partition.table, snapshot_date) != partition.location:
        return
    if before is not None:
        point_partition(glue, database, before[0], replaced=before[1])
    else:
        glue.delete_partition(
            DatabaseName=database,
            TableName=partition.table,
            PartitionValues=partition_values(snapshot_date),
        )


def _restore_all(
    glue: GlueClient,
    database: str,
    previous: list[tuple[PartitionFolder, Published | None]],
    error: Exception,
) -> None:
    """Restore every table, logging (not raising) a failed restore so `error` stays the cause."""
    for partition, before in reversed(previous):
        try:
            _restore(glue, database, partition, before)
        except Exception:
            log.exception(
                "publish failed and %s %s could not be restored to %r; it may still point at %s",
                partition.table,
                partition.snapshot_date,
                before[0].location if before is not None else "(no partition)",
                partition.location,
            )
            error.add_note(f"restoring {partition.table} failed: tables may be mixed, see the log")


def _replaced_by(partition: PartitionFolder, before: Published | None) -> PartitionFolder | None:
    """The folder publishing `partition` replaces: the one published before it or, on a retry
    whose earlier flip landed (the partition is already its own), the one that flip recorded."""
    if before is None:
        return None
    published, recorded = before
    return recorded if published.location == partition.location else published


def publish_partitions(
    glue: GlueClient, database: str, partitions: Iterable[PartitionFolder]
) -> list[PartitionFolder]:
    """Publish every staged partition of a run, or none of them; returns the partitions replaced.

    Glue has no transaction across tables, so if one flip fails every table is pointed back at
    its previous run before the error propagates, including the failing one, whose update may
    have landed on the server before the call raised. A failed publish leaves the date as readers
    knew it, and the retry publishes the whole run again. Callers run one publish at a time (the
    DAG's publish task allows one instance across all runs), so a restore cannot race another
    run's flip of the same partition. A retry returns the folders the earlier try replaced, so a
    failure after the flips (pointers, tagging) still gets them tagged.
    """
    previous: list[tuple[PartitionFolder, Published | None]] = []
    replaced: list[PartitionFolder] = []
    try:
        for partition in partitions:
            snapshot_date = date.fromisoformat(partition.snapshot_date)
            before = _published(glue, database, partition.table, snapshot_date)
            previous.append((partition, before))
            folder = _replaced_by(partition, before)
            point_partition(glue, database, partition, replaced=folder)
            if folder is not None:
                replaced.append(folder)
    except Exception as error:
        _restore_all(glue, database, previous, error)
        raise
    return replaced


def write_pointers(s3: S3Client, partitions: Iterable[PartitionFolder]) -> None:
    """Record beside the data which folder each partition publishes (`etl.catalog_repair`)."""
    for partition in partitions:
        body = json.dumps(partition.as_dict(), indent=2, sort_keys=True).encode()
        s3.put_object(
            Bucket=partition.bucket,
            Key=partition.pointer_key,
            Body=body,
            ContentType="application/json",
        )


def unpublished(
    glue: GlueClient, database: str, staged: Iterable[PartitionFolder]
) -> list[PartitionFolder]:
    """The staged partitions no Glue partition points at: a failed attempt's folders."""
    return [
        partition
        for partition in staged
        if published_location(
            glue, database, partition.table, date.fromisoformat(partition.snapshot_date)
        )
        != partition.location
    ]


def tag_superseded(
    s3: S3Client, replaced: Iterable[PartitionFolder], *, tag: tuple[str, str] = SUPERSEDED_TAG
) -> list[str]:
    """Tag the objects of folders no partition points at any more, for the lifecycle to expire.

    Readers that planned a query before the flip may still be reading them; the rule waits days.
    A folder published before the catalog recorded its keys cannot be tagged, which is logged.
    `tag` is another lifecycle rule's (etl.erasure.ERASED_TAG: folders holding erased rows).
    """
    tagged: list[str] = []
    for partition in replaced:
        if not partition.keys:
            log.warning("%s: keys not recorded, not tagged superseded", partition.location)
        for key in partition.keys:
            s3.put_object_tagging(
                Bucket=partition.bucket,
                Key=key,
                Tagging={"TagSet": [{"Key": tag[0], "Value": tag[1]}]},
            )
            tagged.append(key)
    return tagged
