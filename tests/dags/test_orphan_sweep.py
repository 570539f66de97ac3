"""The sweep tags for expiry the attempt folders nothing references, and nothing else.

A catalog of its own (stage `orphans`), so other tests' partitions are not in it.
"""

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from etl.orphan_sweep import sweep_orphans
from etl.publish import PartitionFolder, point_partition, write_pointers
from infra.local.analytics_catalog import create_analytics_catalog
from tests.dags.local_stack import LocalStack

BUCKET = "tasklake-orphans-test"
DAY = "year=2026/month=10/day=01"
SUPERSEDED = [{"Key": "tasklake:lake-state", "Value": "superseded"}]


@pytest.fixture(scope="module")
def database(local_stack: LocalStack) -> str:
    return create_analytics_catalog(
        boto3.client("s3"),
        boto3.client("glue"),
        {"Environment": "orphans", "LakeBucketName": BUCKET},
    )


def _folder(s3: object, run: str, day: str = DAY) -> str:
    key = f"silver/tasks/{day}/run={run}/part-0.parquet"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"parquet")  # type: ignore[attr-defined]
    return key


def test_only_unreferenced_attempt_folders_past_the_grace_are_tagged(database: str) -> None:
    s3, glue = boto3.client("s3"), boto3.client("glue")
    live = _folder(s3, "live")
    pointed = _folder(s3, "pointed", "year=2026/month=10/day=02")
    killed = _folder(s3, "killed")
    location = f"s3://{BUCKET}/silver/tasks/{DAY}/run="
    point_partition(
        glue, database, PartitionFolder("tasks", "2026-10-01", f"{location}live/", [live], 1)
    )
    # A pointer the catalog has lost (a replaced table): still the day's published folder.
    elsewhere = f"s3://{BUCKET}/silver/tasks/year=2026/month=10/day=02/run=pointed/"
    write_pointers(s3, [PartitionFolder("tasks", "2026-10-02", elsewhere, [pointed], 1)])

    not_yet = sweep_orphans(
        s3, glue, database, ["tasks"], older_than=datetime.now(UTC) - timedelta(hours=12)
    )
    swept = sweep_orphans(
        s3, glue, database, ["tasks"], older_than=datetime.now(UTC) + timedelta(seconds=1)
    )

    assert not_yet == []
    assert swept == [killed]
    assert s3.get_object_tagging(Bucket=BUCKET, Key=killed)["TagSet"] == SUPERSEDED
    for kept in (live, pointed):
        assert s3.get_object_tagging(Bucket=BUCKET, Key=kept)["TagSet"] == []
