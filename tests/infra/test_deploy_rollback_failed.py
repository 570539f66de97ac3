"""Prod: a first create that fails ends in ROLLBACK_FAILED, and check-stage clears it.

RetainExceptOnCreate deletes what a failed first create made, but prod's tables and user pool
have deletion protection on and refuse, so the rollback fails and the stack can be neither
updated nor re-created. moto models neither deletion protection during a rollback nor
ROLLBACK_FAILED, so CloudFormation's answers are recorded (tests/infra/recorded/*.json) and
the AWS CLI is stubbed at its process boundary (tests/infra/recorded_aws.py); the real
`python -m infra.deploy check-stage` code runs in this process.

Docs, read 2026-12-07:
- Stack status codes, ROLLBACK_FAILED among them:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html
- DeleteStack's RetainResources applies to DELETE_FAILED stacks only, hence the resources are
  removed first: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html
- RetainExceptOnCreate: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
- Deletion protection: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection
  and https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-deletion-protection.html
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.deploy.__main__ import main
from tests.infra.recorded_aws import RecordedAws, recorded_aws

ACCOUNT = "123456789012"
CLEARS = {
    "rollback_failed_data": [
        "dynamodb update-table --no-deletion-protection-enabled --table-name tasklake-prod-tasks",
        "dynamodb delete-table --table-name tasklake-prod-tasks",
        "dynamodb update-table --no-deletion-protection-enabled --table-name tasklake-prod-users",
        "dynamodb delete-table --table-name tasklake-prod-users",
        "cloudformation delete-stack --stack-name tasklake-prod-data",
    ],
    "rollback_failed_identity": [
        "cognito-idp update-user-pool --deletion-protection INACTIVE --user-pool-id "
        "eu-west-1_Ab12Cd34E",
        "cognito-idp delete-user-pool --user-pool-id eu-west-1_Ab12Cd34E",
        "cloudformation delete-stack --stack-name tasklake-prod-identity",
    ],
}


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordedAws:
    stand_in = recorded_aws(tmp_path, monkeypatch)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    return stand_in


def check_stage(*options: str) -> int:
    return main(["check-stage", "--stage", "prod", "--account", ACCOUNT, *options])


@pytest.mark.parametrize("answers", sorted(CLEARS))
def test_a_rollback_failed_stack_is_refused_with_the_commands_that_clear_it(
    aws: RecordedAws, answers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.answer(answers, "nothing_kept")

    assert check_stage() == 3
    err = capsys.readouterr().err
    stack = CLEARS[answers][-1].split()[-1]
    assert f"{stack}: ROLLBACK_FAILED (" in err
    printed = [line.strip().removeprefix("$ aws ") for line in err.splitlines() if "$ aws" in line]
    assert printed[:-1] == CLEARS[answers]
    assert printed[-1] == f"cloudformation wait stack-delete-complete --stack-name {stack}"
    assert "make deploy STAGE=prod FORCE=1" in err
    assert aws.writes() == []  # a refusal changes nothing


@pytest.mark.parametrize("answers", sorted(CLEARS))
def test_force_turns_protection_off_removes_what_is_left_then_the_stack(
    aws: RecordedAws, answers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.answer(answers, "nothing_kept")

    assert check_stage("--force") == 0, capsys.readouterr().err
    assert aws.writes() == CLEARS[answers]
    stack = CLEARS[answers][-1].split()[-1]
    waits = [c for c in aws.calls() if c[:2] == ["cloudformation", "wait"]]
    assert waits == [["cloudformation", "wait", "stack-delete-complete", "--stack-name", stack]]
    assert f"{stack} is ROLLBACK_FAILED: deleting it (--force)" in capsys.readouterr().out
