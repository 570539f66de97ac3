"""Which published `tasks` day the worker compares a day with, and reading exactly its files.

On moto's S3 and Glue, with the catalog built from infra/analytics.yaml and partitions published
by etl.publish, as the DAG publishes them.
"""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from etl.compared_snapshot import compared_day, download_compared_snapshot
from etl.publish import PartitionFolder, point_partition
from infra.local.analytics_catalog import create_analytics_catalog

BUCKET = "tasklake-test-lake"


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        glue = boto3.client("glue", region_name="us-east-1")
        database = create_analytics_catalog(
            s3, glue, {"Environment": "dev", "LakeBucketName": BUCKET}
        )
        yield s3, glue, database


def _publish(aws: tuple[Any, Any, str], day: date, run: str, task_ids: list[str]) -> str:
    """Stage one file of `task_ids` under `run=<run>/` and point the day's partition at it."""
    s3, glue, database = aws
    folder = f"silver/tasks/year={day:%Y}/month={day:%m}/day={day:%d}/run={run}/"
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"task_id": task_ids}), sink)
    s3.put_object(Bucket=BUCKET, Key=folder + "part-0", Body=sink.getvalue().to_pybytes())
    location = f"s3://{BUCKET}/{folder}"
    partition = PartitionFolder("tasks", day.isoformat(), location, [folder + "part-0"], 1)
    point_partition(glue, database, partition)
    return location


def _task_ids(files: list[Path]) -> list[str]:
    return sorted(
        tid for file in files for tid in pq.read_table(file).column("task_id").to_pylist()
    )


def test_the_newest_published_day_before_is_compared_with(aws: tuple[Any, Any, str]) -> None:
    _, glue, database = aws
    for day in (date(2026, 11, 20), date(2026, 11, 22), date(2026, 11, 26)):
        _publish(aws, day, "r1", ["t"])

    assert compared_day(glue, database, date(2026, 11, 23)) == date(2026, 11, 22)
    assert compared_day(glue, database, date(2026, 11, 22)) == date(2026, 11, 20)
    assert compared_day(glue, database, date(2026, 11, 20)) is None


def test_only_the_folder_the_partition_points_at_is_read(
    aws: tuple[Any, Any, str], tmp_path: Path
) -> None:
    s3, glue, database = aws
    day = date(2026, 11, 24)
    _publish(aws, day, "first", ["from-the-replaced-run"])
    _publish(aws, day, "second", ["a", "b"])

    compared = download_compared_snapshot(s3, glue, database, date(2026, 11, 25), tmp_path)

    assert compared is not None
    assert compared.day == day
    assert _task_ids(compared.files) == ["a", "b"]


def test_a_partition_without_recorded_keys_is_listed(
    aws: tuple[Any, Any, str], tmp_path: Path
) -> None:
    """Partitions published before the catalog recorded their keys are read by listing."""
    s3, glue, database = aws
    day = date(2026, 11, 24)
    location = _publish(aws, day, "old", ["a"])
    point_partition(glue, database, PartitionFolder("tasks", day.isoformat(), location, [], 0))

    compared = download_compared_snapshot(s3, glue, database, date(2026, 11, 25), tmp_path)

    assert compared is not None
    assert _task_ids(compared.files) == ["a"]


def test_no_earlier_day_gives_nothing_to_compare(aws: tuple[Any, Any, str], tmp_path: Path) -> None:
    s3, glue, database = aws

    assert download_compared_snapshot(s3, glue, database, date(2026, 11, 25), tmp_path) is None
