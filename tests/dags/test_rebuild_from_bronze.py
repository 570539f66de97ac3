"""Rebuilding a day from the export bronze stored, and counting days nothing can rebuild.

On the local stack the export is a scan, which reads the table as it is now: so a rebuilt day
showing the rows of its first run, not the table's current ones, proves it came from bronze.
"""

from datetime import UTC, date, datetime

import boto3
import pytest

from etl.bronze import ExportNotFoundError, days_with_bronze, find_day_export
from etl.missing_partitions import unrebuildable_days
from etl.publish import PartitionFolder, point_partition
from tests.dags.local_stack import LAKE_BUCKET, LocalStack, task_item

TABLES = ("tasks", "user_daily_stats", "tag_daily_stats")


def _output(result: object) -> str:
    return str(getattr(result, "stdout", "")) + str(getattr(result, "stderr", ""))


def test_a_day_is_rebuilt_from_its_stored_export_not_the_table_now(stack: LocalStack) -> None:
    day = date(2026, 11, 24)
    stack.put_tasks(task_item("alice", "t1"))
    first = stack.run_dag(day)
    assert first.returncode == 0, _output(first)[-3000:]
    first_location = stack.location("tasks", day)
    stack.put_tasks(task_item("bob", "t2"))

    rebuilt = stack.run_dag(day, source="bronze")

    assert rebuilt.returncode == 0, _output(rebuilt)[-3000:]
    assert "starting task_id=export_scan" not in _output(rebuilt)
    assert stack.location("tasks", day) != first_location
    assert stack.read_published("tasks", day).column("task_id").to_pylist() == ["t1"]
    for table in TABLES:
        assert len(stack.partitions(table, day)) == 1


def test_rebuilding_a_day_bronze_does_not_hold_fails_and_publishes_nothing(
    stack: LocalStack,
) -> None:
    day = date(2026, 11, 26)
    stack.put_tasks(task_item("alice", "t1"))

    result = stack.run_dag(day, source="bronze")

    assert result.returncode != 0
    assert "bronze holds no export of 2026-11-26" in _output(result)
    for table in TABLES:
        assert stack.partitions(table, day) == []


def test_bronze_lists_the_days_it_holds(local_stack: LocalStack) -> None:
    s3 = boto3.client("s3")
    key = "bronze/dynamodb/tasks/snapshot_date=2025-01-07/run=r1/attempt=1/data/a.json.gz"
    s3.put_object(Bucket=LAKE_BUCKET, Key=key, Body=b"")

    assert date(2025, 1, 7) in days_with_bronze(s3, LAKE_BUCKET)
    # A scan's files alone say nothing of being complete; only a published run vouches.
    with pytest.raises(ExportNotFoundError, match="no export of 2025-01-07"):
        find_day_export(s3, LAKE_BUCKET, date(2025, 1, 7))
    assert find_day_export(s3, LAKE_BUCKET, date(2025, 1, 7), "r1").data_keys == [key]


def test_a_missing_day_neither_exportable_nor_in_bronze_is_lost() -> None:
    missing = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 1)]

    lost = unrebuildable_days(missing, date(2026, 2, 1), with_bronze={date(2026, 1, 2)})

    assert lost == [date(2026, 1, 1)]
    assert unrebuildable_days(missing, None, set()) == missing


def test_a_run_reports_the_days_that_can_no_longer_be_rebuilt(stack: LocalStack) -> None:
    """Scan mode exports only the present: a missing past day without bronze is lost."""
    glue = stack.client("glue")
    for table in TABLES:
        location = f"s3://{LAKE_BUCKET}/{table}/year=2026/month=11/day=21/run=direct/"
        point_partition(glue, stack.database, PartitionFolder(table, "2026-11-21", location, [], 0))
    stack.put_tasks(task_item("alice", "t1"))
    since = datetime.now(UTC).replace(microsecond=0)

    result = stack.run_dag(date(2026, 11, 23))

    assert result.returncode == 0, _output(result)[-3000:]
    assert "cannot be rebuilt any more: " in _output(result)
    assert "2026-11-22" in _output(result).split("cannot be rebuilt any more: ")[1].split("\n")[0]
    count, lost = stack.etl_metric("UnrebuildableDays", since)
    assert count == 1
    assert lost >= 1
