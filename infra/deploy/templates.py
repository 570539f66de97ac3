"""What the deploy reads from a template: its buckets, what it keeps, its parameters and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.cfn import load_template

RETAINED = {"Retain", "RetainExceptOnCreate", "Snapshot"}


def resources(template: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load_template(template).get("Resources", {})
    return found


def retained(resource: dict[str, Any]) -> bool:
    return resource.get("DeletionPolicy") in RETAINED


def owned_buckets(template: Path) -> list[str]:
    """Logical ids of the buckets deleting the stack deletes; they must be empty first."""
    return [
        logical_id
        for logical_id, resource in resources(template).items()
        if resource["Type"] == "AWS::S3::Bucket" and not retained(resource)
    ]


def parameters(template: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load_template(template).get("Parameters") or {}
    return found


def owns_lambda_log_group(template: Path) -> bool:
    """Whether the template declares a Lambda log group (then deleting its stack removes it)."""
    for resource in resources(template).values():
        if resource["Type"] == "AWS::Logs::LogGroup":
            name = resource.get("Properties", {}).get("LogGroupName")
            if "/aws/lambda/" in str(getattr(name, "value", name)):
                return True
    return False
