"""Two publishes of one day exclude each other through S3, not through Airflow's settings.

moto implements S3's conditional writes (If-None-Match: *, If-Match: <etag>) as documented:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
"""

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from etl.day_publish import publish_day
from etl.lake_status import ExportOrigin
from etl.publish import PartitionFolder
from etl.publish_lock import STALE_AFTER, DayLockedError, day_lock, lock_key
from infra.local.analytics_catalog import create_analytics_catalog
from tests.dags.local_stack import LAKE_BUCKET, LocalStack, task_item

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 28, 1, tzinfo=UTC)
TABLES = ("tasks", "user_daily_stats", "tag_daily_stats")
LOCK_BUCKET = "tasklake-lock-test"


def test_a_second_publisher_of_the_day_is_refused_while_the_first_holds_it(
    local_stack: LocalStack,
) -> None:
    s3 = local_stack.client("s3")
    other_day = DAY - timedelta(days=400)

    with day_lock(s3, LAKE_BUCKET, other_day, "run-a", clock=lambda: NOW):
        with (
            pytest.raises(DayLockedError, match="run-a"),
            day_lock(s3, LAKE_BUCKET, other_day, "run-b", clock=lambda: NOW),
        ):
            pass
        # Another day is not held up.
        with day_lock(s3, LAKE_BUCKET, other_day + timedelta(days=1), "run-b"):
            pass
    with day_lock(s3, LAKE_BUCKET, other_day, "run-b", clock=lambda: NOW):
        pass


def test_a_lock_left_by_a_killed_publish_is_taken_over_once_stale(
    local_stack: LocalStack,
) -> None:
    s3 = local_stack.client("s3")
    other_day = DAY - timedelta(days=401)
    body = {"owner": "killed", "acquired_at": NOW.isoformat()}
    s3.put_object(Bucket=LAKE_BUCKET, Key=lock_key(other_day), Body=json.dumps(body))

    with (
        pytest.raises(DayLockedError),
        day_lock(s3, LAKE_BUCKET, other_day, "run-b", clock=lambda: NOW + timedelta(minutes=1)),
    ):
        pass
    later = NOW + STALE_AFTER + timedelta(seconds=1)
    with day_lock(s3, LAKE_BUCKET, other_day, "run-b", clock=lambda: later):
        held = json.loads(s3.get_object(Bucket=LAKE_BUCKET, Key=lock_key(other_day))["Body"].read())
        assert held["owner"] == "run-b"


def test_a_run_does_not_publish_a_day_another_publish_holds(stack: LocalStack) -> None:
    s3 = stack.client("s3")
    body = {"owner": "scheduled__other", "acquired_at": datetime.now(UTC).isoformat()}
    s3.put_object(Bucket=LAKE_BUCKET, Key=lock_key(DAY), Body=json.dumps(body))
    stack.put_tasks(task_item("alice", "t1"))

    try:
        result = stack.run_dag(DAY)
    finally:
        s3.delete_object(Bucket=LAKE_BUCKET, Key=lock_key(DAY))

    assert result.returncode != 0
    assert "is being published by scheduled__other" in result.stdout + result.stderr
    for table in TABLES:
        assert stack.partitions(table, DAY) == []


def test_two_concurrent_heals_of_one_day_publish_it_once(local_stack: LocalStack) -> None:
    """Two runs heal the same missing day at the same moment, each with its own staged folders.

    The first takes the day's lock and is held inside it (its clock waits) until the second has
    tried: the second is refused. Its retry, once the lock is free, finds the day published and
    publishes nothing. Threads, each with its own clients, against moto's S3 and Glue.
    """
    s3, glue = boto3.client("s3"), boto3.client("glue")
    database = create_analytics_catalog(
        s3, glue, {"Environment": "locktest", "LakeBucketName": LOCK_BUCKET}
    )
    day = DAY - timedelta(days=402)
    first_inside, second_tried = threading.Event(), threading.Event()

    def held_clock() -> datetime:
        first_inside.set()
        assert second_tried.wait(timeout=60), "the second publisher never tried"
        return datetime.now(UTC)

    def publish(run: str, clock: Callable[[], datetime]) -> dict[str, int] | None:
        return publish_day(
            boto3.client("s3"),
            boto3.client("glue"),
            database=database,
            bucket=LOCK_BUCKET,
            snapshot_date=day,
            staged=_staged(day, run),
            origin=ExportOrigin("duckdb", "native", datetime(2025, 1, 1, tzinfo=UTC)),
            owner=run,
            only_if_missing=True,
            clock=clock,
        )

    def second_publisher() -> Exception | None:
        assert first_inside.wait(timeout=60), "the first publisher never took the lock"
        try:
            publish("run-b", lambda: datetime.now(UTC))
        except DayLockedError as refused:
            return refused
        finally:
            second_tried.set()
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(publish, "run-a", held_clock)
        second = pool.submit(second_publisher)
        assert isinstance(second.result(timeout=120), DayLockedError)
        assert first.result(timeout=120) == dict.fromkeys(TABLES, 1)
    assert publish("run-b", lambda: datetime.now(UTC)) is None

    for table in (*TABLES, "lake_status"):
        (partition,) = [
            found
            for found in glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
            if found["Values"] == [f"{day:%Y}", f"{day:%m}", f"{day:%d}"]
        ]
        assert partition["StorageDescriptor"]["Location"].endswith("/run=run-a.try1.0/")
        # Published once: no later flip recorded a folder it replaced.
        assert "tasklake:replaced" not in partition.get("Parameters", {})


def _staged(day: date, run: str) -> list[PartitionFolder]:
    """The day's tables as a run staged them (one row each; their files do not matter here)."""
    prefixes = {"tasks": "silver/tasks", "user_daily_stats": "gold/user_daily_stats"}
    prefixes["tag_daily_stats"] = "gold/tag_daily_stats"
    suffix = f"year={day:%Y}/month={day:%m}/day={day:%d}/run={run}.try1.0/"
    return [
        PartitionFolder(table, day.isoformat(), f"s3://{LOCK_BUCKET}/{prefix}/{suffix}", [], 1)
        for table, prefix in sorted(prefixes.items())
    ]
