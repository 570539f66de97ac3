"""The stacks in deploy order, and what each stage passes to them (docs: plan/contract.md).

Everything a template needs from another stack it imports itself (`!ImportValue`); the deploy
passes only what differs per stage and what no stack can know (the requirements' S3 version).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "tasklake"
OWNER = "tasklake-team"

# Dependency order: each stack imports only from stacks before it.
PARTS = ("keys", "data", "identity", "analytics", "network", "orchestration", "api", "monitoring")
# MWAA and the NAT gateway its private subnets need: about 395 USD a month whatever the traffic
# (ADR 0007; each stage's whole bill: docs/costs.md). A stage without them runs the DAG with
# `make etl` instead.
ORCHESTRATION_PARTS = ("network", "orchestration")


@dataclass(frozen=True)
class StageSettings:
    """What the deploy sets per stage outside the templates."""

    # API Gateway stage throttling (steady requests per second, burst); API Gateway answers
    # 429 above it before a Lambda runs, so a flood cannot reach DynamoDB.
    throttle_rate: float
    throttle_burst: int
    # Reserved concurrency caps the function; None leaves it in the account's shared pool.
    # None in every stage: Lambda keeps 100 unreserved, so a new account (10 in total) can
    # reserve nothing, and Zappa reserves after creating the function, so a refusal leaves it
    # half-made. API Gateway's throttling caps the load instead; RESERVED_CONCURRENCY=N sets
    # one where `make preflight` says the account can give it.
    reserved_concurrency: int | None = None
    # Warm containers kept ready; billed around the clock whether used or not (ADR 0009).
    provisioned_concurrency: int | None = None
    # SnapStart: new containers resume from a snapshot of one whose app is already built
    # (ADR 0009). Lambda refuses it together with provisioned concurrency.
    snap_start: bool = False
    # Whether the stage deploys ORCHESTRATION_PARTS and the DAG; `--orchestration on|off`
    # (make deploy ORCHESTRATION=…) overrides it for one deploy.
    orchestration: bool = True
    # Whether Cognito mails codes through our SES identity (identity.yaml requires one
    # outside dev); dev uses Cognito's own sender, 50 mails a day.
    mails_through_ses: bool = True


STAGES = {
    "dev": StageSettings(
        throttle_rate=20, throttle_burst=40, orchestration=False, mails_through_ses=False
    ),
    "staging": StageSettings(throttle_rate=50, throttle_burst=100),
    "prod": StageSettings(throttle_rate=200, throttle_burst=400, snap_start=True),
}


def parts(orchestration: bool) -> tuple[str, ...]:
    """The stacks a stage deploys, in order."""
    return tuple(p for p in PARTS if orchestration or p not in ORCHESTRATION_PARTS)


def stack_name(stage: str, part: str) -> str:
    return f"{PROJECT}-{stage}-{part}"


def export_name(stage: str, name: str) -> str:
    """An export of the contract, e.g. `tasklake-dev-tasks-table`."""
    return f"{PROJECT}-{stage}-{name}"


def lake_bucket_name(stage: str, account: str) -> str:
    """Bucket names are global; the account id keeps the stage's lake name ours."""
    return f"{PROJECT}-{stage}-lake-{account}"


def template_path(part: str, templates: Path = ROOT / "infra") -> Path:
    return templates / f"{part}.yaml"


def tags(stage: str) -> dict[str, str]:
    """The four tags on every stack (CloudFormation copies them on) and on the function."""
    return {
        "Project": PROJECT,
        "Owner": OWNER,
        "Environment": stage,
        "CostCenter": f"{PROJECT}-{stage}",
    }
