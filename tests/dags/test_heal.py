"""A run heals earlier missing days itself, whatever Airflow's catchup and max_active_runs did.

`airflow dags test` runs one day and never catches up, which is exactly a scheduler with
catchup off: the days before it are published only if the run itself publishes them. The runs
here use their own catalog and bucket (stage `heal`), so the days other tests leave empty in the
shared catalog are not gaps here, and the native export on moto as test_native_export_runs.py
stands it in (moto's restorable time, and the manifests it does not write).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.models import DagBag

import etl.native_export
from etl.heal import DayToHeal, days_to_heal
from etl.publish import PartitionFolder, point_partition
from infra.local.airflow_local import logical_date_for
from infra.local.analytics_catalog import create_analytics_catalog
from tests.dags.local_stack import LocalStack, pitr_table, pitr_users_table, write_native_manifest

DAGS = Path(__file__).resolve().parents[2] / "dags"
TABLES = ("tasks", "user_daily_stats", "tag_daily_stats")
BUCKET = "tasklake-heal-lake"
DAY = date(2026, 11, 24)
PITR_SINCE = datetime(2026, 11, 19, 12, tzinfo=UTC)
"""The table's earliest restorable time: DynamoDB can export 2026-11-19 and later."""


def test_the_oldest_rebuildable_days_are_healed_first_and_no_more_than_the_limit() -> None:
    missing = [date(2026, 11, n) for n in (20, 3, 10, 11, 12, 30)]

    heals = days_to_heal(
        missing, before=date(2026, 11, 30), first_exportable=date(2026, 11, 10),
        with_bronze={date(2026, 11, 12)}, limit=3,
    )  # fmt: skip

    # 11-03: neither exportable nor in bronze (lost); 11-30: the run's own day, not a heal.
    assert heals == [
        DayToHeal(date(2026, 11, 10), "export"),
        DayToHeal(date(2026, 11, 11), "export"),
        DayToHeal(date(2026, 11, 12), "bronze"),
    ]
    assert days_to_heal(missing, date(2026, 11, 30), None, set(), limit=3) == []
    assert days_to_heal(missing, date(2026, 11, 30), date(2026, 11, 1), set(), limit=0) == []


@pytest.fixture
def heal_stack(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> LocalStack:
    """The DAG in native mode on moto, in a catalog of its own, healing up to two days a run."""
    database = create_analytics_catalog(
        boto3.client("s3"), boto3.client("glue"), {"Environment": "heal", "LakeBucketName": BUCKET}
    )
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_GLUE_DATABASE", database)
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_LAKE_BUCKET", BUCKET)
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_HEAL_DAYS_PER_RUN", "2")
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_EXPORT_MODE", "native")
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_TASKS_TABLE", pitr_table(stack))
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_USERS_TABLE", pitr_users_table(stack))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", stack.env["AWS_ENDPOINT_URL_S3"])
    monkeypatch.setenv("TASKLAKE_EXPORT_POKE_SECONDS", "1")
    # DescribeContinuousBackups as AWS answers for PITR on since PITR_SINCE (moto: since enabled).
    monkeypatch.setattr(etl.native_export, "earliest_restorable_time", lambda _: PITR_SINCE)
    is_export_finished: Callable[[Any, str], bool] = etl.native_export.is_export_finished

    def finished_with_manifest(dynamodb: Any, export_arn: str) -> bool:
        """DynamoDB's manifests, as of the end of the day the export's prefix names."""
        if not is_export_finished(dynamodb, export_arn):
            return False
        prefix = dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"]["S3Prefix"]
        day = date.fromisoformat(prefix.split("snapshot_date=")[1][:10])
        end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        write_native_manifest(boto3.client("s3"), dynamodb, export_arn, end)
        return True

    monkeypatch.setattr(etl.native_export, "is_export_finished", finished_with_manifest)
    return LocalStack(stack.env, database)


def _publish_directly(stack: LocalStack, day: date) -> None:
    """A day some earlier run published (its files do not matter here, only the catalog)."""
    for table in TABLES:
        location = f"s3://{BUCKET}/{table}/year={day:%Y}/month={day:%m}/day={day:%d}/run=earlier/"
        partition = PartitionFolder(table, day.isoformat(), location, [], 0)
        point_partition(stack.client("glue"), stack.database, partition)


def test_a_run_publishes_earlier_missing_days_oldest_first_up_to_its_limit(
    heal_stack: LocalStack,
) -> None:
    """The lake began 11-16; 11-17 and 11-18 are past DynamoDB's window with no bronze (lost),
    11-19 to 11-23 missing. With a limit of 2 the run for 11-24 publishes 11-19, 11-20 and
    11-24, and still counts the two lost days."""
    first = etl.native_export.first_exportable_day(PITR_SINCE)
    assert first == date(2026, 11, 19)
    _publish_directly(heal_stack, date(2026, 11, 16))
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    since = datetime.now(UTC).replace(microsecond=0)

    run = dag.test(logical_date=datetime.fromisoformat(logical_date_for(DAY)))

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    healed = [date(2026, 11, 19), date(2026, 11, 20)]
    for day in [*healed, DAY]:
        for table in TABLES:
            assert len(heal_stack.partitions(table, day)) == 1, (table, day)
        tasks = heal_stack.read_published("tasks", day).column("task_id").to_pylist()
        assert sorted(tasks) == ["n1", "n2"]
    for day in (date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 21)):
        assert heal_stack.partitions("tasks", day) == []
    assert heal_stack.etl_metric("UnrebuildableDays", since) == (1, 2)
    first_row, second_row, own = (
        heal_stack.read_published("lake_status", day).to_pylist()[0] for day in [*healed, DAY]
    )
    assert first_row["export_mode"] == "native"
    assert first_row["export_time"] == datetime(2026, 11, 20)
    # In order: each day published before the next.
    assert first_row["published_at"] < second_row["published_at"] < own["published_at"]
