"""The built Lambda zip, extracted and run as the Lambda Python runtime would run it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.package import runtime
from infra.package.runtime import LambdaProcess

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "zappa_settings.json"
STAGE = "dev"
# The engines' variables that stand in for what the deployed stage gets from AWS.
ENGINE_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_ISSUER",
    "CURSOR_SECRET",
    # Limits the test engines lift (tests/harness.py): the whole suite signs up far more users
    # than one address may ask code mails for, all from one address.
    "RATE_LIMIT_PER_ADDRESS",
    "CODE_EMAILS_PER_REQUESTER",
    "CODE_EMAILS_PER_RECIPIENT",
)

Invoke = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def package_zip() -> Path:
    path = Path(os.environ.get("TASKLAKE_PACKAGE", ROOT / "build" / f"tasklake-{STAGE}.zip"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: build it with `make package STAGE={STAGE}`")
    return path


@pytest.fixture(scope="session")
def task_root(package_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime.extract(package_zip, tmp_path_factory.mktemp("var-task"))


@pytest.fixture(scope="session")
def sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime.provide_sdk(tmp_path_factory.mktemp("var-runtime"))


@pytest.fixture(scope="session")
def stage_environment() -> dict[str, str]:
    """What the deployed dev stage gets: Lambda's variables and `aws_environment_variables`."""
    return runtime.stage_environment(SETTINGS_FILE, STAGE)


@pytest.fixture(scope="module")
def lambda_process(
    task_root: Path,
    sdk_dir: Path,
    stage_environment: dict[str, str],
    engines: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LambdaProcess]:
    """One warm execution environment of the packaged handler, wired to the local engines."""
    environment = {**stage_environment, **{name: engines[name] for name in ENGINE_VARIABLES}}
    log_path = tmp_path_factory.mktemp("lambda-logs") / "handler.log"
    with LambdaProcess(task_root, sdk_dir, environment, log_path) as process:
        yield process


def call(process: LambdaProcess, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """Send one API Gateway event; the response gets `json` (the parsed body) and `request_id`."""
    request_id = f"lambda-{uuid.uuid4()}"
    event = runtime.gateway_event(method, path, request_id=f"gateway-{request_id}", **kwargs)
    response, _seconds = process.invoke(event, request_id)
    response["request_id"] = request_id
    response["json"] = runtime.json_body(response)
    return response
