"""Copy what the Glue catalog publishes into a local folder, for DuckDB to query like Athena.

Only partitions the catalog points at are copied, from exactly the run folder it names, so the
local lake shows what Athena would show. Each local partition folder is swapped in whole, one
already copied from the same location is left alone, and a folder this mirror copied earlier for
a partition the catalog no longer has is removed. Folders it did not write are never touched.
"""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pyarrow.parquet as pq

from etl.lake_layout import is_data_file

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
    parsed = urlparse(location)
    prefix = parsed.path.lstrip("/")
    paginator = s3.get_paginator("list_objects_v2")
    dest.mkdir(parents=True, exist_ok=True)
    for page in paginator.paginate(Bucket=parsed.netloc, Prefix=prefix):
        for obj in page.get("Contents", []):
            relative = obj["Key"][len(prefix) :]
            if relative and "/" not in relative:
                s3.download_file(parsed.netloc, obj["Key"], str(dest / relative))


def _swap_in(staged: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    retired = staged.with_name(staged.name + ".retired")
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


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
            folder = Path(table, *(f"{k}={v}" for k, v in zip(keys, values, strict=True)))
            target = lake_root / folder
            marker = target / SOURCE_MARKER
            if not (marker.exists() and marker.read_text() == location):
                with tempfile.TemporaryDirectory(prefix=".mirror-", dir=lake_root) as tmp:
                    staged = Path(tmp, "partition")
                    _download_folder(s3, location, staged)
                    (staged / SOURCE_MARKER).write_text(location)
                    _swap_in(staged, target)
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
