"""Helpers for the DAG tests: the local stack's handles and task items shaped like the API's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from etl.run_metrics import DAG, NAMESPACE
from infra.local.airflow_local import DAG_ID, logical_date_for

TASKS_TABLE = "tasklake-test-tasks"
USERS_TABLE = "tasklake-test-users"
LAKE_BUCKET = "tasklake-test-lake"


def create_tasks_table(dynamodb: Any, table_name: str) -> None:
    """The API's tasks table keys (PK user_id, SK task_id); the API is not installed here."""
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "task_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "task_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_users_table(dynamodb: Any, table_name: str) -> None:
    """The API's users (profile) table key (PK user_id), as infra/data.yaml declares it."""
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@dataclass
class LocalStack:
    env: dict[str, str]
    database: str

    def client(self, service: str) -> Any:
        # Endpoints come from AWS_ENDPOINT_URL_* in os.environ; typed Any as the service varies.
        make_client: Any = boto3.client
        return make_client(service)

    @property
    def tasks(self) -> Any:
        return boto3.resource("dynamodb").Table(TASKS_TABLE)

    @property
    def users(self) -> Any:
        return boto3.resource("dynamodb").Table(USERS_TABLE)

    def put_tasks(self, *items: dict[str, Any]) -> None:
        """The tasks, and a profile for each owner that has none: every task has an account."""
        with self.tasks.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)
        for owner in sorted({item["user_id"] for item in items}):
            if "Item" not in self.users.get_item(Key={"user_id": owner}):
                self.put_users(user_item(owner))

    def put_users(self, *items: dict[str, Any]) -> None:
        with self.users.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)

    def run_dag(
        self, snapshot_date: date, source: str = "export", **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        """`airflow dags test` for the run that owns `snapshot_date`, as `make etl` runs it."""
        return subprocess.run(
            [
                str(Path(sys.executable).with_name("airflow")),
                "dags",
                "test",
                DAG_ID,
                logical_date_for(snapshot_date),
                "--conf",
                json.dumps({"source": source}),
            ],
            env={**os.environ, **self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def etl_metric(self, name: str, since: datetime, **dimensions: str) -> tuple[int, float]:
        """(datapoints, their sum) of one ETL metric sent since `since`, read from CloudWatch."""
        found = self.client("cloudwatch").get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=name,
            Dimensions=[
                {"Name": key, "Value": value} for key, value in {DAG: DAG_ID, **dimensions}.items()
            ],
            StartTime=since,
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=3600,
            Statistics=["SampleCount", "Sum"],
        )["Datapoints"]
        return (
            int(sum(point["SampleCount"] for point in found)),
            sum(point["Sum"] for point in found),
        )

    def partitions(self, table: str, snapshot_date: date) -> list[dict[str, Any]]:
        values = [f"{snapshot_date:%Y}", f"{snapshot_date:%m}", f"{snapshot_date:%d}"]
        found = self.client("glue").get_partitions(DatabaseName=self.database, TableName=table)
        return [p for p in found["Partitions"] if p["Values"] == values]

    def location(self, table: str, snapshot_date: date) -> str:
        (partition,) = self.partitions(table, snapshot_date)
        location: str = partition["StorageDescriptor"]["Location"]
        return location

    def objects(self, location: str) -> dict[str, str]:
        """Key -> ETag of every object under an s3:// folder."""
        parsed = urlparse(location)
        listed = self.client("s3").list_objects_v2(
            Bucket=parsed.netloc, Prefix=parsed.path.lstrip("/")
        )
        return {obj["Key"]: obj["ETag"] for obj in listed.get("Contents", [])}

    def read_published(self, table: str, snapshot_date: date) -> pa.Table:
        """What Athena would read for that date: every file under the partition's location."""
        parsed = urlparse(self.location(table, snapshot_date))
        s3 = self.client("s3")
        listed = s3.list_objects_v2(Bucket=parsed.netloc, Prefix=parsed.path.lstrip("/"))
        tables = []
        for obj in listed.get("Contents", []):
            body = s3.get_object(Bucket=parsed.netloc, Key=obj["Key"])["Body"].read()
            tables.append(pq.read_table(pa.BufferReader(body)))
        return pa.concat_tables(tables)


def task_item(user_id: str, task_id: str, **attributes: Any) -> dict[str, Any]:
    """A task item shaped like the API stores it."""
    return {
        "user_id": user_id,
        "task_id": task_id,
        "title": f"task {task_id}",
        "description": "written by a test",
        "status": "todo",
        "priority": "medium",
        "tags": ["home"],
        "created_at": "2026-11-20T09:00:00Z",
        "updated_at": "2026-11-20T09:00:00Z",
        "version": 1,
        **attributes,
    }


def user_item(user_id: str, **attributes: Any) -> dict[str, Any]:
    """A profile item shaped like the API stores it (api/users/models.py)."""
    return {
        "user_id": user_id,
        "email": f"{user_id}@example.com",
        "name": f"Name of {user_id}",
        "kind": "user",
        "enabled": True,
        "created_at": "2026-10-01T09:00:00.000000Z",
        "updated_at": "2026-10-01T09:00:00.000000Z",
        **attributes,
    }


def write_native_manifest(s3: Any, dynamodb: Any, export_arn: str, export_time: datetime) -> None:
    """The manifest files DynamoDB writes when an export completes, which moto's export lacks.

    Shaped as documented, with the fields the DAG reads:
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html
    """
    export = dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"]
    bucket, prefix = export["S3Bucket"], export["S3Prefix"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    data_keys = [obj["Key"] for obj in listed if "/data/" in obj["Key"]]
    folder = data_keys[0].split("/data/")[0] + "/"
    files_key = f"{folder}manifest-files.json"
    lines = [json.dumps({"itemCount": 0, "dataFileS3Key": key}) for key in data_keys]
    s3.put_object(Bucket=bucket, Key=files_key, Body="\n".join(lines).encode() + b"\n")
    summary = {
        "version": "2020-06-30",
        "exportArn": export_arn,
        "tableArn": export["TableArn"],
        "exportTime": export_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "itemCount": export["ItemCount"],
        "manifestFilesS3Key": files_key,
        "outputFormat": "DYNAMODB_JSON",
    }
    s3.put_object(Bucket=bucket, Key=f"{folder}manifest-summary.json", Body=json.dumps(summary))


PITR_TABLE = "tasklake-test-tasks-pitr"
PITR_USERS_TABLE = "tasklake-test-users-pitr"


def pitr_table(stack: LocalStack) -> str:
    """A tasks table with point-in-time recovery on moto (DynamoDB Local has no exports)."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.env["AWS_ENDPOINT_URL_S3"])
    if PITR_TABLE not in dynamodb.meta.client.list_tables()["TableNames"]:
        create_tasks_table(dynamodb.meta.client, PITR_TABLE)
        dynamodb.meta.client.update_continuous_backups(
            TableName=PITR_TABLE,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        table = dynamodb.Table(PITR_TABLE)
        table.put_item(Item=task_item("carol", "n1"))
        table.put_item(Item=task_item("carol", "n2", status="done"))
    return PITR_TABLE


def pitr_users_table(stack: LocalStack) -> str:
    """The users table beside `pitr_table`, with PITR too (as infra/data.yaml enables it)."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.env["AWS_ENDPOINT_URL_S3"])
    if PITR_USERS_TABLE not in dynamodb.meta.client.list_tables()["TableNames"]:
        create_users_table(dynamodb.meta.client, PITR_USERS_TABLE)
        dynamodb.meta.client.update_continuous_backups(
            TableName=PITR_USERS_TABLE,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        dynamodb.Table(PITR_USERS_TABLE).put_item(Item=user_item("carol"))
    return PITR_USERS_TABLE
