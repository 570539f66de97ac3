"""A cold start with nothing but the stage's environment: no engines, no Cognito ids, no secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from api.problems import ConfigurationError
from infra.local.services import free_port
from infra.package.runtime import LambdaProcess
from tests.package.conftest import call


@pytest.fixture(scope="module")
def unconfigured_process(
    task_root: Path,
    sdk_dir: Path,
    stage_environment: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LambdaProcess]:
    """The dev stage as zappa_settings.json leaves it, with AWS endpoints nobody listens on."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    environment = {
        **stage_environment,
        "AWS_ACCESS_KEY_ID": "unused",
        "AWS_SECRET_ACCESS_KEY": "unused",
        "AWS_ENDPOINT_URL_DYNAMODB": nowhere,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": nowhere,
    }
    assert environment["COGNITO_CLIENT_ID"] == ""  # filled in only at deploy time
    log_path = tmp_path_factory.mktemp("unconfigured-logs") / "handler.log"
    with LambdaProcess(task_root, sdk_dir, environment, log_path) as process:
        yield process


def test_openapi_is_served_when_backing_services_are_unreachable(
    unconfigured_process: LambdaProcess,
) -> None:
    response = call(unconfigured_process, "GET", "/openapi.json")

    assert response["statusCode"] == 200
    assert response["json"]["info"]["title"] == "tasklake"


def test_a_missing_setting_fails_the_request_that_needs_it_not_the_import(
    unconfigured_process: LambdaProcess,
) -> None:
    # A bearer token makes the request need the pool before anything else (the sign-in
    # endpoints would first count the caller against its rate limit in DynamoDB: a 503 here).
    token = jwt.encode({"sub": "someone"}, "not-a-key", headers={"kid": "some-key"})
    response = call(
        unconfigured_process, "GET", "/tasks", headers={"Authorization": f"Bearer {token}"}
    )

    assert response["statusCode"] == 500
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert response["json"]["type"] == "urn:tasklake:problem:misconfigured"
    assert response["json"]["detail"] == ConfigurationError.PUBLIC_DETAIL  # names no setting
    entries = [
        json.loads(line)
        for line in unconfigured_process.output().splitlines()
        if line.startswith("{")
    ]
    errors = [
        entry
        for entry in entries
        if entry.get("level") == "ERROR" and entry.get("request_id") == response["request_id"]
    ]
    assert errors, unconfigured_process.output()[-2000:]
    assert errors[0]["problem"] == "COGNITO_USER_POOL_ID is not set"


def test_the_snapstart_import_builds_the_app_without_reaching_aws(
    task_root: Path,
    sdk_dir: Path,
    stage_environment: dict[str, str],
    tmp_path: Path,
) -> None:
    """Prod's SnapStart snapshot is taken after the import; it must need no AWS call.

    The deploy sets Zappa's INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT for SnapStart stages
    (infra/deploy/zappa_settings.py): the name is read from the packaged handler, so a Zappa
    upgrade that renames it fails here rather than silently snapshotting an unbuilt app.
    """
    assert (
        'os.environ.get("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT")'
        in (task_root / "handler.py").read_text()
    )
    nowhere = f"http://127.0.0.1:{free_port()}"
    environment = {
        **stage_environment,
        "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true",
        "AWS_ACCESS_KEY_ID": "unused",
        "AWS_SECRET_ACCESS_KEY": "unused",
        "AWS_ENDPOINT_URL_DYNAMODB": nowhere,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": nowhere,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": nowhere,
    }
    with LambdaProcess(task_root, sdk_dir, environment, tmp_path / "handler.log") as process:
        response = call(process, "GET", "/openapi.json")

    assert response["statusCode"] == 200
