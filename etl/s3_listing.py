"""Listing the lake bucket: the objects, or the folders, under a prefix, every page read.

ListObjectsV2 returns at most 1,000 keys a call, so a listing that reads one page misses the
rest without an error; every step that lists goes through here and reads them all:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectTypeDef
else:
    S3Client = Any
    ObjectTypeDef = Any


def bucket_and_prefix(location: str) -> tuple[str, str]:
    """`s3://bucket/some/folder/` as ("bucket", "some/folder/"), the prefix as keys spell it."""
    parsed = urlparse(location)
    return parsed.netloc, parsed.path.lstrip("/")


def list_objects(s3: S3Client, bucket: str, prefix: str) -> Iterator[ObjectTypeDef]:
    """Every object whose key starts with `prefix`, in S3's order (ascending keys)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def list_keys(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    """The keys of every object under `prefix`, sorted."""
    return sorted(obj["Key"] for obj in list_objects(s3, bucket, prefix))


def list_folders(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    """The folders one level below `prefix`, each spelled `<prefix><name>/` (S3's common
    prefixes for the delimiter "/"); objects directly under `prefix` are not listed."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    )
    return [common["Prefix"] for page in pages for common in page.get("CommonPrefixes", [])]
