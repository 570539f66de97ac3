"""Copy what the Glue catalog publishes into a local folder, for DuckDB to query like Athena.

Only partitions the catalog points at are copied, from exactly the run folder it names, so the
local lake shows what Athena would show. Each local partition folder is staged and swapped in
whole as the transform's are (etl/partition_output.py), one already copied from the same location
is left alone, and a folder this mirror copied earlier for a partition the catalog no longer has
is removed. Folders it did not write are never touched.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from etl.lake_layout import is_data_file
from etl.partition_output import staging_area, swap_in_partition
from etl.s3_listing import bucket_and_prefix, list_objects

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any

SOURCE_MARKER = ".published-from"


@dataclass(frozen=True)
class MirroredPartition:
    table: str
    values: list[str]
    location: str
    rows: int
    folder: Path
    """The local copy, `<lake root>/<table>/year=…/month=…/day=…`."""


def _partitions(glue: GlueClient, database: str, table: str) -> list[Any]:
    partitions: list[Any] = []
    paginator = glue.get_paginator("get_partitions")
    for page in paginator.paginate(DatabaseName=database, TableName=table):
        partitions.extend(page["Partitions"])
    return partitions


def _download_folder(s3: S3Client, location: str, dest: Path) -> None:
    bucket, prefix = bucket_and_prefix(location)
    dest.mkdir(parents=True, exist_ok=True)
    for obj in list_objects(s3, bucket, prefix):
        relative = obj["Key"][len(prefix) :]
        if relative and "/" not in relative:
            s3.download_file(bucket, obj["Key"], str(dest / relative))


def mirror_published(
    s3: S3Client, glue: GlueClient, database: str, lake_root: Path
) -> list[MirroredPartition]:
    """Bring `lake_root/<table>/year=/month=/day=/` in line with every published partition."""
    lake_root.mkdir(parents=True, exist_ok=True)
    mirrored: list[MirroredPartition] = []
    tables = [table["Name"] for table in glue.get_tables(DatabaseName=database)["TableList"]]
    for table in sorted(tables):
        described = glue.get_table(DatabaseName=database, Name=table)["Table"]
        keys = [key["Name"] for key in described.get("PartitionKeys", [])]
        for partition in _partitions(glue, database, table):
            location = partition["StorageDescriptor"]["Location"]
            values = partition["Values"]
            folder = PurePosixPath(table, *(f"{k}={v}" for k, v in zip(keys, values, strict=True)))
            target = lake_root / folder
            marker = target / SOURCE_MARKER
            if not (marker.exists() and marker.read_text() == location):
                with staging_area(lake_root) as staging:
                    _download_folder(s3, location, staging / folder)
                    (staging / folder / SOURCE_MARKER).write_text(location)
                    swap_in_partition(staging, lake_root, folder)
            rows = sum(
                pq.read_metadata(path).num_rows
                for path in target.iterdir()
                if path.is_file() and is_data_file(path.name)
            )
            mirrored.append(MirroredPartition(table, values, location, rows, target))
    _remove_unpublished(lake_root, {partition.folder for partition in mirrored})
    return mirrored


def _remove_unpublished(lake_root: Path, published: set[Path]) -> None:
    for marker in lake_root.glob(f"*/*/*/*/{SOURCE_MARKER}"):
        if marker.parent not in published:
            shutil.rmtree(marker.parent)
