"""`make deploy` and `make destroy` run whole against moto, then read back through each service.

The real code path: `python -m infra.deploy` → the AWS CLI and Zappa, with AWS_ENDPOINT_URL
at a moto server (tests/infra/moto_server.py) on a free port and dummy credentials.

What moto cannot stand in for, plainly:
- keys, data and analytics deploy from their real templates. identity, network,
  orchestration, api and monitoring cannot (deploy_moto.MOTO_CANNOT says why); each is a
  stand-in stack with the real stack's name, Parameters and exports. Behind those exports:
  the user pool is made in cognito-local from identity.yaml's own properties (password policy,
  e-mail usernames, the client's auth flows, the admin group); the VPC, subnets and security
  group through moto's EC2 API; the cursor secret in moto's Secrets Manager and the web ACL in
  moto's WAFv2 API; the API role, artifacts bucket, alarm topic and dashboard by moto's
  CloudFormation. MWAA does not exist in moto: its webserver URL is a placeholder.
- Where moto's CloudFormation says CREATE_COMPLETE it creates nothing for Glue tables, bucket
  policies or Athena; and it ignores PITR, deletion protection and KMS key deletion windows.
- Zappa's final "touch" GET is off (--no-touch): moto's API Gateway URL is not served.
- The round trip runs the Flask app in-process against moto's DynamoDB (the tables the data
  stack created) and cognito-local, not through API Gateway and Lambda (moto would need Docker
  to invoke the function). tests/package drives the zip itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.config import Settings
from infra.cfn import load_template
from infra.deploy import plan, stacks, zappa_settings
from infra.local.stack import confirmation_code
from tests.harness import serving
from tests.infra.deploy_moto import (
    ACCOUNT,
    PASSWORD,
    REGION,
    ROOT,
    aws_environment,
    client,
    deploy_cli,
    deploy_engines,
    stage_templates,
    user_pool_from_identity_template,
)
from tests.infra.mwaa_stand_in import mwaa_stand_in

REQUIREMENTS = ROOT / "dags" / "requirements.txt"


def network(moto_url: str) -> dict[str, str]:
    ec2 = client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24")["Subnet"]["SubnetId"]
        for i in (1, 2)
    ]
    group = ec2.create_security_group(GroupName="mwaa", Description="mwaa", VpcId=vpc)["GroupId"]
    return {
        "vpc-id": vpc,
        "private-subnet-ids": ",".join(subnets),
        "mwaa-security-group-id": group,
    }


class Stage:
    """The deployed stage: moto, cognito-local, the templates used, and the first deploy."""

    def __init__(
        self, moto_url: str, cognito_url: str, cognito_state: Path, templates: Path
    ) -> None:
        self.moto_url, self.cognito_url, self.templates = moto_url, cognito_url, templates
        self.cognito_state = cognito_state
        self.environment = aws_environment(moto_url)
        # dev's default: no network, no MWAA, no DAG upload (ADR 0007).
        self.first = deploy_cli(self.environment, *self.deploy_args(orchestration=None))

    def deploy_args(self, orchestration: str | None = "on") -> list[str]:
        """A deploy of dev; after the first, with orchestration on, as staging and prod run."""
        switch = ["--orchestration", orchestration] if orchestration else []
        return [
            "deploy", "--stage", "dev", "--no-touch", "--no-preflight",
            "--templates", str(self.templates), *switch,
        ]  # fmt: skip

    def stacks(self) -> list[dict[str, Any]]:
        """The stage's stacks, oldest first."""
        described = client("cloudformation", self.moto_url).describe_stacks()["Stacks"]
        ours = [s for s in described if s["StackName"].startswith("tasklake-dev-")]
        return sorted(ours, key=lambda s: s["CreationTime"])

    def exports(self) -> dict[str, str]:
        found = client("cloudformation", self.moto_url).list_exports()["Exports"]
        return {e["Name"].removeprefix("tasklake-dev-"): e.get("Value", "") for e in found}

    def orchestration_parameters(self) -> dict[str, str]:
        """What the last deploy passed the orchestration stack."""
        described = client("cloudformation", self.moto_url).describe_stacks(
            StackName="tasklake-dev-orchestration"
        )["Stacks"][0]
        return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}

    def requirements_versions(self) -> list[tuple[str, str]]:
        """(key, version id) of every requirements object in the MWAA bucket."""
        s3 = client("s3", self.moto_url)
        listed = s3.list_object_versions(
            Bucket=self.exports()["mwaa-source-bucket"], Prefix="requirements"
        )
        return sorted((v["Key"], v["VersionId"]) for v in listed.get("Versions", []))


def content_key(requirements: Path) -> str:
    """requirements/<the first 16 hex digits of the file's SHA-256>.txt"""
    return f"requirements/{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}.txt"


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    workdir = tmp_path_factory.mktemp("deploy-moto")
    with deploy_engines(workdir) as (moto_url, cognito_url):
        templates = stage_templates(
            workdir / "templates",
            moto_url,
            user_pool_from_identity_template(cognito_url),
            network=network(moto_url),
            orchestration={
                "mwaa-environment-name": "tasklake-dev",
                "mwaa-webserver-url": "https://mwaa-is-not-in-moto.invalid",
                "mwaa-execution-role-arn": f"arn:aws:iam::{ACCOUNT}:role/tasklake-dev-mwaa",
            },
        )
        yield Stage(moto_url, cognito_url, workdir / "cognito", templates)


def test_the_first_deploy_runs_every_step_and_prints_the_urls(stage: Stage) -> None:
    assert stage.first.returncode == 0, stage.first.stdout[-3000:] + stage.first.stderr
    out = stage.first.stdout
    assert "first deploy: create the function" in out
    rest_api = client("apigateway", stage.moto_url).get_rest_apis()["items"]
    api_id = next(api["id"] for api in rest_api if api["name"] == "tasklake-dev")
    assert f"API:        https://{api_id}.execute-api.{REGION}.amazonaws.com/dev" in out
    assert f"Airflow UI: {plan.NO_AIRFLOW}" in out
    assert f"region={REGION}#dashboards/dashboard/tasklake-dev" in out


def test_dev_deploys_without_network_mwaa_or_the_dag(stage: Stage) -> None:
    created = [s["StackName"] for s in stage.stacks()]
    assert created == [
        f"tasklake-dev-{p}" for p in stacks.PARTS if p not in stacks.ORCHESTRATION_PARTS
    ]
    s3 = client("s3", stage.moto_url)
    assert "Contents" not in s3.list_objects_v2(Bucket=stage.exports()["mwaa-source-bucket"])
    described = client("cloudformation", stage.moto_url).describe_stacks(
        StackName="tasklake-dev-monitoring"
    )["Stacks"][0]
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert passed["Orchestration"] == "off"


def test_orchestration_on_adds_network_mwaa_and_the_dag(stage: Stage) -> None:
    done = deploy_cli(stage.environment, *stage.deploy_args())

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "Airflow UI: https://mwaa-is-not-in-moto.invalid" in done.stdout
    added = [s["StackName"] for s in stage.stacks()][-2:]
    assert added == [f"tasklake-dev-{p}" for p in stacks.ORCHESTRATION_PARTS]


def test_every_stack_exists_and_is_tagged(stage: Stage) -> None:
    ours = stage.stacks()
    assert sorted(s["StackName"] for s in ours) == sorted(f"tasklake-dev-{p}" for p in stacks.PARTS)
    assert {s["StackStatus"] for s in ours} <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    assert all({"Key": "CostCenter", "Value": "tasklake-dev"} in s["Tags"] for s in ours)


def test_the_tables_have_the_keys_indexes_and_ttl_of_data_yaml(stage: Stage) -> None:
    dynamodb = client("dynamodb", stage.moto_url)
    template = load_template(ROOT / "infra" / "data.yaml")
    exports = stage.exports()
    for logical_id, export in [
        ("TasksTable", "tasks-table"), ("UsersTable", "users-table"),
        ("IdempotencyTable", "idempotency-table"), ("RevokedTokensTable", "revoked-tokens-table"),
        ("RateLimitsTable", "rate-limits-table"),
    ]:  # fmt: skip
        wanted = template["Resources"][logical_id]["Properties"]
        table = dynamodb.describe_table(TableName=exports[export])["Table"]
        assert table["KeySchema"] == wanted["KeySchema"]
        indexes = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == {
            i["IndexName"]: i["KeySchema"] for i in wanted.get("GlobalSecondaryIndexes", [])
        }
        ttl = dynamodb.describe_time_to_live(TableName=exports[export])["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in wanted:
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == wanted["TimeToLiveSpecification"]["AttributeName"]


def test_the_buckets_are_encrypted_private_and_versioned(stage: Stage) -> None:
    s3 = client("s3", stage.moto_url)
    exports = stage.exports()
    for export in ("lake-bucket", "mwaa-source-bucket", "access-log-bucket"):
        bucket = exports[export]
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()), (bucket, block)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert exports["mwaa-source-bucket"] == f"airflow-tasklake-dev-{ACCOUNT}"


def test_the_key_rotates_and_has_the_stage_alias(stage: Stage) -> None:
    kms = client("kms", stage.moto_url)
    key = stage.exports()["kms-key-id"]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    aliases = kms.list_aliases(KeyId=key)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/tasklake-dev"]


def test_the_mwaa_bucket_holds_the_dag_etl_and_the_pinned_requirements(stage: Stage) -> None:
    s3 = client("s3", stage.moto_url)
    bucket = stage.exports()["mwaa-source-bucket"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {"dags/tasks_daily.py", "dags/lake_erasure.py", "dags/.airflowignore"} <= keys
    assert "dags/constraints-3.3.1.txt" in keys
    assert "dags/etl/publish.py" in keys
    assert not any("__pycache__" in key for key in keys)
    requirements = content_key(REQUIREMENTS)
    assert requirements in keys
    uploaded = s3.get_object(Bucket=bucket, Key=requirements)
    assert uploaded["Body"].read() == REQUIREMENTS.read_bytes()
    passed = stage.orchestration_parameters()
    assert passed["RequirementsS3Path"] == requirements
    assert passed["RequirementsS3ObjectVersion"] == uploaded["VersionId"]


def test_zappa_deployed_the_function_with_the_stacks_values(stage: Stage) -> None:
    exports = stage.exports()
    function = client("lambda", stage.moto_url).get_function(FunctionName="tasklake-dev")
    config = function["Configuration"]
    assert config["Role"] == exports["api-role-arn"]
    assert config["KMSKeyArn"] == exports["kms-key-arn"]
    variables = config["Environment"]["Variables"]
    assert variables["TASKS_TABLE"] == exports["tasks-table"] == "tasklake-dev-tasks"
    assert variables["RATE_LIMITS_TABLE"] == exports["rate-limits-table"]
    assert variables["COGNITO_USER_POOL_ID"] == exports["user-pool-id"]
    assert variables["COGNITO_CLIENT_ID"] == exports["user-pool-client-id"]
    assert variables["CURSOR_SECRET_ARN"] == exports["cursor-secret-arn"]
    assert "CURSOR_SECRET" not in variables
    assert function["Tags"]["CostCenter"] == "tasklake-dev"
    gateway = client("apigateway", stage.moto_url)
    api_id = next(a["id"] for a in gateway.get_rest_apis()["items"] if a["name"] == "tasklake-dev")
    deployed = gateway.get_stage(restApiId=api_id, stageName="dev")
    limits = deployed["methodSettings"]["*/*"]
    assert (limits["throttlingRateLimit"], limits["throttlingBurstLimit"]) == (20.0, 40)
    assert deployed["webAclArn"] == exports["web-acl-arn"]
    account = gateway.get_account()
    assert account["cloudwatchRoleArn"] == exports["api-gateway-logs-role-arn"]


def test_a_second_deploy_reports_no_changes(stage: Stage) -> None:
    before = stage.requirements_versions()
    again = deploy_cli(stage.environment, *stage.deploy_args())
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    for part in stacks.PARTS:
        assert f"No changes to deploy. Stack tasklake-dev-{part} is up to date" in again.stdout
    assert "update the function's code and settings" in again.stdout
    assert stage.requirements_versions() == before


@pytest.fixture
def requirements_restored() -> Iterator[Path]:
    """dags/requirements.txt as it was (bytes and mtime) after the test, whatever it did."""
    content, status = REQUIREMENTS.read_bytes(), REQUIREMENTS.stat()
    yield REQUIREMENTS
    REQUIREMENTS.write_bytes(content)
    os.utime(REQUIREMENTS, ns=(status.st_atime_ns, status.st_mtime_ns))


def test_a_fresh_clone_passes_the_same_requirements_key_and_version(
    stage: Stage, requirements_restored: Path
) -> None:
    """A clone gives every file the clone's time; that alone must not update MWAA."""
    before = stage.orchestration_parameters(), stage.requirements_versions()
    os.utime(requirements_restored)  # mtime now, newer than the uploaded object

    again = deploy_cli(stage.environment, *stage.deploy_args())

    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    assert (stage.orchestration_parameters(), stage.requirements_versions()) == before
    assert "No changes to deploy. Stack tasklake-dev-orchestration is up to date" in again.stdout


def test_an_edited_requirements_file_goes_to_a_new_key(
    stage: Stage, requirements_restored: Path
) -> None:
    """A same-size edit (a version bump) still counts: the key follows the content, not the size."""
    before = stage.requirements_versions()
    text = requirements_restored.read_text()
    assert "==9.34.0" in text
    requirements_restored.write_text(text.replace("==9.34.0", "==9.35.0"))
    key = content_key(requirements_restored)

    again = deploy_cli(stage.environment, *stage.deploy_args())

    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    s3 = client("s3", stage.moto_url)
    uploaded = s3.get_object(Bucket=stage.exports()["mwaa-source-bucket"], Key=key)
    assert uploaded["Body"].read() == requirements_restored.read_bytes()
    passed = stage.orchestration_parameters()
    assert (passed["RequirementsS3Path"], passed["RequirementsS3ObjectVersion"]) == (
        key,
        uploaded["VersionId"],
    )
    # The old key and its version stay as they were: a rollback deploys the old file again.
    assert stage.requirements_versions() == sorted([*before, (key, uploaded["VersionId"])])


@pytest.fixture
def fresh_cognito_client() -> Iterator[None]:
    """The API keeps one Cognito client per region for the process (api/auth/identity.py):
    one an earlier test made would still reach that test's emulator, not these stand-ins."""
    cognito_client.cache_clear()
    yield
    cognito_client.cache_clear()


def deployed_api_environment(stage: Stage) -> dict[str, str]:
    """The function's environment as the deploy derives it, its AWS endpoints on the stand-ins."""
    exports = stage.exports()
    settings = zappa_settings.derive("dev", REGION, exports, stacks.tags("dev"), touch=False)
    environment = dict(settings["aws_environment_variables"])
    environment.update(
        AWS_ENDPOINT_URL_DYNAMODB=stage.moto_url,
        AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=stage.cognito_url,
        COGNITO_ISSUER=f"{stage.cognito_url}/{exports['user-pool-id']}",
        AWS_ACCESS_KEY_ID="moto",
        AWS_SECRET_ACCESS_KEY="moto",
        AWS_DEFAULT_REGION=REGION,
        # The cursor key is read through CURSOR_SECRET_ARN, from the secret the api stack's
        # stand-in created in moto's Secrets Manager.
        AWS_ENDPOINT_URL_SECRETS_MANAGER=stage.moto_url,
    )
    return environment


@pytest.mark.usefixtures("fresh_cognito_client")
def test_the_api_serves_a_round_trip_with_the_settings_the_deploy_derives(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = stage.exports()
    environment = deployed_api_environment(stage)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app(Settings.from_env()).test_client()
    email = f"deploy-{time.time_ns()}@example.com"
    signed_up = app.post("/users", json={"email": email, "password": PASSWORD, "name": "Dee"})
    assert signed_up.status_code == 201, signed_up.get_data(True)
    # The AWS stages require a verified address; cognito-local keeps the emailed code.
    assert environment["REQUIRE_EMAIL_VERIFICATION"] == "true"
    code = confirmation_code(stage.cognito_state, exports["user-pool-id"], email)
    confirmed = app.post("/users/confirm", json={"email": email, "code": code})
    assert confirmed.status_code == 204, confirmed.get_data(True)
    token = app.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.get_data(True)
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}  # type: ignore[index]
    created = app.post("/tasks", json={"title": "ship the stage"}, headers=headers)
    assert created.status_code == 201, created.get_data(True)
    listed = app.get("/tasks", headers=headers)
    assert listed.status_code == 200
    assert [t["title"] for t in json.loads(listed.get_data(True))["items"]] == ["ship the stage"]
    stored = client("dynamodb", stage.moto_url).scan(TableName=exports["tasks-table"])
    assert stored["Count"] == 1


@pytest.mark.usefixtures("fresh_cognito_client")
def test_make_smoke_checks_the_deployed_stage(
    stage: Stage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make smoke` finds the stage from what `make deploy` left in moto's CloudFormation.

    Stand-ins, as moto cannot be them: the API is served here with the derived settings (moto
    does not run the Lambda), and MWAA's CLI endpoint is tests/infra/mwaa_stand_in.py. moto's
    CloudFormation creates no Athena workgroup or Glue database and exports them without a
    value, so the query check must fail by naming the missing export (a real query runs
    against a stand-in workgroup in tests/infra/test_smoke.py).
    """
    exports = stage.exports()
    for name, value in deployed_api_environment(stage).items():
        monkeypatch.setenv(name, value)
    mwaa_name = exports.get("mwaa-environment-name")
    with (
        serving(create_app(Settings.from_env())) as api_url,
        mwaa_stand_in(tmp_path, mwaa_name or "none") as mwaa,
    ):
        environment = {
            **stage.environment,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": stage.cognito_url,
            "AWS_ENDPOINT_URL_MWAA": mwaa.url,
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "AWS_CA_BUNDLE": str(mwaa.certificate),
            "REQUESTS_CA_BUNDLE": str(mwaa.certificate),
        }
        command = [sys.executable, "-m", "infra.smoke", "--stage", "dev", "--api-url", api_url]
        done = subprocess.run(
            command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip

    checks = [line.split(maxsplit=2) for line in done.stdout.splitlines()[1:]]
    statuses = {check: status for status, check, _ in checks}
    details = {check: detail for _, check, detail in checks}
    api_steps = ["signup", "confirm", "token", "create-task", "list-tasks", "delete-task"]
    assert [statuses.get(step) for step in [*api_steps, "delete-user"]] == ["ok"] * 7, done.stdout
    assert (statuses["dashboard"], statuses["alarms"]) == ("ok", "ok")
    # After the module's switch to orchestration on, moto exports an MWAA environment and the
    # run goes to the stand-in; without one (dev's default) the smoke says `off`.
    assert statuses["dag-run"] == ("ok" if mwaa_name else "off"), done.stdout
    assert statuses["query"] == "FAIL"
    assert "exports no athena-workgroup" in details["query"], details["query"]
    assert done.returncode == 1


def test_a_function_without_its_api_stack_is_undeployed_then_deployed_whole(
    stage: Stage,
) -> None:
    # As a first deploy leaves it when Lambda refuses the reservation after create_function:
    # the function exists, Zappa's own stack (the REST API) does not.
    cloudformation = client("cloudformation", stage.moto_url)
    cloudformation.delete_stack(StackName="tasklake-dev")
    left = cloudformation.describe_stacks()["Stacks"]
    assert "tasklake-dev" not in {s["StackName"] for s in left}
    assert client("lambda", stage.moto_url).get_function(FunctionName="tasklake-dev")

    again = deploy_cli(stage.environment, *stage.deploy_args())

    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    out = again.stdout
    assert out.index("api-stack-exists: no") < out.index("zappa undeploy dev")
    assert out.index("zappa undeploy dev") < out.index("first deploy: create the function")
    assert "update the function's code and settings" not in out
    described = cloudformation.describe_stacks(StackName="tasklake-dev")["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    apis = client("apigateway", stage.moto_url).get_rest_apis()["items"]
    api_id = next(api["id"] for api in apis if api["name"] == "tasklake-dev")
    assert f"API:        https://{api_id}.execute-api.{REGION}.amazonaws.com/dev" in out


def test_destroy_without_the_stage_name_deletes_nothing(stage: Stage) -> None:
    refused = deploy_cli(stage.environment, "destroy", "--stage", "dev", "--templates",
                         str(stage.templates), stdin="prod\n")  # fmt: skip
    assert refused.returncode == 1
    assert "aborted: nothing was deleted" in refused.stderr
    described = client("cloudformation", stage.moto_url).describe_stacks()["Stacks"]
    assert len([s for s in described if s["StackName"].startswith("tasklake-dev-")]) == 8


def test_destroy_empties_buckets_and_deletes_in_reverse_keeping_the_data(stage: Stage) -> None:
    artifacts = stage.exports()["artifacts-bucket"]
    s3 = client("s3", stage.moto_url)
    s3.put_object(Bucket=artifacts, Key="old.zip", Body=b"1")
    s3.put_object(Bucket=artifacts, Key="old.zip", Body=b"2")  # a second version
    done = deploy_cli(stage.environment, "destroy", "--stage", "dev", "--force", "--templates",
                      str(stage.templates))  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    deleted = [line.split("delete stack ")[1] for line in done.stdout.splitlines()
               if line.startswith("==> ") and "delete stack " in line]  # fmt: skip
    assert deleted == [f"tasklake-dev-{part}" for part in reversed(stacks.PARTS)]
    assert done.stdout.index("zappa undeploy") < done.stdout.index("empty the bucket")
    assert done.stdout.index("empty the bucket") < done.stdout.index(
        "delete stack tasklake-dev-api"
    )
    left = client("cloudformation", stage.moto_url).describe_stacks()["Stacks"]
    assert not [s for s in left if s["StackName"].startswith("tasklake-dev-")]
    assert artifacts not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not client("lambda", stage.moto_url).list_functions()["Functions"]
    # Retained: the tables, and the commands that remove them too.
    tables = client("dynamodb", stage.moto_url).list_tables()["TableNames"]
    assert "tasklake-dev-tasks" in tables
    assert "$ aws dynamodb delete-table --table-name tasklake-dev-tasks" in done.stdout
    kept = done.stdout.split("Kept on purpose")[1]
    assert "aws glue delete-database --name" in kept
    # moto lists the analytics stack's resources as None (its Glue and bucket-policy
    # resources are not modelled), so there the names stay placeholders; AWS fills them in.
    assert "empty-bucket <from tasklake-dev-analytics: LakeBucket>" in kept
