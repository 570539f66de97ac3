"""What stops a stage's stacks from being created, found before the first stack is deployed.

Things moto never enforces and CloudFormation always does:
- a stack whose first create rolled back (ROLLBACK_COMPLETE) can only be deleted, not updated,
  so `aws cloudformation deploy` fails on it until it is gone;
- in prod that rollback itself fails (ROLLBACK_FAILED): RetainExceptOnCreate deletes what the
  failed create made, but the tables and the user pool have deletion protection on and refuse.
  What is left was made by that create and holds nothing yet: it is removed (protection off,
  then deleted) and the stack deleted after it;
- `destroy` keeps the data (DeletionPolicy RetainExceptOnCreate), and tables, buckets and the
  Glue database have fixed names, so re-creating their stack fails with "already exists".

The first two are fixed by the commands printed (with --force, the deploy runs them). The last
is refused with the commands that remove what is in the way (ADR 0010: why not import it).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.cfn import Tag
from infra.deploy import stacks
from infra.deploy.outputs import CommandFailed, aws_executable, aws_json
from infra.deploy.retained import DELETE_COMMANDS, PYTHON
from infra.deploy.templates import parameters, resources, retained

ROLLED_BACK = "ROLLBACK_COMPLETE"
ROLLBACK_FAILED = "ROLLBACK_FAILED"
WHY = {
    ROLLED_BACK: "a first create failed and rolled back; CloudFormation can only delete such a "
    "stack. Delete it and deploy again:",
    ROLLBACK_FAILED: "a first create failed and its rollback could not delete what it made "
    "(deletion protection refuses). Made by that create, it holds no data yet. Remove what is "
    "left, then the stack, and deploy again:",
}


class Blocked(RuntimeError):
    """The stage cannot be created as it is; the message says what to run."""


# Per type: where the template names the resource, and the read that fails when it is absent.
NAMED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "AWS::DynamoDB::Table": (("TableName",), ("dynamodb", "describe-table", "--table-name")),
    "AWS::S3::Bucket": (("BucketName",), ("s3api", "head-bucket", "--bucket")),
    "AWS::Glue::Database": (("DatabaseInput", "Name"), ("glue", "get-database", "--name")),
}
# What each service's error says when the named thing is not there.
ABSENT = ("ResourceNotFoundException", "EntityNotFoundException", "Not Found", "NoSuchBucket")


@dataclass(frozen=True)
class Leftover:
    """A resource an earlier destroy kept, under the name the stack's create would use."""

    stack: str
    logical_id: str
    kind: str
    name: str

    def commands(self) -> list[str]:
        prefixes, _ = DELETE_COMMANDS[self.kind]
        return [prefix + self.name for prefix in prefixes]

    def note(self) -> str:
        return DELETE_COMMANDS[self.kind][1]


def statuses(stage: str) -> dict[str, str]:
    """The status of every stack of the stage that exists, by stack name (one call)."""
    prefix = stacks.stack_name(stage, "")
    found = aws_json(
        "cloudformation",
        "describe-stacks",
        "--query",
        f"Stacks[?starts_with(StackName, '{prefix}')].[StackName, StackStatus]",
    )
    return dict(found or [])


def delete_commands(stack: str) -> list[list[str]]:
    return [
        ["aws", "cloudformation", "delete-stack", "--stack-name", stack],
        ["aws", "cloudformation", "wait", "stack-delete-complete", "--stack-name", stack],
    ]


def left_by_rollback(stack: str) -> list[Leftover]:
    """What a failed rollback could not delete: still there, under its physical id."""
    found = aws_json("cloudformation", "describe-stack-resources", "--stack-name", stack)
    return [
        Leftover(stack, r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
        for r in found["StackResources"]
        if r.get("PhysicalResourceId") and r["ResourceStatus"] != "DELETE_COMPLETE"
    ]


def clearing_commands(stack: str, status: str) -> list[list[str]]:
    """The commands that clear a stack a failed first create left behind, in order."""
    commands = []
    if status == ROLLBACK_FAILED:
        for leftover in left_by_rollback(stack):
            if leftover.kind in DELETE_COMMANDS:
                commands += [shlex.split(command) for command in leftover.commands()]
    return commands + delete_commands(stack)


def run_printed(command: list[str]) -> None:
    """Run one command of a refusal, printed first, as an operator would type it."""
    print(f"    $ {shlex.join(command)}", flush=True)
    program = {"aws": aws_executable(), PYTHON: sys.executable}
    done = subprocess.run(  # noqa: S603 (our fixed commands)
        [program.get(command[0], command[0]), *command[1:]],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CommandFailed(command, done.returncode, done.stderr)


def _resolve(value: Any, names: dict[str, str]) -> str | None:
    """A name as the template writes it (text, `!Sub`, `!Ref`); None where it needs more."""
    if isinstance(value, str):
        return value
    if isinstance(value, Tag) and value.name == "Ref":
        return names.get(value.value)
    if isinstance(value, Tag) and value.name == "Sub" and isinstance(value.value, str):
        text = value.value
        for key, replacement in names.items():
            text = text.replace("${" + key + "}", replacement)
        return None if "${" in text else text
    return None


def _named(resource: dict[str, Any], names: dict[str, str]) -> str | None:
    path, _ = NAMED[resource["Type"]]
    value: Any = resource.get("Properties", {})
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return _resolve(value, names)


def _exists(kind: str, name: str) -> bool:
    _, read = NAMED[kind]
    command = [aws_executable(), *read, name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode == 0:
        return True
    if any(marker in done.stderr for marker in ABSENT):
        return False
    # A bucket name taken by another account answers 403: in the way all the same.
    if kind == "AWS::S3::Bucket" and "Forbidden" in done.stderr:
        return True
    raise CommandFailed(["aws", *read, name], done.returncode, done.stderr)


def leftovers(
    stage: str, account: str, region: str, templates: Path, parts: Iterable[str]
) -> list[Leftover]:
    """Retained, fixed-name resources of `parts` (stacks about to be created) that exist."""
    found = []
    for part in parts:
        template = stacks.template_path(part, templates)
        names = {
            key: str(declared["Default"])
            for key, declared in parameters(template).items()
            if "Default" in declared
        }
        names.update(
            stacks.tags(stage),
            LakeBucketName=stacks.lake_bucket_name(stage, account),
            **{"AWS::AccountId": account, "AWS::Region": region},
        )
        for logical_id, resource in resources(template).items():
            if resource["Type"] not in NAMED or not retained(resource):
                continue
            name = _named(resource, names)
            if name and _exists(resource["Type"], name):
                stack = stacks.stack_name(stage, part)
                found.append(Leftover(stack, logical_id, resource["Type"], name))
    return found


def describe(failed: dict[str, str], kept: list[Leftover], stage: str) -> str:
    """The refusal: what is in the way, and the exact commands that clear it."""
    lines = []
    for stack, status in failed.items():
        lines.append(f"{stack}: {status} ({WHY[status]}")
        lines += [f"    $ {shlex.join(c)}" for c in clearing_commands(stack, status)]
    if failed:
        lines.append(f"  or let the deploy do it: make deploy STAGE={stage} FORCE=1")
    if kept:
        lines.append(
            "kept by an earlier destroy under the names this deploy would create (their stacks "
            "are gone). Back up what you need, remove them, then deploy again:"
        )
        for leftover in kept:
            lines.append(f"  - {leftover.stack} {leftover.logical_id}: {leftover.name}")
            lines.append(f"    ({leftover.note()})")
            lines += [f"    $ {command}" for command in leftover.commands()]
    return "\n".join(lines)


def failed_creates(stage: str, parts: Iterable[str], found: dict[str, str]) -> dict[str, str]:
    """The stage's stacks a failed first create left behind, with their status."""
    names = [stacks.stack_name(stage, part) for part in parts]
    return {n: found[n] for n in names if found.get(n) in (ROLLED_BACK, ROLLBACK_FAILED)}


def check(
    stage: str, account: str, region: str, templates: Path, parts: list[str], *, force: bool
) -> None:
    """Clear what a deploy may clear (with `force`), refuse the rest; raises Blocked."""
    found = statuses(stage)
    failed = failed_creates(stage, parts, found)
    if failed and force:
        for stack, status in failed.items():
            print(f"{stack} is {status}: deleting it (--force)", flush=True)
            for command in clearing_commands(stack, status):
                run_printed(command)
            found.pop(stack)
        failed = {}
    absent = [part for part in parts if stacks.stack_name(stage, part) not in found]
    kept = leftovers(stage, account, region, templates, absent)
    if failed or kept:
        raise Blocked(describe(failed, kept, stage))
    print(f"nothing in the way of {', '.join(stacks.stack_name(stage, p) for p in parts)}")
