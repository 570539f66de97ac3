"""A stage deployed in a second region serves a round trip from the packaged handler.

`make deploy` runs against moto with AWS_REGION=eu-west-1 (the same stand-ins as
tests/infra/test_deploy_moto.py: keys, data and analytics from their templates, the other
stacks as stand-ins). Then the zip `make package` built runs as the Lambda Python runtime
would run it in eu-west-1 (infra/package/runtime.py): Lambda's own variables for that region,
plus the variables the deploy gave the function, read back from moto's Lambda. moto keeps each
region apart, so the round trip works only if the handler reaches DynamoDB, Secrets Manager
and Cognito in the function's region, whatever region the zip was built for.

Stand-ins, as in test_deploy_moto.py: cognito-local (which has no regions) for Cognito, and the
handler process for API Gateway and Lambda (moto would need Docker to invoke the function).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.deploy.plan import package_file
from infra.local.stack import confirmation_code
from infra.package import runtime
from infra.package.runtime import LambdaProcess
from tests.infra.deploy_moto import (
    PASSWORD,
    ROOT,
    aws_environment,
    client,
    deploy_cli,
    deploy_engines,
    stage_templates,
    user_pool_from_identity_template,
)

REGION = "eu-west-1"
BUILT_FOR = "us-east-1"  # zappa_settings.json's aws_region, which `make package` builds with
FUNCTION = "tasklake-dev"


class SecondRegionStage:
    """The dev stage deployed on moto in REGION, and the deploy's output."""

    def __init__(self, workdir: Path, moto_url: str, cognito_url: str) -> None:
        self.moto_url, self.cognito_url = moto_url, cognito_url
        self.cognito_state = workdir / "cognito"
        pool = user_pool_from_identity_template(cognito_url, REGION)
        self.pool_id = pool["user-pool-id"]
        # dev's default deploys no network and no MWAA: their stand-ins only need to exist.
        network = ("vpc-id", "private-subnet-ids", "mwaa-security-group-id")
        mwaa = ("mwaa-environment-name", "mwaa-webserver-url", "mwaa-execution-role-arn")
        templates = stage_templates(
            workdir / "templates",
            moto_url,
            pool,
            network=dict.fromkeys(network, "not-deployed-on-dev"),
            orchestration=dict.fromkeys(mwaa, "not-deployed-on-dev"),
            region=REGION,
        )
        self.deployed = deploy_cli(
            aws_environment(moto_url, REGION),
            "deploy", "--stage", "dev", "--no-touch", "--no-preflight",
            "--templates", str(templates),
        )  # fmt: skip

    def aws(self, service: str, region: str = REGION) -> Any:
        return client(service, self.moto_url, region)

    def function_variables(self) -> dict[str, str]:
        configuration = self.aws("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
        variables: dict[str, str] = configuration["Environment"]["Variables"]
        return variables

    def lambda_environment(self) -> dict[str, str]:
        """What the function's process gets in REGION, its AWS endpoints on moto and cognito-local.

        Lambda's own variables name the region the function runs in
        (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
        """
        return {
            **runtime.LAMBDA_ENVIRONMENT,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
            "AWS_ACCESS_KEY_ID": "moto",
            "AWS_SECRET_ACCESS_KEY": "moto",
            **self.function_variables(),
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto_url,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.cognito_url,
            "COGNITO_ISSUER": f"{self.cognito_url}/{self.pool_id}",
        }


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondRegionStage]:
    workdir = tmp_path_factory.mktemp("second-region")
    with deploy_engines(workdir) as (moto_url, cognito_url):
        yield SecondRegionStage(workdir, moto_url, cognito_url)


@pytest.fixture(scope="module")
def handler(
    stage: SecondRegionStage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaProcess]:
    """The packaged handler (TASKLAKE_PACKAGE, or what `make package` built) running in REGION."""
    package = Path(os.environ.get("TASKLAKE_PACKAGE", ROOT / package_file("dev")))
    workdir = tmp_path_factory.mktemp("second-region-lambda")
    task_root = runtime.extract(package, workdir / "var-task")
    sdk_dir = runtime.provide_sdk(workdir / "var-runtime")
    environment = stage.lambda_environment()
    with LambdaProcess(task_root, sdk_dir, environment, workdir / "handler.log") as process:
        yield process


def call(process: LambdaProcess, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    request_id = f"lambda-{uuid.uuid4()}"
    event = runtime.gateway_event(method, path, request_id=f"gateway-{request_id}", **kwargs)
    response, _seconds = process.invoke(event, request_id)
    response["json"] = runtime.json_body(response)
    return response


def test_the_deploy_builds_the_stage_in_the_second_region(stage: SecondRegionStage) -> None:
    assert stage.deployed.returncode == 0, stage.deployed.stdout[-3000:] + stage.deployed.stderr
    api = next(a for a in stage.aws("apigateway").get_rest_apis()["items"] if a["name"] == FUNCTION)
    assert f"https://{api['id']}.execute-api.{REGION}.amazonaws.com/dev" in stage.deployed.stdout
    assert "tasklake-dev-tasks" in stage.aws("dynamodb").list_tables()["TableNames"]
    assert stage.aws("dynamodb", BUILT_FOR).list_tables()["TableNames"] == []


def test_the_packaged_handler_serves_a_round_trip_in_the_second_region(
    stage: SecondRegionStage, handler: LambdaProcess
) -> None:
    email = f"second-region-{time.time_ns()}@example.com"
    body = {"email": email, "password": PASSWORD, "name": "Dee"}

    signed_up = call(handler, "POST", "/users", body=body)
    assert signed_up["statusCode"] == 201, (signed_up["json"], handler.output()[-2000:])
    code = confirmation_code(stage.cognito_state, stage.pool_id, email)
    confirmed = call(handler, "POST", "/users/confirm", body={"email": email, "code": code})
    assert confirmed["statusCode"] == 204, confirmed["json"]
    token = call(handler, "POST", "/auth/token", body={"email": email, "password": PASSWORD})
    assert token["statusCode"] == 200, token["json"]
    headers = {"Authorization": f"Bearer {token['json']['access_token']}"}
    created = call(handler, "POST", "/tasks", headers=headers, body={"title": "in eu-west-1"})
    assert created["statusCode"] == 201, created["json"]
    listed = call(handler, "GET", "/tasks", headers=headers)

    assert [task["title"] for task in listed["json"]["items"]] == ["in eu-west-1"]
    stored = stage.aws("dynamodb").scan(TableName=stage.function_variables()["TASKS_TABLE"])
    assert stored["Count"] == 1
