"""`make preflight`: each check against recorded AWS answers, the passing and the failing case.

No local engine keeps what these checks read: moto has no Lambda account quota (nor
GetAccountSettings), no SES sandbox, no MWAA, and every region offers everything. So the
answers AWS gives are recorded as JSON (tests/infra/recorded/, in the AWS CLI's output shape)
and the AWS CLI is stubbed at its process boundary (tests/infra/recorded_aws.py); the real
`python -m infra.deploy preflight` runs in this process. A fresh account is the base case.

AWS documentation behind each check, read 2026-12-07:
- Lambda: at least 100 stay unreserved; new accounts have reduced concurrency quotas:
  https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
  https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
  https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
- SES sandbox, per region; production access (ProductionAccessEnabled, PutAccountDetails);
  SendingEnabled, whether the account may send in that Region:
  https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
  https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html
  https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetEmailIdentity.html
- MWAA's regions: https://docs.aws.amazon.com/general/latest/gr/mwaa.html
- Cognito's regions: https://docs.aws.amazon.com/general/latest/gr/cognito_identity.html
- Stack status codes (DELETE_FAILED: the stack can only be deleted again; REVIEW_IN_PROGRESS: a
  change set never run), and DeleteStack's RetainResources for DELETE_FAILED stacks:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html
- The AWS CLI's stack waiters, each polling 120 times 30 s apart until its own states:
  https://docs.aws.amazon.com/cli/latest/reference/cloudformation/wait/index.html
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest

from infra.deploy.__main__ import main
from infra.deploy.account_checks import unsettled
from tests.infra.recorded_aws import RecordedAws, recorded_aws

IDENTITY = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
BASE = ("preflight_fresh_account", "nothing_kept")
# (answer files over BASE, options, check, the line it prints[, a part of its fix])
Passing = tuple[tuple[str, ...], tuple[str, ...], str, str]
Failing = tuple[tuple[str, ...], tuple[str, ...], str, str, str]


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordedAws:
    stand_in = recorded_aws(tmp_path, monkeypatch)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for variable in ("RESERVED_CONCURRENCY", "SES_IDENTITY_ARN", "ORCHESTRATION"):
        monkeypatch.delenv(variable, raising=False)
    return stand_in


# Preflights already run, by the answers they were given and their options: a preflight makes
# about twenty CLI calls, and tests that give the same answers read different lines of one run.
_RUNS: dict[str, tuple[int, dict[str, list[str]]]] = {}


def preflight(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str], answers: tuple[str, ...], *options: str
) -> tuple[int, dict[str, list[str]]]:
    """Exit code, and the lines printed by check name; nothing may have been changed."""
    aws.answer(*BASE, *answers)
    run = json.dumps([aws.answers, options], sort_keys=True)
    if run not in _RUNS:
        code = main(["preflight", "--stage", "staging", "--ses-identity-arn", IDENTITY, *options])
        out = capsys.readouterr().out
        lines: dict[str, list[str]] = {}
        for line in out.splitlines():
            lines.setdefault(line[6:].split(":")[0], []).append(line)
        assert aws.writes() == []
        _RUNS[run] = (code, lines)
    code, lines = _RUNS[run]
    return code, {check: list(found) for check, found in lines.items()}


@pytest.mark.parametrize(
    "case",
    [
        # Lambda concurrency: no reservation fits a fresh account; a reservation needs a quota.
        (
            (),
            (),
            "lambda concurrency",
            "ok    lambda concurrency: no reservation; account limit 10",
        ),
        (
            ("lambda_raised_quota",),
            ("--reserved-concurrency", "100"),
            "lambda concurrency",
            "ok    lambda concurrency: reserves 100; account limit 1000, unreserved 1000, "
            "900 can be reserved",
        ),
        # The credentials reach an account; the region is the one asked for.
        ((), (), "credentials", "ok    credentials: account 123456789012 in eu-west-1"),
        # SES: production access in the identity's region, and the identity verified.
        (("ses_production_access",), (), "ses", "ok    ses: production access in eu-west-1"),
        # The region offers what the stage uses.
        ((), (), "region", "ok    region: cognito: Cognito user pools answers in eu-west-1"),
        ((), (), "region", "ok    region: mwaa: MWAA answers in eu-west-1"),
        # Nothing in the way.
        ((), (), "leftovers", "ok    leftovers: no failed stack, no kept data"),
        ((), (), "function", "ok    function: tasklake-staging not deployed yet"),
        (
            ("function_deployed",),
            (),
            "function",
            "ok    function: tasklake-staging and its API stack exist: the deploy updates them",
        ),
    ],
)
def test_a_check_passes_on_an_account_that_has_it(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str], case: Passing
) -> None:
    answers, options, check, expected = case
    _, lines = preflight(aws, capsys, ("ses_production_access", *answers), *options)

    assert any(line.startswith(expected) for line in lines[check]), lines[check]


@pytest.mark.parametrize(
    "case",
    [
        (
            (),
            ("--reserved-concurrency", "20"),
            "lambda concurrency",
            "FAIL  lambda concurrency: RESERVED_CONCURRENCY=20, but account limit 10, "
            "unreserved 10, 0 can be reserved (100 stay unreserved)",
            "--quota-code L-B99A9384 --desired-value 1000",
        ),
        (
            (),
            (),
            "ses",
            "FAIL  ses: the account is in the SES sandbox in eu-west-1: mail reaches only "
            "verified addresses, 200 a day",
            "aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL",
        ),
        (
            ("ses_sending_paused",),
            (),
            "ses",
            "FAIL  ses: sending is paused for the account in eu-west-1",
            "aws sesv2 put-account-sending-attributes --sending-enabled --region eu-west-1",
        ),
        (
            ("ses_production_access", "ses_identity_missing"),
            (),
            "ses identity",
            "FAIL  ses identity: example.com does not exist in eu-west-1",
            "aws sesv2 create-email-identity --email-identity example.com --region eu-west-1",
        ),
        (
            ("ses_production_access", "ses_identity_unverified"),
            (),
            "ses identity",
            "FAIL  ses identity: example.com is not verified in eu-west-1",
            "aws sesv2 create-email-identity --email-identity example.com --region eu-west-1",
        ),
        (
            ("ses_production_access", "region_without_mwaa"),
            ("--region", "ap-southeast-7"),
            "region",
            "FAIL  region: mwaa: MWAA answers nowhere in ap-southeast-7",
            "ORCHESTRATION=off (run the DAG with make etl-stage)",
        ),
        (
            ("ses_production_access", "region_without_cognito"),
            ("--region", "ap-southeast-7"),
            "region",
            "FAIL  region: cognito: Cognito user pools answers nowhere in ap-southeast-7",
            "deploy to a region that offers Amazon Cognito",
        ),
        (
            ("ses_production_access", "stack_rolled_back"),
            (),
            "leftovers",
            "FAIL  leftovers: tasklake-staging-keys is ROLLBACK_COMPLETE (a failed first create)",
            "make deploy STAGE=staging FORCE=1",
        ),
        # A first create rolling back: its waiter stops, as failed, at ROLLBACK_COMPLETE,
        # which only FORCE=1 (a delete) clears; a deploy without it refuses.
        (
            ("ses_production_access", "stack_rolling_back"),
            (),
            "leftovers",
            "FAIL  leftovers: tasklake-staging-keys is ROLLBACK_IN_PROGRESS",
            "aws cloudformation wait stack-create-complete --stack-name tasklake-staging-keys "
            "(it fails when the rollback ends, as expected), then make deploy STAGE=staging "
            "FORCE=1",
        ),
        (
            ("ses_production_access", "kept_tasks_table"),
            (),
            "leftovers",
            "FAIL  leftovers: AWS::DynamoDB::Table tasklake-staging-tasks (kept by an earlier "
            "destroy) is in the way of tasklake-staging-data",
            "aws dynamodb delete-table --table-name tasklake-staging-tasks",
        ),
        (
            ("ses_production_access", "zappa_stack_rolled_back"),
            (),
            "function",
            "FAIL  function: tasklake-staging's API stack is ROLLBACK_COMPLETE (Zappa's create "
            "of it failed)",
            ".venv-package/bin/zappa undeploy staging -s build/zappa_settings.staging.json --yes",
        ),
        # Mid-rollback, `zappa undeploy` would delete a stack CloudFormation is still
        # changing: wait first.
        (
            ("ses_production_access", "zappa_stack_rolling_back"),
            (),
            "function",
            "FAIL  function: tasklake-staging's API stack is ROLLBACK_IN_PROGRESS",
            "aws cloudformation wait stack-create-complete --stack-name tasklake-staging (it "
            "fails when the rollback ends, as expected), then .venv/bin/python -m "
            "infra.deploy zappa-settings --stage staging && .venv-package/bin/zappa undeploy",
        ),
        (
            ("ses_production_access", "zappa_stack_update_rollback_failed"),
            (),
            "function",
            "FAIL  function: tasklake-staging's API stack is UPDATE_ROLLBACK_FAILED",
            "aws cloudformation continue-update-rollback --stack-name tasklake-staging",
        ),
        # Stacks `aws cloudformation deploy` cannot update until they settle or are cleared.
        (
            ("ses_production_access", "stacks_unsettled"),
            (),
            "leftovers",
            "FAIL  leftovers: tasklake-staging-data is CREATE_IN_PROGRESS",
            "aws cloudformation wait stack-create-complete --stack-name tasklake-staging-data",
        ),
        (
            ("ses_production_access", "stacks_unsettled"),
            (),
            "leftovers",
            "FAIL  leftovers: tasklake-staging-analytics is DELETE_FAILED",
            "aws cloudformation delete-stack --stack-name tasklake-staging-analytics",
        ),
        (
            ("ses_production_access", "stacks_unsettled"),
            (),
            "leftovers",
            "FAIL  leftovers: tasklake-staging-keys is UPDATE_ROLLBACK_FAILED",
            "aws cloudformation continue-update-rollback --stack-name tasklake-staging-keys",
        ),
    ],
)
def test_a_check_fails_with_its_fix_and_the_exit_code_says_so(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str], case: Failing
) -> None:
    answers, options, check, expected, fix = case
    code, lines = preflight(aws, capsys, answers, *options)

    assert code == 3
    failing = [line for line in lines[check] if line.startswith(expected)]
    assert len(failing) == 1, lines[check]
    assert fix in failing[0].split(" -- fix: ")[1]


def test_a_fresh_account_passes_with_the_defaults_and_only_warns_of_its_quota(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only SES production access needs asking for; the stage reserves no concurrency.
    code, lines = preflight(aws, capsys, ("ses_production_access",))

    assert code == 0, lines
    every = [line for found in lines.values() for line in found]
    assert [line.split()[0] for line in every if not line.startswith("ok")] == ["warn"]
    assert lines["lambda concurrency quota"][0].startswith(
        "warn  lambda concurrency quota: 10 concurrent executions (a new account's)"
    )


def test_a_stack_a_change_set_never_ran_is_no_blocker(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # `aws cloudformation deploy` treats a REVIEW_IN_PROGRESS stack as absent and creates it.
    code, lines = preflight(aws, capsys, ("ses_production_access", "stack_review_only"))

    assert code == 0, lines
    assert [line for line in lines["leftovers"] if not line.startswith("ok")] == []


# Where a stack in each in-progress state comes to rest: (the end a deploy can go on from, or
# None; the other ends; the states it passes through on the way), from the status codes page.
SETTLING = {
    "CREATE_IN_PROGRESS": ("CREATE_COMPLETE", ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"),
                           ("ROLLBACK_IN_PROGRESS",)),
    "ROLLBACK_IN_PROGRESS": (None, ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"), ()),
    "DELETE_IN_PROGRESS": ("DELETE_COMPLETE", ("DELETE_FAILED",), ()),
    "UPDATE_IN_PROGRESS": ("UPDATE_COMPLETE",
                           ("UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"),
                           ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")),
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": ("UPDATE_COMPLETE", (), ()),
    "UPDATE_ROLLBACK_IN_PROGRESS": ("UPDATE_ROLLBACK_COMPLETE", ("UPDATE_ROLLBACK_FAILED",),
                                    ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",)),
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": ("UPDATE_ROLLBACK_COMPLETE", (), ()),
    "IMPORT_IN_PROGRESS": ("IMPORT_COMPLETE",
                           ("IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED"),
                           ("IMPORT_ROLLBACK_IN_PROGRESS",)),
    "IMPORT_ROLLBACK_IN_PROGRESS": ("IMPORT_ROLLBACK_COMPLETE", ("IMPORT_ROLLBACK_FAILED",), ()),
}  # fmt: skip
WAITERS = botocore.session.get_session().get_waiter_model("cloudformation")


def waits_for(waiter: str, status: str) -> bool:
    """The AWS CLI waiter (botocore's model, which the CLI runs) keeps polling while the stack
    moves, returns at each end, and succeeds at the one a deploy can go on from."""
    good, others, passes = SETTLING[status]
    acceptors = {
        acceptor.expected: acceptor.state
        for acceptor in WAITERS.get_waiter(waiter).acceptors
        if acceptor.matcher in ("path", "pathAll", "pathAny")
    }
    ends = (good, *others) if good else others
    return (
        not any(state in acceptors for state in (status, *passes))
        and all(end in acceptors for end in ends)
        and (good is None or acceptors[good] == "success")
    )


def test_every_in_progress_state_is_given_a_wait_that_ends_when_the_stack_does() -> None:
    statuses = botocore.session.get_session().get_service_model("cloudformation")
    in_progress = [s for s in statuses.shape_for("StackStatus").enum if s.endswith("_IN_PROGRESS")]
    assert sorted(SETTLING) == sorted(set(in_progress) - {"REVIEW_IN_PROGRESS"})

    for status in SETTLING:
        fix = unsettled("tasklake-staging-data", status)
        assert fix, status
        named = fix.split("aws cloudformation wait ")[1:]
        if named:
            command = named[0].split()[0]
            waiter = "".join(word.title() for word in command.split("-"))
            assert waits_for(waiter, status), (status, command)
        else:  # no waiter fits: the fix polls the status itself
            assert not [
                w for w in WAITERS.waiter_names if w.startswith("Stack") and waits_for(w, status)
            ]
            assert "--query Stacks[0].StackStatus" in fix
    assert unsettled("tasklake-staging-data", "REVIEW_IN_PROGRESS") is None


def test_a_half_created_function_is_named_and_left_to_the_deploy(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = preflight(aws, capsys, ("ses_production_access", "half_created_function"))

    assert code == 0
    assert lines["function"] == [
        "warn  function: tasklake-staging exists without its API stack (a first deploy stopped "
        "half-way): the deploy undeploys it, then deploys it whole"
    ]


def test_failed_first_creates_pass_when_the_deploy_will_clear_them(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = preflight(aws, capsys, ("ses_production_access", "stack_rolled_back"), "--force")

    assert code == 0, lines
    assert lines["leftovers"] == [
        "ok    leftovers: tasklake-staging-keys is ROLLBACK_COMPLETE; check-stage clears it "
        "(FORCE=1)"
    ]


def test_a_stage_that_mails_through_ses_needs_an_identity(
    aws: RecordedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.answer(*BASE)

    assert main(["preflight", "--stage", "prod"]) == 3
    out = capsys.readouterr().out
    assert "FAIL  ses: prod mails sign-up and reset codes through SES; no identity given" in out
    assert main(["preflight", "--stage", "dev"]) == 0
    assert "ok    ses: dev mails through Cognito's own sender, not SES" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("aws_variables", "message"),
    [
        ({}, "error: no AWS region"),
        ({"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": ""}, "error: no AWS credentials"),
    ],
)
def test_no_credentials_or_region_is_one_line_and_exit_2(
    aws: RecordedAws,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    aws_variables: dict[str, str],
    message: str,
) -> None:
    monkeypatch.delenv("AWS_REGION")
    for variable, value in aws_variables.items():
        if value:
            monkeypatch.setenv(variable, value)
        else:
            monkeypatch.delenv(variable)
            monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    assert main(["preflight", "--stage", "dev"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message)
    assert len(captured.err.strip().splitlines()) == 1
    assert aws.calls() == []
