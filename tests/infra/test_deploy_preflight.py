"""Without credentials or a region the deploy stops before its first step, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.deploy import plan
from infra.deploy.__main__ import main
from tests.infra.deploy_moto import offline_environment
from tests.infra.in_process import run_main

ROOT = Path(__file__).resolve().parents[2]


def deploy(**aws: str) -> subprocess.CompletedProcess[str]:
    # Nothing listens at the endpoint: a step that ran anyway would fail loudly, not reach AWS.
    environment = {**offline_environment("http://127.0.0.1:9"), **aws}
    command = [sys.executable, "-m", "infra.deploy", "deploy", "--stage", "dev"]
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("aws", "message"),
    [
        ({"AWS_REGION": "eu-west-1"}, "error: no AWS credentials"),
        ({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, "error: no AWS region"),
        ({"AWS_PROFILE": "nobody", "AWS_REGION": "eu-west-1"}, "error: AWS credentials:"),
    ],
)
def test_a_missing_credential_or_region_is_one_line_and_exit_2(
    aws: dict[str, str], message: str
) -> None:
    # No step runs, so no child process of its own: the CLI's main runs in this process.
    environment = {**offline_environment("http://127.0.0.1:9"), **aws}
    done = run_main(main, ["deploy", "--stage", "dev"], environment)
    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_a_failing_step_is_named_with_its_exit_code() -> None:
    # One attempt: the CLI's retries against the closed port would only wait, about 10 s.
    done = deploy(
        AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b", AWS_REGION="eu-west-1",
        AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="1",
    )  # fmt: skip
    assert done.returncode != 0
    total = len(plan.deploy_plan(plan.Options(stage="dev")).steps)
    assert done.stderr.strip().splitlines()[-1] == (
        f'error: step 1/{total} "which account do these credentials reach?" failed with exit '
        "code 255"
    )
    assert f"==> 1/{total} which account" in done.stdout
    assert f"==> 2/{total}" not in done.stdout
