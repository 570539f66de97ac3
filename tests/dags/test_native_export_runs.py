"""The native export path of tasks_daily on moto: days it skips, exports it refuses, retries.

moto models the export itself but not three things AWS does, stood in for here and said where:
its EarliestRestorableDateTime is the moment PITR was enabled (now), it ignores ExportTime, and
it writes no manifest files (`write_native_manifest` writes them as DynamoDB documents them).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.models import DagBag

import etl.native_export
from infra.local.airflow_local import logical_date_for
from tests.dags.local_stack import (
    LocalStack,
    pitr_table,
    pitr_users_table,
    write_native_manifest,
)

DAGS = Path(__file__).resolve().parents[2] / "dags"
TABLES = ("tasks", "user_daily_stats", "tag_daily_stats")


@pytest.fixture
def native(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> LocalStack:
    """The DAG in native mode against moto's DynamoDB, its sensors poking every second."""
    moto_url = stack.env["AWS_ENDPOINT_URL_S3"]
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_EXPORT_MODE", "native")
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_TASKS_TABLE", pitr_table(stack))
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_USERS_TABLE", pitr_users_table(stack))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    # Read when the DAG file is parsed: each test parses it again (`run_day`).
    monkeypatch.setenv("TASKLAKE_EXPORT_POKE_SECONDS", "1")
    return stack


def restorable_since(monkeypatch: pytest.MonkeyPatch, earliest: datetime) -> None:
    """DescribeContinuousBackups' EarliestRestorableDateTime as AWS answers for a table whose
    PITR has been on that long (moto's is the moment it was enabled)."""
    monkeypatch.setattr(etl.native_export, "earliest_restorable_time", lambda _: earliest)


def manifests_written(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, shift: timedelta = timedelta(0)
) -> None:
    """Write DynamoDB's manifest files when moto reports the export complete; `shift` moves the
    export time the manifest states away from the one asked for."""
    is_export_finished: Callable[[Any, str], bool] = etl.native_export.is_export_finished

    def finished_with_manifest(dynamodb: Any, export_arn: str) -> bool:
        if not is_export_finished(dynamodb, export_arn):
            return False
        asked = dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"]["S3Prefix"]
        day = date.fromisoformat(asked.split("snapshot_date=")[1][:10])
        end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        write_native_manifest(stack.client("s3"), dynamodb, export_arn, end + shift)
        return True

    monkeypatch.setattr(etl.native_export, "is_export_finished", finished_with_manifest)


def run_day(day: date) -> Any:
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    return dag.test(logical_date=datetime.fromisoformat(logical_date_for(day)))


def states(run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_native_mode_runs_the_point_in_time_export(
    native: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The AWS path: wait for the restorable time, PITR export as of the end of the day, wait."""
    day = date(2026, 11, 9)
    restorable_since(monkeypatch, datetime.now(UTC) - timedelta(days=35))
    manifests_written(native, monkeypatch)

    run = run_day(day)

    assert run.state == "success", states(run)
    assert states(run)["export_scan"] == "skipped"
    assert states(run)["export_users_scan"] == "skipped"
    assert sorted(native.read_published("tasks", day).column("task_id").to_pylist()) == [
        "n1",
        "n2",
    ]
    # The users table exported as of the same moment, into its own bronze folder.
    [account] = native.read_published("users", day).to_pylist()
    assert (account["user_id"], account["tasks_total"], account["done_total"]) == ("carol", 2, 1)
    exports = native.objects(f"s3://{native.env['AIRFLOW_VAR_TASKLAKE_LAKE_BUCKET']}/bronze/")
    summaries = [key for key in exports if key.endswith("manifest-summary.json")]
    users_summaries = [key for key in summaries if key.startswith("bronze/dynamodb/users/")]
    assert any("snapshot_date=2026-11-09/" in key for key in users_summaries)


def test_a_day_before_the_earliest_restorable_time_is_skipped_not_failed(
    native: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new stage: catchup schedules days before PITR was enabled (moto: enabled just now).

    moto would export them anyway (it ignores ExportTime); DynamoDB refuses each with
    InvalidExportTimeException, four tries a day. Either way the day has nothing to export.
    """
    day = date(2026, 11, 14)
    since = datetime.now(UTC).replace(microsecond=0)

    run = run_day(day)

    assert run.state == "success", states(run)
    assert states(run)["export_native"] == "skipped"
    assert states(run)["wait_until_exportable"] == "skipped"
    for table in TABLES:
        assert native.partitions(table, day) == []
    assert "skipping this day, nothing to export: " in capsys.readouterr().out
    assert native.etl_metric("RunFailed", since) == (0, 0)


def test_native_mode_without_a_manifest_fails_instead_of_reading_a_scan(
    native: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 11, 15)
    restorable_since(monkeypatch, datetime.now(UTC) - timedelta(days=35))

    run = run_day(day)

    assert run.state == "failed"
    assert states(run)["choose_transform_engine"] == "failed"
    for table in TABLES:
        assert native.partitions(table, day) == []


def test_a_manifest_of_another_export_time_fails_the_run(
    native: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 11, 16)
    restorable_since(monkeypatch, datetime.now(UTC) - timedelta(days=35))
    manifests_written(native, monkeypatch, shift=timedelta(days=1))

    run = run_day(day)

    assert run.state == "failed"
    assert states(run)["choose_transform_engine"] == "failed"
    for table in TABLES:
        assert native.partitions(table, day) == []


def test_a_retried_export_task_reuses_its_export(native: LocalStack) -> None:
    """A second try of `export_native` (a new attempt prefix) finds the first try's export.

    ListExports on moto lists every export; DynamoDB lists those of the past 90 days:
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListExports.html
    """
    dynamodb = boto3.client("dynamodb")
    run_prefix = "bronze/dynamodb/tasks/snapshot_date=2026-11-17/run=retried/"
    export_time = datetime(2026, 11, 18, tzinfo=UTC)
    bucket = native.env["AIRFLOW_VAR_TASKLAKE_LAKE_BUCKET"]

    def start(attempt: int, into: str = bucket) -> str:
        return etl.native_export.start_export(
            dynamodb,
            table_name=pitr_table(native),
            export_time=export_time,
            bucket=into,
            prefix=f"{run_prefix}attempt={attempt}/",
            reuse_under=run_prefix,
        )

    first = start(1)
    assert start(2) == first
    table_arn = dynamodb.describe_table(TableName=pitr_table(native))["Table"]["TableArn"]
    mine = [
        summary["ExportArn"]
        for summary in dynamodb.list_exports(TableArn=table_arn)["ExportSummaries"]
        if dynamodb.describe_export(ExportArn=summary["ExportArn"])["ExportDescription"][
            "S3Prefix"
        ].startswith(run_prefix)
    ]
    assert mine == [first]
