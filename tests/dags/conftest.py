"""The local engines the DAG tests run against, started once per session on free ports.

moto serves S3, Glue and CloudWatch; DynamoDB Local (in memory) holds the tasks table; the Glue
catalog is built from infra/analytics.yaml; Airflow gets a throwaway home with its own database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from infra.local.airflow_local import airflow_env
from infra.local.analytics_catalog import create_analytics_catalog
from infra.local.services import DUMMY_AWS_ENV, free_port, start_dynamodb, start_moto
from tests.dags.local_stack import (
    LAKE_BUCKET,
    TASKS_TABLE,
    USERS_TABLE,
    LocalStack,
    create_tasks_table,
    create_users_table,
)

# Airflow reads its home when first imported, so it is set before any test module imports it.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="tasklake-airflow-"))
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["TASKLAKE_RETRY_DELAY_SECONDS"] = "1"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# Each test owns its days in one shared catalog, so a run healing the gaps between them would
# publish days other tests expect empty; tests/dags/test_heal.py turns healing on in its own.
os.environ["AIRFLOW_VAR_TASKLAKE_HEAL_DAYS_PER_RUN"] = "0"
# In-process `dag.test()` serializes the DAG from this folder's bundle before it creates a run.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[2] / "dags")
os.environ.update(DUMMY_AWS_ENV)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    logs = tmp_path_factory.mktemp("logs")
    moto = start_moto(free_port(), log_path=logs / "moto.log")
    dynamodb = start_dynamodb(free_port(), None, log_path=logs / "dynamodb.log")
    try:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL_S3": moto.url,
                "AWS_ENDPOINT_URL_GLUE": moto.url,
                "AWS_ENDPOINT_URL_CLOUDWATCH": moto.url,
                "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.url,
            }
        )
        database = create_analytics_catalog(
            boto3.client("s3"),
            boto3.client("glue"),
            {"Environment": "dev", "LakeBucketName": LAKE_BUCKET},
        )
        create_tasks_table(boto3.client("dynamodb"), TASKS_TABLE)
        create_users_table(boto3.client("dynamodb"), USERS_TABLE)
        env = airflow_env(
            AIRFLOW_HOME,
            moto.url,
            dynamodb.url,
            tasks_table=TASKS_TABLE,
            users_table=USERS_TABLE,
            lake_bucket=LAKE_BUCKET,
            glue_database=database,
        )
        os.environ.update(env)
        subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
            env=os.environ.copy(),
            capture_output=True,
            check=True,
            timeout=300,
        )
        yield LocalStack(env, database)
    finally:
        dynamodb.stop()
        moto.stop()


@pytest.fixture
def stack(local_stack: LocalStack) -> LocalStack:
    """The session's stack with empty tasks and users tables."""
    table = local_stack.tasks
    with table.batch_writer() as batch:
        for item in table.scan(ProjectionExpression="user_id, task_id")["Items"]:
            batch.delete_item(Key={"user_id": item["user_id"], "task_id": item["task_id"]})
    users = local_stack.users
    with users.batch_writer() as batch:
        for item in users.scan(ProjectionExpression="user_id")["Items"]:
            batch.delete_item(Key={"user_id": item["user_id"]})
    return local_stack
