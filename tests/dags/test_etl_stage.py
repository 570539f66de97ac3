"""`make etl-stage`: the DAG run against a deployed stage that has no MWAA (dev by default).

The "deployed stage" is moto's: a CloudFormation stack whose exports name the session's tasks
table (DynamoDB Local), lake bucket and Glue catalog, as the data and analytics stacks export
them. moto's CloudFormation would not create the Glue catalog itself, so the exports point at
the one the session built from infra/analytics.yaml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from etl.lake_layout import POINTER_FOLDER, partition_suffix
from etl.schemas import CATALOG_TABLES
from infra.deploy.preflight import PreflightError
from infra.local.airflow_local import export_mode_for
from tests.dags.local_stack import LAKE_BUCKET, TASKS_TABLE, USERS_TABLE, LocalStack, task_item

REPO = Path(__file__).resolve().parents[2]
# A day no other DAG test publishes, before the one test_run_metrics.py needs to be the newest.
DAY = date(2026, 11, 17)


def exporting(values: dict[str, str]) -> str:
    outputs = {
        name.title().replace("-", ""): {
            "Value": value,
            "Export": {"Name": f"tasklake-dev-{name}"},
        }
        for name, value in values.items()
    }
    placeholder = {"Placeholder": {"Type": "AWS::SNS::Topic"}}
    return json.dumps({"Resources": placeholder, "Outputs": outputs})


def etl_stage(
    tmp_path: Path, day: date = DAY, **environment: str
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "infra.local.airflow_local", "etl-stage", "--stage", "dev",
        "--date", day.isoformat(), "--airflow-home", str(tmp_path / "airflow"),
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=REPO, env={**os.environ, **environment}, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip


@contextmanager
def deployed_stage(stack: LocalStack, tasks_table: str = TASKS_TABLE) -> Iterator[str]:
    """moto's stand-in for the stage's data and analytics exports; yields its endpoint."""
    moto = stack.env["AWS_ENDPOINT_URL_S3"]
    cloudformation = boto3.client("cloudformation", endpoint_url=moto)
    cloudformation.create_stack(
        StackName="tasklake-dev-lake-stand-in",
        TemplateBody=exporting(
            {
                "tasks-table": tasks_table,
                "users-table": USERS_TABLE,
                "lake-bucket": LAKE_BUCKET,
                "glue-database": stack.database,
                "athena-etl-workgroup": "tasklake-dev-etl",
            }
        ),
    )
    try:
        yield moto
    finally:
        cloudformation.delete_stack(StackName="tasklake-dev-lake-stand-in")


def test_the_dag_runs_on_a_stage_from_its_exports(stack: LocalStack, tmp_path: Path) -> None:
    """DynamoDB Local has no point-in-time recovery: a scan, so only for today."""
    today = datetime.now(UTC).date()
    stack.put_tasks(task_item("u1", "t1"), task_item("u2", "t2"))
    try:
        with deployed_stage(stack) as moto:
            done = etl_stage(tmp_path, today, AWS_ENDPOINT_URL_CLOUDFORMATION=moto)

        assert done.returncode == 0, done.stdout + done.stderr
        assert f"published {today} to Glue {stack.database}" in done.stdout
        assert sorted(stack.read_published("tasks", today)["task_id"].to_pylist()) == ["t1", "t2"]
        # Every table of the lake, the analysts' users, task_changes and lake_status included.
        assert [table for table in CATALOG_TABLES if not stack.partitions(table, today)] == []
    finally:
        # test_run_metrics.py needs its day to be the newest the catalog publishes, and
        # test_publish.py's repair would bring the day back from its pointers.
        glue, s3 = stack.client("glue"), stack.client("s3")
        for table in CATALOG_TABLES:
            for partition in stack.partitions(table, today):
                glue.delete_partition(
                    DatabaseName=stack.database,
                    TableName=table,
                    PartitionValues=partition["Values"],
                )
            location = glue.get_table(DatabaseName=stack.database, Name=table)["Table"][
                "StorageDescriptor"
            ]["Location"]
            pointers = f"{location.rstrip('/')}/{POINTER_FOLDER}{partition_suffix(today)}"
            for key in stack.objects(pointers):
                s3.delete_object(Bucket=LAKE_BUCKET, Key=key)


def test_a_past_day_is_refused_where_only_a_scan_can_read_the_table(
    stack: LocalStack, tmp_path: Path
) -> None:
    """A scan reads today's data; labelled DAY, it would be a past day's snapshot that is not."""
    with deployed_stage(stack) as moto:
        done = etl_stage(tmp_path, AWS_ENDPOINT_URL_CLOUDFORMATION=moto)

    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {TASKS_TABLE} has no point-in-time recovery")
    assert len(done.stderr.strip().splitlines()) == 1
    assert stack.partitions("tasks", DAY) == []


@dataclass
class RestorableTable:
    """DescribeContinuousBackups as DynamoDB answers for a table restorable since `earliest`
    (moto's earliest restorable time is the moment PITR was enabled, so it cannot show this)."""

    earliest: datetime

    def describe_continuous_backups(self, TableName: str) -> dict[str, Any]:
        assert TableName == "tasks"
        description = {
            "PointInTimeRecoveryStatus": "ENABLED",
            "EarliestRestorableDateTime": self.earliest,
            "LatestRestorableDateTime": datetime.now(UTC),
        }
        return {"ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": description}}


def test_a_stage_with_pitr_exports_a_finished_day_as_of_its_end() -> None:
    today = date(2026, 12, 7)
    table = RestorableTable(datetime(2026, 11, 20, 9, tzinfo=UTC))

    assert export_mode_for(table, "tasks", date(2026, 12, 6), today) == "native"
    assert export_mode_for(table, "tasks", date(2026, 11, 20), today) == "native"
    with pytest.raises(PreflightError, match="can no longer be exported"):
        export_mode_for(table, "tasks", date(2026, 11, 19), today)
    with pytest.raises(PreflightError, match="is not over"):
        export_mode_for(table, "tasks", today, today)


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "error: no AWS credentials"),
        ({}, "error: stage dev exports no tasks-table, users-table, lake-bucket, glue-database"),
    ],
)
def test_without_credentials_or_a_deployed_stage_it_says_so_in_one_line(
    stack: LocalStack, tmp_path: Path, environment: dict[str, str], message: str
) -> None:
    done = etl_stage(
        tmp_path,
        DAY,
        AWS_ENDPOINT_URL_CLOUDFORMATION=stack.env["AWS_ENDPOINT_URL_S3"],
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_CONFIG_FILE="/dev/null",
        **environment,
    )

    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
