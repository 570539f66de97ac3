"""Downloading a published partition's data files to the worker, to read them with DuckDB."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.lake_layout import is_data_file
from etl.publish import PartitionFolder
from etl.s3_listing import bucket_and_prefix, list_keys

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any


def download_data_files(s3: S3Client, partition: PartitionFolder, dest: Path) -> list[Path]:
    """The partition folder's data files, downloaded into `dest` as 00000.parquet, 00001.parquet…

    The publish records the folder's keys; a partition published before it did is listed.
    """
    bucket, prefix = bucket_and_prefix(partition.location)
    keys = partition.keys or list_keys(s3, bucket, prefix)
    dest.mkdir(parents=True, exist_ok=True)
    files = []
    for number, key in enumerate(sorted(k for k in keys if is_data_file(k.rsplit("/", 1)[-1]))):
        path = dest / f"{number:05d}.parquet"
        s3.download_file(bucket, key, str(path))
        files.append(path)
    return files
