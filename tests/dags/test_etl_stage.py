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
from datetime import date
from pathlib import Path

import boto3
import pytest

from tests.dags.local_stack import LAKE_BUCKET, TASKS_TABLE, LocalStack, task_item

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


def etl_stage(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "infra.local.airflow_local", "etl-stage", "--stage", "dev",
        "--date", DAY.isoformat(), "--airflow-home", str(tmp_path / "airflow"),
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=REPO, env={**os.environ, **environment}, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip


def test_the_dag_runs_on_a_stage_from_its_exports(stack: LocalStack, tmp_path: Path) -> None:
    moto = stack.env["AWS_ENDPOINT_URL_S3"]
    cloudformation = boto3.client("cloudformation", endpoint_url=moto)
    cloudformation.create_stack(
        StackName="tasklake-dev-lake-stand-in",
        TemplateBody=exporting(
            {
                "tasks-table": TASKS_TABLE,
                "lake-bucket": LAKE_BUCKET,
                "glue-database": stack.database,
                "athena-etl-workgroup": "tasklake-dev-etl",
            }
        ),
    )
    stack.put_tasks(task_item("u1", "t1"), task_item("u2", "t2"))
    try:
        done = etl_stage(tmp_path, AWS_ENDPOINT_URL_CLOUDFORMATION=moto)
    finally:
        cloudformation.delete_stack(StackName="tasklake-dev-lake-stand-in")

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"published {DAY} to Glue {stack.database}" in done.stdout
    assert sorted(stack.read_published("tasks", DAY)["task_id"].to_pylist()) == ["t1", "t2"]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "error: no AWS credentials"),
        ({}, "error: stage dev exports no tasks-table, lake-bucket, glue-database"),
    ],
)
def test_without_credentials_or_a_deployed_stage_it_says_so_in_one_line(
    stack: LocalStack, tmp_path: Path, environment: dict[str, str], message: str
) -> None:
    done = etl_stage(
        tmp_path,
        AWS_ENDPOINT_URL_CLOUDFORMATION=stack.env["AWS_ENDPOINT_URL_S3"],
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_CONFIG_FILE="/dev/null",
        **environment,
    )

    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
