"""`<table>_latest` follows each table's newest published partition, in moto's Glue catalog.

A catalog of its own (stage `staging`), so partitions other tests publish cannot be the newest.
"""

from datetime import date
from typing import Any

import boto3
import pytest

from etl.catalog_repair import main
from etl.latest_snapshot import point_latest_table, point_latest_tables
from etl.publish import PartitionFolder, point_partition
from infra.local.analytics_catalog import create_analytics_catalog
from tests.dags.local_stack import LocalStack

BUCKET = "tasklake-latest-test"


@pytest.fixture(scope="module")
def database(local_stack: LocalStack) -> str:
    return create_analytics_catalog(
        boto3.client("s3"),
        boto3.client("glue"),
        {"Environment": "staging", "LakeBucketName": BUCKET},
    )


def publish(glue: Any, database: str, table: str, day: date, run: str) -> str:
    location = f"s3://{BUCKET}/{table}/day={day}/run={run}/"
    point_partition(glue, database, PartitionFolder(table, day.isoformat(), location, [], 0))
    return location


def latest(glue: Any, database: str, table: str) -> tuple[str, str | None]:
    found = glue.get_table(DatabaseName=database, Name=f"{table}_latest")["Table"]
    return found["StorageDescriptor"]["Location"], found.get("Parameters", {}).get("snapshot_date")


def test_latest_follows_the_newest_day_not_the_last_run(database: str) -> None:
    glue = boto3.client("glue")
    newest = publish(glue, database, "tag_daily_stats", date(2026, 9, 3), "a")
    point_latest_table(glue, database, "tag_daily_stats")

    publish(glue, database, "tag_daily_stats", date(2026, 9, 2), "backfill")
    point_latest_table(glue, database, "tag_daily_stats")

    assert latest(glue, database, "tag_daily_stats") == (newest, "2026-09-03")


def test_a_rerun_of_the_newest_day_moves_latest_to_its_folder(database: str) -> None:
    glue = boto3.client("glue")
    publish(glue, database, "user_daily_stats", date(2026, 9, 5), "first")
    point_latest_tables(glue, database, ["user_daily_stats"])

    rerun = publish(glue, database, "user_daily_stats", date(2026, 9, 5), "rerun")
    pointed = point_latest_tables(glue, database, ["user_daily_stats"])

    assert pointed == {"user_daily_stats_latest": rerun}
    assert latest(glue, database, "user_daily_stats") == (rerun, "2026-09-05")


def test_a_newer_day_published_meanwhile_wins(database: str) -> None:
    """Two dates' runs publish at once: the older one's re-point must not stick."""
    glue = boto3.client("glue")
    publish(glue, database, "tasks", date(2026, 9, 8), "older")
    newer_location: list[str] = []

    class NewerRunPublishesDuringUpdate:
        def __getattr__(self, name: str) -> Any:
            return getattr(glue, name)

        def update_table(self, **kwargs: Any) -> Any:
            response = glue.update_table(**kwargs)
            if not newer_location:
                newer_location.append(publish(glue, database, "tasks", date(2026, 9, 9), "newer"))
            return response

    racing: Any = NewerRunPublishesDuringUpdate()
    point_latest_table(racing, database, "tasks")

    assert latest(glue, database, "tasks") == (newer_location[0], "2026-09-09")


def test_nothing_published_leaves_latest_empty(local_stack: LocalStack) -> None:
    glue = boto3.client("glue")
    empty = create_analytics_catalog(
        boto3.client("s3"), glue, {"Environment": "prod", "LakeBucketName": BUCKET}
    )

    assert point_latest_tables(glue, empty, ["tasks"]) == {"tasks_latest": ""}
    assert latest(glue, empty, "tasks") == (f"s3://{BUCKET}/latest/tasks_latest/", None)


def test_after_a_stack_update_resets_latest_the_repair_command_points_it_back(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, glue = boto3.client("s3"), boto3.client("glue")
    stage = {"Environment": "repair", "LakeBucketName": BUCKET}
    database = create_analytics_catalog(s3, glue, stage)
    newest = publish(glue, database, "tasks", date(2026, 9, 20), "before-update")
    point_latest_tables(glue, database, ["tasks"])
    # The stack update, as CloudFormation applies it: the template's TableInput, again.
    create_analytics_catalog(s3, glue, stage)
    assert latest(glue, database, "tasks") == (f"s3://{BUCKET}/latest/tasks_latest/", None)

    assert main(["--database", database, "--table", "tasks"]) == 0

    assert latest(glue, database, "tasks") == (newest, "2026-09-20")
    assert f"tasks_latest reads {newest}" in capsys.readouterr().out
