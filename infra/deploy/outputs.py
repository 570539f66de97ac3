"""Read what a deployed stack exported, its tags and its resources, through the AWS CLI.

The AWS CLI and not boto3: the steps run through the CLI, so reading through it too means one
resolution of credentials, profile, region and endpoint (AWS_ENDPOINT_URL for moto) for
everything the deploy does, and a read that fails here fails the same way by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


class NotFound(LookupError):
    """The stack or bucket does not exist (never deployed, or already deleted)."""


class CommandFailed(RuntimeError):
    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"`{' '.join(argv)}` exited with code {returncode}: {stderr.strip()}")
        self.returncode = returncode


def aws_executable() -> str:
    """The AWS CLI of this virtualenv (the dev tools), else the one on PATH."""
    beside = Path(sys.executable).parent / "aws"
    return str(beside) if beside.exists() else shutil.which("aws") or "aws"


def aws_json(*argv: str) -> Any:
    command = [aws_executable(), *argv, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        if "does not exist" in done.stderr:
            raise NotFound(done.stderr.strip())
        raise CommandFailed(["aws", *argv], done.returncode, done.stderr)
    return json.loads(done.stdout) if done.stdout.strip() else None


class Stacks:
    """Each stack described once per run; `forget` after a step changes it."""

    def __init__(self) -> None:
        self._described: dict[str, dict[str, Any]] = {}
        self._resources: dict[str, dict[str, str]] = {}

    def describe(self, stack: str) -> dict[str, Any]:
        if stack not in self._described:
            found = aws_json("cloudformation", "describe-stacks", "--stack-name", stack)
            self._described[stack] = found["Stacks"][0]
        return self._described[stack]

    def exports(self, stack: str) -> dict[str, str]:
        outputs = self.describe(stack).get("Outputs") or []
        return {o["ExportName"]: o["OutputValue"] for o in outputs if o.get("ExportName")}

    def export(self, stack: str, name: str) -> str:
        exports = self.exports(stack)
        if name not in exports:
            known = ", ".join(sorted(exports)) or "none"
            raise LookupError(f"{stack} exports no {name} (it exports: {known})")
        return exports[name]

    def tags(self, stack: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.describe(stack).get("Tags") or []}

    def resource(self, stack: str, logical_id: str) -> str:
        if stack not in self._resources:
            found = aws_json("cloudformation", "describe-stack-resources", "--stack-name", stack)
            self._resources[stack] = {
                r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
                for r in found["StackResources"]
            }
        if logical_id not in self._resources[stack]:
            raise LookupError(f"{stack} has no resource {logical_id}")
        return self._resources[stack][logical_id]

    def forget(self, stack: str) -> None:
        self._described.pop(stack, None)
        self._resources.pop(stack, None)
