"""End to end: an account deleted through the API leaves every table of the lake.

The API on DynamoDB Local and cognito-local (this session's engines), the lake on moto, the
DAGs in Airflow's own interpreter (.venv-airflow) exactly as `make etl` runs them: tasks_daily
exports the API's tables for two days, the account is deleted between them, lake_erasure runs,
and no published partition of any table holds a row of it.

The deleted account is found the way production finds it: its user_id is absent from the
`users` partition tasks_daily published for the second day.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from api.config import Settings
from etl.lake_layout import is_data_file
from etl.publish import published_partition
from etl.schemas import TABLES
from infra.local.airflow_local import airflow_env, logical_date_for
from infra.local.analytics_catalog import create_analytics_catalog
from infra.local.services import free_port, start_moto
from tests.api.conftest import Account

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ROOT / ".venv-airflow" / "bin" / "airflow"
D1, D2 = date(2026, 11, 20), date(2026, 11, 21)


@dataclass
class Lake:
    env: dict[str, str]
    database: str
    bucket: str
    work: Path

    def client(self, service: str) -> Any:
        make: Any = boto3.client
        return make(service, endpoint_url=self.env["AWS_ENDPOINT_URL_S3"])

    def airflow(self, *args: str, **settings: str) -> None:
        result = subprocess.run(
            [str(AIRFLOW), *args],
            env={**os.environ, **self.env, **settings},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def run_day(self, day: date) -> None:
        """tasks_daily for `day` (a scan of the API's table now), as `make etl DATE=day`."""
        conf = json.dumps({"source": "export"})
        self.airflow("dags", "test", "tasks_daily", logical_date_for(day), "--conf", conf)

    def erase(self) -> None:
        """lake_erasure, as `airflow dags test lake_erasure` runs it on the worker.

        Other tests' accounts share these tables (some deleted by them): the share bound is the
        guard tests' (tests/dags/test_erasure.py), not this test's.
        """
        now = datetime.now(UTC).isoformat()
        self.airflow(
            "dags", "test", "lake_erasure", now, AIRFLOW_VAR_TASKLAKE_ERASURE_MAX_SHARE="1"
        )

    def published_rows(self) -> dict[tuple[str, date], list[dict[str, Any]]]:
        """Every row readers get, per table and day: the files each Glue partition names."""
        s3, glue = self.client("s3"), self.client("glue")
        found: dict[tuple[str, date], list[dict[str, Any]]] = {}
        for table in sorted(TABLES):
            for day in (D1, D2):
                partition = published_partition(glue, self.database, table, day)
                assert partition is not None, (table, day)
                parsed = urlparse(partition.location)
                listed = s3.list_objects_v2(Bucket=parsed.netloc, Prefix=parsed.path.lstrip("/"))
                rows: list[dict[str, Any]] = []
                for obj in listed.get("Contents", []):
                    if is_data_file(obj["Key"].rsplit("/", 1)[-1]):
                        body = s3.get_object(Bucket=parsed.netloc, Key=obj["Key"])["Body"].read()
                        rows += pq.read_table(pa.BufferReader(body)).to_pylist()
                found[(table, day)] = rows
        return found


@pytest.fixture(scope="module")
def lake(engines: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    work = tmp_path_factory.mktemp("lake")
    settings = Settings.from_env(engines)
    moto = start_moto(free_port(), log_path=work / "moto.log")
    try:
        s3: Any = boto3.client("s3", endpoint_url=moto.url)
        glue: Any = boto3.client("glue", endpoint_url=moto.url)
        bucket = "tasklake-e2e-lake"
        database = create_analytics_catalog(
            s3, glue, {"Environment": "e2e", "LakeBucketName": bucket}
        )
        env = airflow_env(
            work / "airflow",
            moto.url,
            engines["AWS_ENDPOINT_URL_DYNAMODB"],
            tasks_table=settings.tasks_table,
            users_table=settings.users_table,
            lake_bucket=bucket,
            glue_database=database,
        )
        lake = Lake(env, database, bucket, work)
        lake.airflow("db", "migrate")
        yield lake
    finally:
        moto.stop()


def test_an_account_deleted_through_the_api_leaves_every_lake_table(
    lake: Lake, sign_up: Callable[..., Account]
) -> None:
    alice, bob = sign_up(name="Alice"), sign_up(name="Bob")
    alice.create_task(title="groceries", tags=["home"])
    bob.create_task(title="call the lawyer", tags=["bobs-divorce-lawyer"])
    lake.run_day(D1)

    assert bob.request("DELETE", "/users/me").status_code == 204
    lake.run_day(D2)
    before = lake.published_rows()
    assert bob.id in {row["user_id"] for row in before[("tasks", D1)]}

    lake.erase()

    after = lake.published_rows()
    for (table, day), rows in after.items():
        assert bob.id not in {row.get("user_id") for row in rows}, (table, day)
        assert "bobs-divorce-lawyer" not in {row.get("tag") for row in rows}, (table, day)
    for day in (D1, D2):
        assert alice.id in {row["user_id"] for row in after[("tasks", day)]}
        assert alice.id in {row["user_id"] for row in after[("users", day)]}
