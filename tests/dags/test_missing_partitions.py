"""The days the lake lacks since it began, up to a run's day, read from moto's Glue catalog.

A catalog of its own (stage `missing`), so the partitions other tests publish are not in it.
"""

from datetime import date, timedelta

import boto3
import pytest

from etl.missing_partitions import days_without, describe, missing_days, missing_partitions
from etl.publish import PartitionFolder, point_partition
from infra.local.analytics_catalog import create_analytics_catalog
from tests.dags.local_stack import LocalStack

BUCKET = "tasklake-missing-test"
TABLES = ("tasks", "user_daily_stats", "tag_daily_stats")
LAST = date(2026, 12, 20)


@pytest.fixture(scope="module")
def database(local_stack: LocalStack) -> str:
    return create_analytics_catalog(
        boto3.client("s3"),
        boto3.client("glue"),
        {"Environment": "missing", "LakeBucketName": BUCKET},
    )


def _publish(database: str, table: str, day: date) -> None:
    location = f"s3://{BUCKET}/{table}/day={day}/run=test/"
    partition = PartitionFolder(table, day.isoformat(), location, [], 0)
    point_partition(boto3.client("glue"), database, partition)


def test_a_gap_in_one_table_is_a_missing_day(database: str) -> None:
    glue = boto3.client("glue")
    assert missing_partitions(glue, database, TABLES, LAST) == {table: [] for table in TABLES}

    days = [LAST - timedelta(days=back) for back in range(5)]
    for day in days:
        for table in TABLES:
            if not (table == "user_daily_stats" and day == days[2]):
                _publish(database, table, day)
    missing = missing_partitions(glue, database, TABLES, LAST)

    assert missing == {"tasks": [], "user_daily_stats": [days[2]], "tag_daily_stats": []}
    assert missing_days(missing) == [days[2]]
    assert describe(missing) == f"missing partitions: user_daily_stats: {days[2].isoformat()}"


def test_missing_days_are_counted_since_the_lake_began_not_only_within_35() -> None:
    published = {date(2026, 10, 1), date(2026, 11, 30)}

    missing = days_without(published, date(2026, 11, 30))

    assert missing == [date(2026, 10, 2) + timedelta(days=n) for n in range(59)]


def test_days_before_the_first_published_one_are_not_gaps() -> None:
    first = date(2026, 11, 25)

    assert days_without({first, date(2026, 11, 27)}, date(2026, 11, 28)) == [
        date(2026, 11, 26),
        date(2026, 11, 28),
    ]
    assert days_without(set(), date(2026, 11, 28)) == []
