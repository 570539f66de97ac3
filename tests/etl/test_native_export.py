"""When the native export may start, and how it is followed.

DynamoDB's latest restorable time trails the clock by minutes; moto cannot show that (its
LatestRestorableDateTime is frozen at the moment PITR was enabled), so the waiting is tested
against a stub table whose restorable time follows a stub clock. Starting and following an
export is tested on moto, which does model the export itself.
"""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl.native_export import (
    ExportFailedError,
    PointInTimeRecoveryDisabledError,
    is_export_finished,
    start_export,
    wait_before_export,
)

MIDNIGHT = datetime(2026, 11, 26, tzinfo=UTC)
"""data_interval_end of the run for 2026-11-25: the export time."""
POKE_SECONDS = 60


@dataclass
class Clock:
    now: datetime


@dataclass
class LaggingTable:
    """DescribeContinuousBackups as DynamoDB answers it: restorable up to `lag` before now."""

    clock: Clock
    lag: timedelta
    status: str = "ENABLED"

    def describe_continuous_backups(self, TableName: str) -> dict[str, Any]:
        assert TableName == "tasks"
        description: dict[str, Any] = {"PointInTimeRecoveryStatus": self.status}
        if self.status == "ENABLED":
            description["LatestRestorableDateTime"] = self.clock.now - self.lag
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": description,
            }
        }


def first_export_start(table: LaggingTable, export_time: datetime) -> datetime:
    """When a sensor poking every minute from the clock's time lets the export start."""
    while (wait := wait_before_export(table, "tasks", export_time)) > 0:
        assert wait <= table.lag.total_seconds()
        table.clock.now += timedelta(seconds=POKE_SECONDS)
    return table.clock.now


def test_a_run_at_midnight_waits_until_dynamodb_has_caught_up() -> None:
    clock = Clock(MIDNIGHT + timedelta(seconds=20))
    table = LaggingTable(clock, lag=timedelta(minutes=5))

    assert wait_before_export(table, "tasks", MIDNIGHT) == 280
    started = first_export_start(table, MIDNIGHT)

    assert started - table.lag >= MIDNIGHT
    assert started < MIDNIGHT + table.lag + timedelta(seconds=20 + POKE_SECONDS)


def test_a_backfilled_day_exports_at_once() -> None:
    table = LaggingTable(Clock(MIDNIGHT + timedelta(days=3)), lag=timedelta(minutes=5))

    assert wait_before_export(table, "tasks", MIDNIGHT) == 0


def test_exactly_the_latest_restorable_time_is_exportable() -> None:
    table = LaggingTable(Clock(MIDNIGHT + timedelta(minutes=5)), lag=timedelta(minutes=5))

    assert wait_before_export(table, "tasks", MIDNIGHT) == 0


def test_a_table_without_pitr_fails_instead_of_waiting() -> None:
    table = LaggingTable(Clock(MIDNIGHT), lag=timedelta(0), status="DISABLED")

    with pytest.raises(PointInTimeRecoveryDisabledError):
        wait_before_export(table, "tasks", MIDNIGHT)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # In-process moto answers only AWS's own endpoints: drop any local engine's endpoint another
    # fixture of the session exported (the API tests' DynamoDB Local, for one).
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lake")
        client.create_table(
            TableName="tasks",
            KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_continuous_backups(
            TableName="tasks",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        yield client


def poll_export(dynamodb: Any, arn: str) -> bool:
    """Poll as the sensor does, without its minute between checks (moto exports in a thread)."""
    deadline = time.monotonic() + 30
    while not is_export_finished(dynamodb, arn):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_started_export_is_followed_until_it_completes(dynamodb: Any) -> None:
    arn = start_export(
        dynamodb,
        table_name="tasks",
        export_time=datetime.now(UTC) - timedelta(minutes=1),
        bucket="lake",
        prefix="bronze/attempt=1/",
    )

    assert poll_export(dynamodb, arn)
    exported = dynamodb.describe_export(ExportArn=arn)["ExportDescription"]
    assert (exported["S3Bucket"], exported["S3Prefix"]) == ("lake", "bronze/attempt=1/")


def test_a_failed_export_raises_with_dynamodbs_reason(dynamodb: Any) -> None:
    arn = start_export(
        dynamodb,
        table_name="tasks",
        export_time=datetime.now(UTC) - timedelta(minutes=1),
        bucket="no-such-bucket",
        prefix="bronze/attempt=1/",
    )

    with pytest.raises(ExportFailedError, match=arn):
        poll_export(dynamodb, arn)
