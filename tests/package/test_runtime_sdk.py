"""The packaged API refreshes tokens even where the runtime's AWS SDK predates the call.

AWS does not document which boto3 a Lambda runtime ships: "the version of the AWS SDK included
in the Python runtime depends on the runtime version and your AWS Region"
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html#python-sdk-included).
Cognito's GetTokensFromRefreshToken came with refresh token rotation on 2025-04-22
(https://docs.aws.amazon.com/cognito-user-pools/latest/APIReference/API_GetTokensFromRefreshToken.html);
an older botocore has no `get_tokens_from_refresh_token`. Carrying botocore itself would not fit
the 8 MiB budget, so the zip carries Cognito's API model and AWS_DATA_PATH puts it first.

The stand-in for such a runtime is the SDK this environment provides with that one operation
removed from its Cognito model; cognito-local answers the call (infra/local/cognito-local-gaps.js).
"""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from infra.package.runtime import LambdaProcess
from tests.package.conftest import ENGINE_VARIABLES, call

PASSWORD = "Correct-Horse-9"
OPERATION = "GetTokensFromRefreshToken"


@pytest.fixture(scope="module")
def sdk_before_the_call(sdk_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runtime's SDK as it was before 2025-04-22: no GetTokensFromRefreshToken."""
    old = tmp_path_factory.mktemp("sdk-before-refresh-call")
    shutil.copytree(sdk_dir, old, dirs_exist_ok=True)
    models = list((old / "botocore" / "data" / "cognito-idp").glob("*/service-2.json.gz"))
    assert models
    for path in models:
        model = json.loads(gzip.decompress(path.read_bytes()))
        del model["operations"][OPERATION]
        path.write_bytes(gzip.compress(json.dumps(model).encode()))
    return old


@contextmanager
def process(
    task_root: Path, sdk: Path, environment: dict[str, str], logs: Path
) -> Iterator[LambdaProcess]:
    with LambdaProcess(task_root, sdk, environment, logs / "handler.log") as running:
        yield running


def refresh_after_sign_in(
    running: LambdaProcess, emailed_code: Callable[[str], str]
) -> dict[str, Any]:
    email = f"sdk-{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": PASSWORD, "name": "Old Runtime"}
    assert call(running, "POST", "/users", body=body)["statusCode"] == 201
    confirm = {"email": email, "code": emailed_code(email)}
    assert call(running, "POST", "/users/confirm", body=confirm)["statusCode"] == 204
    login = call(running, "POST", "/auth/token", body={"email": email, "password": PASSWORD})
    assert login["statusCode"] == 200, login["body"]
    refresh = {"refresh_token": login["json"]["refresh_token"]}
    return call(running, "POST", "/auth/refresh", body=refresh)


@pytest.fixture
def environment(stage_environment: dict[str, str], engines: dict[str, str]) -> dict[str, str]:
    return {**stage_environment, **{name: engines[name] for name in ENGINE_VARIABLES}}


def test_the_stage_points_botocore_at_the_models_in_the_package(
    environment: dict[str, str], task_root: Path
) -> None:
    models = Path(environment["AWS_DATA_PATH"].replace("/var/task", str(task_root), 1))

    shipped = json.loads(next(models.glob("cognito-idp/*/service-2.json")).read_text())

    assert OPERATION in shipped["operations"]
    assert "documentation" not in shipped["operations"][OPERATION]


def test_refresh_works_on_a_runtime_sdk_without_the_call(
    task_root: Path,
    sdk_before_the_call: Path,
    environment: dict[str, str],
    emailed_code: Callable[[str], str],
    tmp_path: Path,
) -> None:
    with process(task_root, sdk_before_the_call, environment, tmp_path) as running:
        refreshed = refresh_after_sign_in(running, emailed_code)

    assert refreshed["statusCode"] == 200, refreshed["body"]
    assert refreshed["json"]["access_token"]


def test_without_the_shipped_model_that_runtime_fails_the_refresh(
    task_root: Path,
    sdk_before_the_call: Path,
    environment: dict[str, str],
    emailed_code: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """What the shipped model prevents: the old SDK alone has no such method."""
    without = {name: value for name, value in environment.items() if name != "AWS_DATA_PATH"}

    with process(task_root, sdk_before_the_call, without, tmp_path) as running:
        refreshed = refresh_after_sign_in(running, emailed_code)
        logs = running.output()

    assert refreshed["statusCode"] == 500
    assert "get_tokens_from_refresh_token" in logs
