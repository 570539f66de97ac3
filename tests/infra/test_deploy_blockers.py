"""A stage a failed create or an earlier destroy left behind is refused up front, on moto.

The real code path: `python -m infra.deploy` and the AWS CLI against a moto server
(tests/infra/moto_server.py), which ends a failed first create in ROLLBACK_COMPLETE as
CloudFormation does. The failure is a table whose key has no attribute definition, which moto
rejects. What destroy keeps is made the way destroy keeps it: the real keys and data stacks
deployed, then deleted (the tables are RetainExceptOnCreate, so they stay).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local import services
from tests.infra.deploy_moto import ACCOUNT, ROOT, aws_environment, deploy_cli

FAILING_TEMPLATE = """\
Parameters:
  Project: {Type: String}
  Owner: {Type: String}
  Environment: {Type: String}
  CostCenter: {Type: String}
Resources:
  Broken:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: other, AttributeType: S}]
"""


class Moto:
    def __init__(self, url: str, templates: Path) -> None:
        self.url, self.templates = url, templates
        self.environment = {**aws_environment(url), "AWS_DEFAULT_REGION": "us-east-1"}

    def aws(self, *argv: str) -> subprocess.CompletedProcess[str]:
        aws = ROOT / ".venv" / "bin" / "aws"
        return subprocess.run(
            [str(aws), *argv], env=self.environment, capture_output=True, text=True, check=False
        )

    def statuses(self) -> dict[str, str]:
        listed = self.aws(
            "cloudformation", "describe-stacks", "--output", "text",
            "--query", "Stacks[].[StackName, StackStatus]",
        )  # fmt: skip
        return dict(line.split("\t") for line in listed.stdout.splitlines())

    def deploy(self, *options: str) -> subprocess.CompletedProcess[str]:
        return deploy_cli(
            self.environment, "deploy", "--stage", "dev", "--no-touch", "--no-preflight",
            "--templates", str(self.templates), *options,
        )  # fmt: skip


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[Moto]:
    server = services.start_moto(
        services.free_port(), tmp_path / "moto.log", server_module="tests.infra.moto_server"
    )
    templates = tmp_path / "templates"
    templates.mkdir()
    for template in (ROOT / "infra").glob("*.yaml"):
        shutil.copy(template, templates)
    try:
        yield Moto(server.url, templates)
    finally:
        server.stop()


@pytest.fixture
def rolled_back(moto: Moto) -> Moto:
    """The keys stack's first create failed and rolled back."""
    real = (moto.templates / "keys.yaml").read_text()
    (moto.templates / "keys.yaml").write_text(FAILING_TEMPLATE)
    failed = moto.deploy()
    assert failed.returncode != 0
    assert "step 3/" in failed.stderr
    assert "deploy stack tasklake-dev-keys" in failed.stderr
    assert moto.statuses() == {"tasklake-dev-keys": "ROLLBACK_COMPLETE"}
    (moto.templates / "keys.yaml").write_text(real)  # the cause fixed
    return moto


def test_a_stack_rolled_back_on_create_stops_the_rerun_with_the_commands(
    rolled_back: Moto,
) -> None:
    again = rolled_back.deploy()

    assert again.returncode == 3, again.stdout + again.stderr
    assert "tasklake-dev-keys: ROLLBACK_COMPLETE" in again.stderr
    assert "$ aws cloudformation delete-stack --stack-name tasklake-dev-keys" in again.stderr
    assert "make deploy STAGE=dev FORCE=1" in again.stderr
    assert "==> 3/" not in again.stdout
    assert rolled_back.statuses() == {"tasklake-dev-keys": "ROLLBACK_COMPLETE"}


def test_force_deletes_the_rolled_back_stack_so_the_create_can_run(rolled_back: Moto) -> None:
    checked = deploy_cli(
        rolled_back.environment, "check-stage", "--stage", "dev", "--account", ACCOUNT,
        "--templates", str(rolled_back.templates), "--force",
    )  # fmt: skip

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "tasklake-dev-keys is ROLLBACK_COMPLETE: deleting it (--force)" in checked.stdout
    assert "$ aws cloudformation delete-stack --stack-name tasklake-dev-keys" in checked.stdout
    assert rolled_back.statuses() == {}


def test_deploy_after_destroy_is_refused_until_the_kept_tables_are_removed(moto: Moto) -> None:
    for part in ("keys", "data"):
        deployed = moto.aws(
            "cloudformation", "deploy", "--stack-name", f"tasklake-dev-{part}",
            "--template-file", str(moto.templates / f"{part}.yaml"),
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.stderr
    for part in ("data", "keys"):  # destroy's order
        deleted = moto.aws("cloudformation", "delete-stack", "--stack-name", f"tasklake-dev-{part}")
        assert deleted.returncode == 0, deleted.stderr
    assert moto.statuses() == {}
    kept = moto.aws("dynamodb", "list-tables", "--output", "text").stdout
    assert "tasklake-dev-tasks" in kept

    refused = moto.deploy()

    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "tasklake-dev-data TasksTable: tasklake-dev-tasks" in refused.stderr
    assert "deploy stack" not in refused.stdout
    assert moto.statuses() == {}
    commands = [
        line.strip().removeprefix("$ ").split()
        for line in refused.stderr.splitlines()
        if line.strip().startswith("$ aws dynamodb")
    ]
    assert ["aws", "dynamodb", "delete-table", "--table-name", "tasklake-dev-tasks"] in commands
    for command in commands:  # run what the refusal says, as an operator would
        done = moto.aws(*command[1:])
        assert done.returncode == 0, shlex.join(command) + done.stderr

    checked = deploy_cli(
        moto.environment, "check-stage", "--stage", "dev", "--account", ACCOUNT,
        "--templates", str(moto.templates),
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
