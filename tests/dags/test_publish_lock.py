"""Two publishes of one day exclude each other through S3, not through Airflow's settings.

moto implements S3's conditional writes (If-None-Match: *, If-Match: <etag>) as documented:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
"""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from etl.publish_lock import STALE_AFTER, DayLockedError, day_lock, lock_key
from tests.dags.local_stack import LAKE_BUCKET, LocalStack, task_item

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 28, 1, tzinfo=UTC)
TABLES = ("tasks", "user_daily_stats", "tag_daily_stats")


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
