"""The one way the lake steps list S3, on moto's S3 (which pages ListObjectsV2 as S3 does).

ListObjectsV2 returns at most 1,000 keys per call, with a continuation token for the rest:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
"""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl.s3_listing import bucket_and_prefix, list_folders, list_keys, list_objects

BUCKET = "lake"
PAGE = 1000  # ListObjectsV2's largest page


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_a_location_splits_into_its_bucket_and_key_prefix() -> None:
    assert bucket_and_prefix("s3://lake/silver/tasks/") == ("lake", "silver/tasks/")
    assert bucket_and_prefix("s3://lake") == ("lake", "")


def test_every_page_is_read(s3: Any) -> None:
    keys = [f"silver/tasks/part-{n:05d}" for n in range(PAGE + 1)]
    for key in reversed(keys):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
    s3.put_object(Bucket=BUCKET, Key="silver/other/part-00000", Body=b"")

    assert list_keys(s3, BUCKET, "silver/tasks/") == keys
    assert [obj["Key"] for obj in list_objects(s3, BUCKET, "silver/tasks/")] == keys


def test_folders_are_one_level_below_the_prefix_and_exclude_its_own_objects(s3: Any) -> None:
    for key in (
        "bronze/day=1/run=a/attempt=1/data.gz",
        "bronze/day=1/run=a/attempt=2/data.gz",
        "bronze/day=1/run=b/attempt=1/data.gz",
        "bronze/day=1/notes.txt",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"")

    assert list_folders(s3, BUCKET, "bronze/day=1/") == [
        "bronze/day=1/run=a/",
        "bronze/day=1/run=b/",
    ]
    assert list_folders(s3, BUCKET, "bronze/day=2/") == []
