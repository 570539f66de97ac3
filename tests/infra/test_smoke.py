"""`make smoke`: the post-deploy check, run as an operator runs it, against real engines.

- `local`: the stack `make run` serves (DynamoDB Local, cognito-local, moto, the API), started
  as `make run` starts it, with a lake the ETL's transform wrote, queried by DuckDB.
- a deployed stage: its stacks, in moto's CloudFormation under their real names, export what
  the real templates export (the values of the parts the smoke reads); behind them the real
  API (served from this process) on DynamoDB Local and cognito-local with e-mail verification
  on, the real dashboard body in moto's CloudWatch, moto's alarms and Athena. moto records an
  Athena query and answers SUCCEEDED with 0 bytes scanned without running it: the test checks
  the SQL and workgroup it was given, not a result. MWAA exists in no local engine: its CLI
  endpoints are a stand-in (tests/infra/mwaa_stand_in.py) that checks the token and answers
  as MWAA does. A whole `make deploy` on moto (tests/infra/test_deploy_moto.py) takes minutes
  and has no Athena workgroup or alarms to read, so this test builds only the exports instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
import requests

from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.config import Settings
from etl.dynamodb_export import find_export_files
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.publish import PartitionFolder, point_partition
from etl.synthetic import generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from infra.cfn import load_template
from infra.deploy.stacks import PROJECT, export_name, stack_name
from infra.local.analytics_catalog import create_analytics_catalog
from infra.local.services import free_port, start_moto
from infra.smoke.__main__ import main as smoke_main
from infra.smoke.lake_query import named_queries
from infra.smoke.target import READS, alarm_prefix
from tests.harness import serving
from tests.infra.deploy_moto import REGION, ROOT, aws_environment, offline_environment
from tests.infra.in_process import run_main
from tests.infra.monitoring_template import dashboard
from tests.infra.mwaa_stand_in import MwaaStandIn, mwaa_stand_in
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
        export, users = self.state / "export", self.state / "users-export"
        generated = list(generate_tasks(tasks, SNAPSHOT))
        write_export((to_dynamodb_item(t) for t in generated), export)
        owners = sorted({task.user_id for task in generated})
        write_export(({"user_id": {"S": u}, "kind": {"S": "user"}} for u in owners), users)
        transform_export(
            find_export_files(export),
            self.state / "lake",
            SNAPSHOT,
            users_files=find_export_files(users),
        )
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
    assert found["latest"][0] == "ok"
    assert f"tag_daily_stats_latest={SNAPSHOT} ({tags.num_rows} rows)" in found["latest"][1]
    # The lake's first day: no earlier day to compare with, so no changes, and that is right.
    assert f"task_changes_latest={SNAPSHOT} (0 rows)" in found["latest"][1]
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
    # No `make etl` yet: said, not failed on a view DuckDB does not have.
    assert found["query"][0] == found["latest"][0] == "off"
    assert "no published day yet" in found["query"][1]
    assert "no published day yet" in found["latest"][1]


def test_without_aws_credentials_it_says_so_in_one_line() -> None:
    environment = offline_environment(f"http://127.0.0.1:{free_port()}")

    # It stops before any check: the smoke's main runs in this process (tests/infra/in_process.py).
    done = run_main(smoke_main, ["--stage", "dev"], environment)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: no AWS credentials")
    assert len(done.stderr.strip().splitlines()) == 1


def test_without_a_running_local_stack_it_says_so_in_one_line(tmp_path: Path) -> None:
    done = smoke({**os.environ, "LOCAL_STATE_DIR": str(tmp_path)}, "--stage", "local")

    assert done.returncode == 2
    assert done.stderr == "error: the local stack is not running: start it with `make run`\n"


STAGE = "dev"
ALARMS = ("api-5xx-rate", "lambda-throttles")


def exporting(values: dict[str, str], resources: dict[str, Any] | None = None) -> str:
    """A stack template that exports `values` under the stage's contract names."""
    outputs = {
        name.replace("-", ""): {"Value": value, "Export": {"Name": export_name(STAGE, name)}}
        for name, value in values.items()
    }
    placeholder = {
        "Placeholder": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": "stand-in", "Name": f"/smoke/{min(values)}"},
        }
    }
    return json.dumps({"Resources": resources or placeholder, "Outputs": outputs})


class DeployedStage:
    """The stage's exports in moto, its API served against the engines, MWAA's stand-in."""

    def __init__(self, moto_url: str, engines: dict[str, str], api_url: str, mwaa: MwaaStandIn):
        self.moto_url, self.api_url, self.mwaa = moto_url, api_url, mwaa
        self.environment = {
            **aws_environment(moto_url),
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": engines[
                "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"
            ],
            "AWS_ENDPOINT_URL_MWAA": mwaa.url,
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "AWS_CA_BUNDLE": str(mwaa.certificate),
            "REQUESTS_CA_BUNDLE": str(mwaa.certificate),
        }
        self.stacks: dict[str, str] = {
            "identity": exporting({"user-pool-id": engines["COGNITO_USER_POOL_ID"]}),
            "analytics": exporting(
                {"athena-workgroup": "tasklake-dev", "glue-database": "tasklake_dev"}
            ),
            "orchestration": exporting({"mwaa-environment-name": mwaa.environment}),
        }

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.moto_url, region_name=REGION,
            aws_access_key_id="moto", aws_secret_access_key="moto",
        )  # fmt: skip

    def deploy(self, part: str) -> None:
        self.client("cloudformation").create_stack(
            StackName=stack_name(STAGE, part), TemplateBody=self.stacks[part]
        )

    def smoke(self) -> subprocess.CompletedProcess[str]:
        return smoke(self.environment, "--stage", STAGE, "--api-url", self.api_url)


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, engines: dict[str, str]
) -> Iterator[DeployedStage]:
    workdir = tmp_path_factory.mktemp("smoke-deployed")
    moto = start_moto(free_port(), workdir / "moto.log", server_module="tests.infra.moto_server")
    # The API keeps one Cognito client per region for the process (api/auth/identity.py).
    cognito_client.cache_clear()
    settings = replace(Settings.from_env(), require_email_verification=True)
    try:
        with (
            serving(create_app(settings)) as api_url,
            mwaa_stand_in(workdir, "tasklake-dev") as mwaa,
        ):
            stage = DeployedStage(moto.url, engines, api_url, mwaa)
            for part in ("identity", "analytics", "orchestration"):
                stage.deploy(part)
            body = json.dumps(dashboard())
            stage.client("cloudwatch").put_dashboard(
                DashboardName="tasklake-dev", DashboardBody=body
            )
            stage.stacks["monitoring"] = exporting({"dashboard-name": "tasklake-dev"})
            stage.deploy("monitoring")
            for alarm in ALARMS:
                stage.client("cloudwatch").put_metric_alarm(
                    AlarmName=f"tasklake-dev-{alarm}", MetricName="Errors", Namespace="tasklake",
                    Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                    ComparisonOperator="GreaterThanThreshold",
                )  # fmt: skip
            # Another stage's alarm, firing: not this stage's business.
            stage.client("cloudwatch").put_metric_alarm(
                AlarmName="tasklake-prod-api-5xx-rate", MetricName="Errors", Namespace="tasklake",
                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                ComparisonOperator="GreaterThanThreshold",
            )  # fmt: skip
            stage.client("cloudwatch").set_alarm_state(
                AlarmName="tasklake-prod-api-5xx-rate", StateValue="ALARM", StateReason="prod"
            )
            stage.client("athena").create_work_group(Name="tasklake-dev")
            # The analytics stack's catalog, before the stage's first run publishes a day.
            create_analytics_catalog(
                stage.client("s3"),
                stage.client("glue"),
                {"Environment": "dev", "LakeBucketName": "tasklake-dev-lake"},
            )
            yield stage
    finally:
        cognito_client.cache_clear()
        moto.stop()


def test_a_deployed_stage_passes_every_check(deployed: DeployedStage) -> None:
    done = deployed.smoke()

    assert done.returncode == 0, done.stdout + done.stderr
    found = lines(done.stdout)
    # A new stage: the catalog exists, no run has published a day yet.
    status, detail = found.pop("latest")
    assert (status, "no published day yet" in detail) == ("off", True)
    assert {status for status, _ in found.values()} == {"ok"}
    assert "AdminConfirmSignUp" in found["confirm"][1]
    assert found["dashboard"][1] == f"tasklake-dev: {len(dashboard()['widgets'])} widgets"
    assert found["alarms"][1].startswith("2 alarms tasklake-dev-*")
    assert found["alarms"][1].endswith("none in ALARM")
    command = deployed.mwaa.commands[-1].split()
    assert command[:4] == ["dags", "trigger", "tasks_daily", "--run-id"]
    # Airflow 3 gives a run without a logical date no data interval: the DAG could not run it.
    logical_date = datetime.fromisoformat(command[command.index("--logical-date") + 1])
    assert command[4] == f"smoke__{logical_date:%Y%m%dT%H%M%SZ}"
    the_day_before = logical_date.date() - timedelta(days=1)
    assert found["dag-run"][1] == (
        f"tasks_daily run {command[4]} for {the_day_before} queued on tasklake-dev"
    )
    athena = deployed.client("athena")
    query_id = found["query"][1].rsplit("(", 1)[1].rstrip(")")
    assert query_id in athena.list_query_executions(WorkGroup="tasklake-dev")["QueryExecutionIds"]
    recorded = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert recorded["Query"] == named_queries()["tag_popularity"]
    assert recorded["QueryExecutionContext"]["Database"] == "tasklake_dev"
    assert found["query"][1].startswith(
        "tag_popularity in Athena workgroup tasklake-dev: SUCCEEDED, 0 bytes scanned"
    )


def test_an_alarm_in_alarm_fails_the_smoke_by_name(deployed: DeployedStage) -> None:
    cloudwatch = deployed.client("cloudwatch")
    firing = "tasklake-dev-lambda-throttles"
    cloudwatch.set_alarm_state(AlarmName=firing, StateValue="ALARM", StateReason="smoke test")
    try:
        done = deployed.smoke()
    finally:
        cloudwatch.set_alarm_state(AlarmName=firing, StateValue="OK", StateReason="smoke test")

    assert done.returncode == 1
    status, detail = lines(done.stdout)["alarms"]
    assert status == "FAIL"
    assert detail.startswith(f"in ALARM: {firing};")


def test_a_stage_without_orchestration_reports_it_off(deployed: DeployedStage) -> None:
    cloudformation = deployed.client("cloudformation")
    cloudformation.delete_stack(StackName=stack_name(STAGE, "orchestration"))
    commands = len(deployed.mwaa.commands)
    try:
        done = deployed.smoke()
    finally:
        deployed.deploy("orchestration")

    assert done.returncode == 0, done.stdout + done.stderr
    status, detail = lines(done.stdout)["dag-run"]
    assert (status, detail) == (
        "off",
        "orchestration is off for dev: tasklake-dev-orchestration exports no mwaa-environment-name",
    )
    assert len(deployed.mwaa.commands) == commands


def test_a_query_still_running_at_the_bound_is_stopped_and_fails(deployed: DeployedStage) -> None:
    """moto's state manager holds the query where it is (QUEUED), as a busy Athena would."""
    manager = f"{deployed.moto_url}/moto-api/state-manager"
    hold = {
        "model_name": "athena::execution",
        "transition": {"progression": "manual", "times": 1000},
    }
    requests.post(f"{manager}/set-transition", json=hold, timeout=10).raise_for_status()
    try:
        done = smoke(deployed.environment, "--stage", STAGE, "--api-url", deployed.api_url,
                     "--query", "overdue_per_user", "--query-timeout", "2")  # fmt: skip
    finally:
        unhold = {"model_name": "athena::execution"}
        requests.post(f"{manager}/unset-transition", json=unhold, timeout=10).raise_for_status()

    assert done.returncode == 1
    status, detail = lines(done.stdout)["query"]
    assert status == "FAIL"
    assert detail.startswith(
        "overdue_per_user in Athena workgroup tasklake-dev: QUEUED, still QUEUED after 2 s, stopped"
    )
    query_id = detail.split("stopped (")[1].rstrip(")")
    stopped = deployed.client("athena").get_query_execution(QueryExecutionId=query_id)
    assert stopped["QueryExecution"]["Status"]["State"] == "CANCELLED"


def test_a_user_it_cannot_sign_in_is_named_as_left_behind(deployed: DeployedStage) -> None:
    """The identity stack exports a pool the API does not use: confirming fails after sign-up."""
    cloudformation = deployed.client("cloudformation")
    identity = stack_name(STAGE, "identity")
    cloudformation.delete_stack(StackName=identity)
    cloudformation.create_stack(
        StackName=identity, TemplateBody=exporting({"user-pool-id": "us-east-1_nothere"})
    )
    try:
        done = deployed.smoke()
    finally:
        cloudformation.delete_stack(StackName=identity)
        deployed.deploy("identity")

    assert done.returncode == 1
    found = lines(done.stdout)
    assert found["signup"][0] == "ok"
    email = found["signup"][1].split()[0]
    assert found["confirm"][0] == "FAIL"
    assert found["confirm"][1].startswith("AdminConfirmSignUp:")
    assert "token" not in found
    assert found["delete-user"] == ("FAIL", f"not signed in: {email} is left behind")


def test_what_the_smoke_reads_is_what_the_templates_export() -> None:
    """Each export it reads is an Output of its stack's template; each alarm has its prefix."""
    for export in READS:
        outputs = load_template(ROOT / "infra" / f"{export.part}.yaml")["Outputs"].values()
        names = {o["Export"]["Name"].value for o in outputs if "Export" in o}
        assert "${Project}-${Environment}-" + export.name in names, export
    resources = load_template(ROOT / "infra" / "monitoring.yaml")["Resources"].values()
    alarms = [r["Properties"]["AlarmName"].value for r in resources if "Alarm" in r["Type"]]
    assert alarms
    prefix = alarm_prefix("${Environment}").replace(PROJECT, "${Project}")
    assert all(name.startswith(prefix) for name in alarms), alarms


def test_a_latest_table_behind_the_newest_day_fails_the_smoke(deployed: DeployedStage) -> None:
    """A publish whose `_latest` repoint never happened: the catalog's newest day is not served.

    Runs last: it publishes a day into the module's stage.
    """
    glue = deployed.client("glue")
    location = "s3://tasklake-dev-lake/tasks/year=2026/month=11/day=30/run=x/"
    point_partition(glue, "tasklake_dev", PartitionFolder("tasks", "2026-11-30", location, [], 0))

    done = deployed.smoke()

    assert done.returncode == 1
    status, detail = lines(done.stdout)["latest"]
    assert status == "FAIL"
    assert "tasks_latest: not on the newest day 2026-11-30" in detail
