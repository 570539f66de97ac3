"""What `destroy` leaves behind on purpose, and the commands that remove it too.

Data outlives its stack (DeletionPolicy Retain): tables, the user pool, the Glue catalog, the
lake. A KMS key is never deleted at once: CloudFormation schedules it (7 to 30 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.deploy.steps import Arg, Captured, Part, Resource, arg
from infra.deploy.templates import resources, retained

PYTHON = ".venv/bin/python"


@dataclass(frozen=True)
class Kept:
    what: str
    name: Arg
    commands: tuple[Arg, ...]
    note: str = ""


# Per type: the commands (each with the resource's name appended) and what to know first.
DELETE_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "AWS::DynamoDB::Table": (
        (
            "aws dynamodb update-table --no-deletion-protection-enabled --table-name ",
            "aws dynamodb delete-table --table-name ",
        ),
        "export or back it up first: the delete is final",
    ),
    "AWS::Cognito::UserPool": (
        (
            # Prod's pool refuses deletion while its deletion protection is on. The update
            # also resets the settings it omits, which matters not: the delete follows.
            "aws cognito-idp update-user-pool --deletion-protection INACTIVE --user-pool-id ",
            "aws cognito-idp delete-user-pool --user-pool-id ",
        ),
        "every account goes with it",
    ),
    "AWS::Glue::Database": (
        ("aws glue delete-database --name ",),
        "its tables and partitions go with it",
    ),
    "AWS::S3::Bucket": (
        (f"{PYTHON} -m infra.deploy empty-bucket ", "aws s3api delete-bucket --bucket "),
        "every version of every object goes",
    ),
    "AWS::KMS::Key": (
        ("aws kms schedule-key-deletion --pending-window-in-days 7 --key-id ",),
        "data encrypted with it becomes unreadable once it is deleted",
    ),
    "AWS::Logs::LogGroup": (("aws logs delete-log-group --log-group-name ",), ""),
}


def _commands(kind: str, name: Part | Arg) -> tuple[tuple[Arg, ...], str]:
    """The commands that delete one retained resource of a type, and what to know first."""
    n = name if isinstance(name, tuple) else arg(name)
    generic = (f"aws cloudcontrol delete-resource --type-name {kind} --identifier ",)
    prefixes, note = DELETE_COMMANDS.get(kind, (generic, ""))
    return tuple(arg(prefix, *n) for prefix in prefixes), note


def kept_resources(stack: str, template: Path) -> list[Kept]:
    kept = []
    for logical_id, resource in resources(template).items():
        kind = resource["Type"]
        name = Resource(stack, logical_id)
        if retained(resource):
            commands, note = _commands(kind, name)
            policy = resource["DeletionPolicy"]
            kept.append(
                Kept(f"{kind} {logical_id} (DeletionPolicy {policy})", arg(name), commands, note)
            )
        elif kind == "AWS::KMS::Key":
            days = resource.get("Properties", {}).get("PendingWindowInDays", 30)
            kept.append(
                Kept(
                    f"{kind} {logical_id}: pending deletion for {days} days",
                    arg(name),
                    (arg("aws kms cancel-key-deletion --key-id ", name),),
                    "deleted when the window ends; the command above keeps it instead",
                )
            )
    return kept


def kept_by_zappa(function: str, stage: str, *, lambda_logs_owned: bool) -> list[Kept]:
    """Log groups Lambda and API Gateway create on first use, unless a stack owns them."""
    lambda_logs = f"/aws/lambda/{function}"
    execution_logs = arg("API-Gateway-Execution-Logs_", Captured("rest-api-id"), f"/{stage}")
    kept = [
        Kept(
            "API Gateway's execution log group",
            execution_logs,
            _commands("AWS::Logs::LogGroup", execution_logs)[0],
        )
    ]
    if not lambda_logs_owned:
        commands = _commands("AWS::Logs::LogGroup", lambda_logs)[0]
        kept.insert(0, Kept("the function's log group", arg(lambda_logs), commands))
    return kept
