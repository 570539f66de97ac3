"""`make smoke`: the post-deploy check, run as an operator runs it, against real engines.

- `local`: the stack `make run` serves (DynamoDB Local, cognito-local, moto, the API), started
  as `make run` starts it, with a lake the ETL's transform wrote, queried by DuckDB.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from etl.dynamodb_export import find_export_files
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.synthetic import generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from infra.local.services import free_port
from tests.infra.deploy_moto import ROOT, offline_environment
from tests.infra.test_local_stack import stack

SNAPSHOT = date(2026, 11, 25)


def smoke(environment: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.smoke", *argv], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def lines(out: str) -> dict[str, tuple[str, str]]:
    """check → (status, detail) from the smoke's one line per check."""
    found = {}
    for line in out.splitlines()[1:]:
        status, check, detail = line.split(maxsplit=2)
        found[check] = (status, detail)
    return found


class LocalStack:
    def __init__(self, state: Path, url: str) -> None:
        self.state, self.url = state, url
        self.environment = {**os.environ, "LOCAL_STATE_DIR": str(state)}
        self.environment.pop("LAKE_ROOT", None)

    def write_lake(self, tasks: int) -> Path:
        """What `make etl` leaves in the local lake: one day transformed from an export."""
        export = self.state / "export"
        write_export((to_dynamodb_item(t) for t in generate_tasks(tasks, SNAPSHOT)), export)
        transform_export(find_export_files(export), self.state / "lake", SNAPSHOT)
        return self.state / "lake"

    def users(self) -> list[str]:
        running = json.loads((self.state / "stack.json").read_text())
        cognito = boto3.client(
            "cognito-idp", endpoint_url=running["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"],
            region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
        listed = cognito.list_users(UserPoolId=running["COGNITO_USER_POOL_ID"])["Users"]
        return [a["Value"] for u in listed for a in u["Attributes"] if a["Name"] == "email"]


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("smoke-local")
    with stack(state, free_port(), signal.SIGTERM) as url:
        yield LocalStack(state, url)


def test_local_smoke_passes_and_leaves_no_user_behind(local_stack: LocalStack) -> None:
    lake = local_stack.write_lake(tasks=400)
    tags = pq.read_table(lake / partition_path("tag_daily_stats", SNAPSHOT) / PARQUET_FILE_NAME)

    done = smoke(local_stack.environment, "--stage", "local", "--api-url", local_stack.url)

    assert done.returncode == 0, done.stdout + done.stderr
    found = lines(done.stdout)
    steps = ["signup", "confirm", "token", "create-task", "list-tasks", "delete-task"]
    assert [found[step][0] for step in [*steps, "delete-user"]] == ["ok"] * 7
    assert "this stage confirms at sign-up" in found["confirm"][1]
    # Monitoring and orchestration are not part of the local stack: reported, not failed.
    assert found["dashboard"][0] == found["alarms"][0] == found["dag-run"][0] == "off"
    assert "make etl" in found["dag-run"][1]
    assert found["query"][0] == "ok"
    assert f"tag_popularity in DuckDB over {lake}: SUCCEEDED" in found["query"][1]
    assert f"{tags.num_rows} rows" in found["query"][1]
    assert local_stack.users() == []


def test_a_failing_check_prints_fail_and_exits_non_zero(local_stack: LocalStack) -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    environment = {**local_stack.environment, "LAKE_ROOT": str(local_stack.state / "no-lake")}

    done = smoke(environment, "--stage", "local", "--api-url", nothing_listens)

    assert done.returncode == 1
    found = lines(done.stdout)
    assert found["signup"][0] == "FAIL"
    assert "POST /users" in found["signup"][1]
    assert "create-task" not in found
    assert found["query"][0] == "FAIL"
    assert "tag_daily_stats_latest" in found["query"][1]


def test_without_aws_credentials_it_says_so_in_one_line() -> None:
    environment = offline_environment(f"http://127.0.0.1:{free_port()}")

    done = smoke(environment, "--stage", "dev")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: no AWS credentials")
    assert len(done.stderr.strip().splitlines()) == 1


def test_without_a_running_local_stack_it_says_so_in_one_line(tmp_path: Path) -> None:
    done = smoke({**os.environ, "LOCAL_STATE_DIR": str(tmp_path)}, "--stage", "local")

    assert done.returncode == 2
    assert done.stderr == "error: the local stack is not running: start it with `make run`\n"
