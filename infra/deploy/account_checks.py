"""`make preflight`: what the account lacks for a stage, read before anything is created.

One line per check, `ok`, `warn` or `FAIL`, each FAIL with the command or request that fixes
it. Only reads (get-, list-, describe-, head-): the check never changes the account. The
reads go through the AWS CLI, as every step of the deploy does (outputs.py says why).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.deploy import blockers, stacks
from infra.deploy.outputs import CommandFailed, aws_executable

# Lambda keeps this much of the account's concurrency unreserved whatever is asked
# (PutFunctionConcurrency); a reservation must leave it.
UNRESERVED_MINIMUM = 100
# What an established account gets; new accounts start lower (10) and AWS raises it with use.
USUAL_CONCURRENCY = 1000
CONCURRENCY_QUOTA = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"
QUOTA_INCREASE = (
    "aws service-quotas request-service-quota-increase --service-code lambda "
    f"--quota-code {CONCURRENCY_QUOTA} --desired-value {USUAL_CONCURRENCY}"
)
SES_PRODUCTION = (
    "aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL "
    "--website-url https://<your site> --use-case-description '<sign-up and password reset "
    "codes, sent once per request>' --region {region} (AWS answers within about 24 hours)"
)
MWAA_REGIONS = "https://docs.aws.amazon.com/general/latest/gr/mwaa.html"
NO_ENDPOINT = "Could not connect to the endpoint URL"
ABSENT = ("ResourceNotFoundException", "does not exist", "NotFoundException")
IN_PROGRESS = "_IN_PROGRESS"
# The AWS CLI waiter that returns once a stack in this state settles; a waiter without an
# acceptor for the state it ends in polls for an hour (tests/infra/test_deploy_account_checks.py).
SETTLES = {
    "CREATE_IN_PROGRESS": "stack-create-complete",
    # No waiter succeeds at ROLLBACK_COMPLETE (stack-rollback-complete only at
    # UPDATE_ROLLBACK_COMPLETE, polling an hour here); this one stops there, as failed.
    "ROLLBACK_IN_PROGRESS": "stack-create-complete",
    "DELETE_IN_PROGRESS": "stack-delete-complete",
    "UPDATE_IN_PROGRESS": "stack-update-complete",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "stack-update-complete",
    "UPDATE_ROLLBACK_IN_PROGRESS": "stack-rollback-complete",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": "stack-rollback-complete",
}
# A change set created a stack but never ran: `aws cloudformation deploy` creates it as new.
REVIEW_ONLY = "REVIEW_IN_PROGRESS"


class ReadFailed(RuntimeError):
    def __init__(self, argv: tuple[str, ...], stderr: str) -> None:
        super().__init__(f"`aws {' '.join(argv)}`: {stderr.strip()}")
        self.stderr = stderr


def read(*argv: str) -> Any:
    """One read through the AWS CLI, parsed; ReadFailed with its error text otherwise."""
    command = [aws_executable(), *argv, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ReadFailed(argv, done.stderr)
    return json.loads(done.stdout) if done.stdout.strip() else None


def absent(error: ReadFailed) -> bool:
    return any(marker in error.stderr for marker in ABSENT)


@dataclass(frozen=True)
class Finding:
    check: str
    state: str  # ok, warn or FAIL
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" -- fix: {self.fix}" if self.fix else ""
        return f"{self.state:<5} {self.check}: {self.detail}{fix}"


@dataclass(frozen=True)
class Stage:
    """What the deploy about to run asks of the account."""

    name: str
    region: str
    account: str
    orchestration: bool
    reserved_concurrency: int | None = None
    ses_identity_arn: str | None = None
    force: bool = False
    templates: Path = stacks.ROOT / "infra"

    @property
    def function(self) -> str:
        return f"{stacks.PROJECT}-{self.name}"

    @property
    def parts(self) -> list[str]:
        return list(stacks.parts(self.orchestration))


def ok(check: str, detail: str) -> Finding:
    return Finding(check, "ok", detail)


def fail(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, "FAIL", detail, fix)


def lambda_concurrency(stage: Stage) -> list[Finding]:
    """The reservation the stage asks for, against what the account can still reserve."""
    check = "lambda concurrency"
    limits = read("lambda", "get-account-settings")["AccountLimit"]
    total, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    try:
        held = read("lambda", "get-function-concurrency", "--function-name", stage.function)
    except ReadFailed as error:
        if not absent(error):
            raise
        held = None
    # The function's own reservation comes back to the pool when it is replaced.
    mine = (held or {}).get("ReservedConcurrentExecutions") or 0
    can_reserve = max(unreserved + mine - UNRESERVED_MINIMUM, 0)
    found = f"account limit {total}, unreserved {unreserved}, {can_reserve} can be reserved"
    wanted = stage.reserved_concurrency
    findings = []
    if wanted is not None and wanted > can_reserve:
        findings.append(
            fail(
                check,
                f"RESERVED_CONCURRENCY={wanted}, but {found} ({UNRESERVED_MINIMUM} stay "
                "unreserved); Zappa would stop after creating the function",
                f"deploy without RESERVED_CONCURRENCY, or raise the quota: {QUOTA_INCREASE}",
            )
        )
    else:
        asked = "no reservation" if wanted is None else f"reserves {wanted}"
        findings.append(ok(check, f"{asked}; {found}"))
    if total < USUAL_CONCURRENCY:
        findings.append(
            Finding(
                "lambda concurrency quota",
                "warn",
                f"{total} concurrent executions (a new account's): the API serves at most "
                f"{total} requests at once, the rest are throttled",
                QUOTA_INCREASE,
            )
        )
    return findings


def ses(stage: Stage) -> list[Finding]:
    """Stages that mail users through SES need an identity and an account out of the sandbox."""
    check = "ses"
    if not stacks.STAGES[stage.name].mails_through_ses and not stage.ses_identity_arn:
        return [ok(check, f"{stage.name} mails through Cognito's own sender, not SES")]
    if not stage.ses_identity_arn:
        return [
            fail(
                check,
                f"{stage.name} mails sign-up and reset codes through SES; no identity given",
                "SES_IDENTITY_ARN=arn:aws:ses:<region>:<account>:identity/<domain> "
                "SES_FROM_ADDRESS=no-reply@<domain> (a verified SES identity)",
            )
        ]
    # The identity's region is where Cognito sends from, so its sandbox is the one that counts.
    _, _, _, region, _, resource = stage.ses_identity_arn.split(":", 5)
    identity = resource.removeprefix("identity/")
    findings = []
    account = read("sesv2", "get-account", "--region", region)
    if not account.get("SendingEnabled", False):
        findings.append(
            fail(
                check,
                f"sending is paused for the account in {region}",
                f"aws sesv2 put-account-sending-attributes --sending-enabled --region {region} "
                "(after the cause in the SES console's reputation page is fixed)",
            )
        )
    if account.get("ProductionAccessEnabled"):
        findings.append(ok(check, f"production access in {region}"))
    else:
        quota = account.get("SendQuota", {})
        findings.append(
            fail(
                check,
                f"the account is in the SES sandbox in {region}: mail reaches only verified "
                f"addresses, {quota.get('Max24HourSend', 200):g} a day",
                SES_PRODUCTION.format(region=region),
            )
        )
    try:
        verified = read(
            "sesv2", "get-email-identity", "--email-identity", identity, "--region", region
        ).get("VerifiedForSendingStatus")
    except ReadFailed as error:
        if not absent(error):
            raise
        verified = None
    if not verified:
        state = "is not verified" if verified is False else "does not exist"
        findings.append(
            fail(
                f"{check} identity",
                f"{identity} {state} in {region}",
                f"aws sesv2 create-email-identity --email-identity {identity} --region {region}, "
                "then publish the DKIM records it returns (or click the mail's link)",
            )
        )
    return findings


def _offered(service: str, check: str, argv: tuple[str, ...], region: str, fix: str) -> Finding:
    try:
        read(*argv)
    except ReadFailed as error:
        if NO_ENDPOINT not in error.stderr:
            raise
        return fail(check, f"{service} answers nowhere in {region}", fix)
    return ok(check, f"{service} answers in {region}")


def services(stage: Stage) -> list[Finding]:
    """What the region must offer: Cognito always, MWAA where orchestration is on."""
    findings = [
        _offered(
            "Cognito user pools",
            "region: cognito",
            ("cognito-idp", "list-user-pools", "--max-results", "1"),
            stage.region,
            "deploy to a region that offers Amazon Cognito (AWS_REGION=…)",
        )
    ]
    if stage.orchestration:
        findings.append(
            _offered(
                "MWAA",
                "region: mwaa",
                ("mwaa", "list-environments"),
                stage.region,
                f"ORCHESTRATION=off (run the DAG with make etl-stage), or a region from "
                f"{MWAA_REGIONS}",
            )
        )
    return findings


def unsettled(stack: str, status: str, after_rollback: str = "make deploy FORCE=1") -> str | None:
    """How to clear a stack `aws cloudformation deploy` cannot update yet; None if it can.

    A first create rolling back ends in ROLLBACK_COMPLETE or ROLLBACK_FAILED, which a plain
    deploy refuses: `after_rollback` is what clears that stack then.
    """
    if status == "UPDATE_ROLLBACK_FAILED":
        return f"aws cloudformation continue-update-rollback --stack-name {stack}"
    if status == "DELETE_FAILED":
        # A stack whose delete failed can only be deleted again (RetainResources is for it).
        return (
            f"aws cloudformation delete-stack --stack-name {stack} (add --retain-resources "
            "with the logical ids its events name if it fails again), then "
            f"aws cloudformation wait stack-delete-complete --stack-name {stack}"
        )
    if status == REVIEW_ONLY or not status.endswith(IN_PROGRESS):
        return None
    waiter = SETTLES.get(status)
    if waiter is None:
        return (
            f"wait until `aws cloudformation describe-stacks --stack-name {stack} --query "
            "Stacks[0].StackStatus` no longer ends in _IN_PROGRESS, then deploy"
        )
    if status == "ROLLBACK_IN_PROGRESS":
        return (
            f"aws cloudformation wait {waiter} --stack-name {stack} (it fails when the "
            f"rollback ends, as expected), then {after_rollback}"
        )
    return f"aws cloudformation wait {waiter} --stack-name {stack}, then deploy"


def leftovers(stage: Stage) -> list[Finding]:
    """Stacks a failed create or update left behind, and kept data under names to be made."""
    check = "leftovers"
    found = blockers.statuses(stage.name)
    failed = blockers.failed_creates(stage.name, stage.parts, found)
    findings = []
    for stack, status in failed.items():
        if stage.force:
            findings.append(ok(check, f"{stack} is {status}; check-stage clears it (FORCE=1)"))
        else:
            findings.append(
                fail(
                    check,
                    f"{stack} is {status} (a failed first create)",
                    f"make deploy STAGE={stage.name} FORCE=1, or the commands `.venv/bin/python "
                    f"-m infra.deploy check-stage --stage {stage.name} --account "
                    f"{stage.account}` prints",
                )
            )
    for stack, status in found.items():
        fix = unsettled(stack, status, f"make deploy STAGE={stage.name} FORCE=1")
        if fix:
            findings.append(fail(check, f"{stack} is {status}", fix))
    absent_parts = [p for p in stage.parts if stacks.stack_name(stage.name, p) not in found]
    kept = blockers.leftovers(
        stage.name, stage.account, stage.region, stage.templates, absent_parts
    )
    for leftover in kept:
        findings.append(
            fail(
                check,
                f"{leftover.kind} {leftover.name} (kept by an earlier destroy) is in the way "
                f"of {leftover.stack}",
                "; ".join(leftover.commands()) + f" ({leftover.note()})",
            )
        )
    if not findings:
        findings.append(ok(check, "no failed stack, no kept data under a name to be created"))
    return findings


def half_created_function(stage: Stage) -> list[Finding]:
    """A function without Zappa's API stack: the deploy undeploys it first (plan.py)."""
    check = "function"
    try:
        read("lambda", "get-function", "--function-name", stage.function)
    except ReadFailed as error:
        if not absent(error):
            raise
        return [ok(check, f"{stage.function} not deployed yet: the deploy creates it")]
    try:
        described = read("cloudformation", "describe-stacks", "--stack-name", stage.function)
    except ReadFailed as error:
        if not absent(error):
            raise
        return [
            Finding(
                check,
                "warn",
                f"{stage.function} exists without its API stack (a first deploy stopped "
                "half-way): the deploy undeploys it, then deploys it whole",
            )
        ]
    status = described["Stacks"][0]["StackStatus"]
    settings = f"build/zappa_settings.{stage.name}.json"
    undeploy = (
        f".venv/bin/python -m infra.deploy zappa-settings --stage {stage.name} && "
        f".venv-package/bin/zappa undeploy {stage.name} -s {settings} --yes, then make deploy"
    )
    # First: mid-rollback, an undeploy would delete a stack CloudFormation is still changing.
    fix = unsettled(stage.function, status, undeploy)
    if fix:  # `zappa update` updates that stack, which CloudFormation refuses until it settles
        return [fail(check, f"{stage.function}'s API stack is {status}", fix)]
    if status.startswith("ROLLBACK_"):
        # Zappa's own create of the API stack failed: `zappa update` cannot update it.
        return [
            fail(
                check,
                f"{stage.function}'s API stack is {status} (Zappa's create of it failed)",
                undeploy,
            )
        ]
    return [ok(check, f"{stage.function} and its API stack exist: the deploy updates them")]


CHECKS: tuple[Callable[[Stage], list[Finding]], ...] = (
    lambda_concurrency,
    ses,
    services,
    half_created_function,
    leftovers,
)


def run(stage: Stage) -> list[Finding]:
    """Every check, in order; a read that fails unexpectedly is that check's FAIL line."""
    findings = [ok("credentials", f"account {stage.account} in {stage.region}")]
    for check in CHECKS:
        try:
            findings += check(stage)
        except (ReadFailed, CommandFailed, LookupError) as error:
            name = check.__name__.replace("_", " ")
            findings.append(fail(name, str(error), "fix the access it names, then run it again"))
    return findings
