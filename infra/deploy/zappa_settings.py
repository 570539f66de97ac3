"""Write build/zappa_settings.<stage>.json: zappa_settings.json with what the stacks made.

zappa_settings.json keeps what is ours to choose (runtime, memory, exclusions…); everything a
stack creates (role, tables, pool, secret, key, bucket) comes from its exports, and the tags
from the api stack, so no value is typed twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from infra.deploy import stacks
from infra.deploy.outputs import Stacks
from infra.deploy.stacks import ROOT, StageSettings

SOURCE = ROOT / "zappa_settings.json"

# Which stack exports what the function needs (names from plan/contract.md).
EXPORTS = {
    "keys": ("kms-key-arn",),
    "data": (
        "tasks-table",
        "users-table",
        "idempotency-table",
        "revoked-tokens-table",
        "rate-limits-table",
    ),
    "identity": ("user-pool-id", "user-pool-client-id"),
    "api": ("api-role-arn", "cursor-secret-arn", "artifacts-bucket"),
}
# The function's environment variable ← the export it holds.
ENVIRONMENT = {
    "TASKS_TABLE": "tasks-table",
    "USERS_TABLE": "users-table",
    "IDEMPOTENCY_TABLE": "idempotency-table",
    "REVOKED_TOKENS_TABLE": "revoked-tokens-table",
    "RATE_LIMITS_TABLE": "rate-limits-table",
    "COGNITO_USER_POOL_ID": "user-pool-id",
    "COGNITO_CLIENT_ID": "user-pool-client-id",
    # The API reads the signing key from Secrets Manager; the key itself never reaches Lambda.
    "CURSOR_SECRET_ARN": "cursor-secret-arn",
}


def source_settings(stage: str, source: Path = SOURCE) -> dict[str, Any]:
    """The stage's block of zappa_settings.json with `extends` applied, as Zappa applies it."""
    every: dict[str, Any] = json.loads(source.read_text())
    settings = dict(every[stage])
    while "extends" in settings:
        parent = settings.pop("extends")
        settings = {**every[parent], **settings}
    return settings


def read_exports(stage: str, reader: Stacks) -> dict[str, str]:
    """The exports the function needs, keyed by their short name (`tasks-table`)."""
    found = {}
    for part, names in EXPORTS.items():
        for name in names:
            found[name] = reader.export(
                stacks.stack_name(stage, part), stacks.export_name(stage, name)
            )
    return found


def derive(
    stage: str,
    region: str,
    exports: Mapping[str, str],
    tags: Mapping[str, str],
    *,
    limits: StageSettings | None = None,
    touch: bool = True,
    source: Path = SOURCE,
) -> dict[str, Any]:
    settings = source_settings(stage, source)
    limits = limits or stacks.STAGES[stage]
    environment = dict(settings.get("aws_environment_variables", {}))
    environment.pop("CURSOR_SECRET", None)
    environment["STAGE"] = stage
    environment.update({variable: exports[name] for variable, name in ENVIRONMENT.items()})
    settings.update(
        aws_region=region,
        role_arn=exports["api-role-arn"],
        s3_bucket=exports["artifacts-bucket"],
        # The function's environment is encrypted with our key, not Lambda's default one.
        aws_kms_key_arn=exports["kms-key-arn"],
        aws_environment_variables=environment,
        tags=dict(tags),
    )
    if limits.reserved_concurrency is not None:
        settings["lambda_concurrency"] = limits.reserved_concurrency
    if limits.provisioned_concurrency is not None:
        settings["provisioned_concurrency"] = limits.provisioned_concurrency
    if limits.snap_start:
        # Zappa points API Gateway at its `snapstart` alias of each published version, and
        # builds the app while the module loads, so the snapshot holds a ready app rather
        # than only Zappa's handler. Nothing unique or secret is made at load (ADR 0009).
        settings["snap_start"] = "PublishedVersions"
        environment["INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"] = "true"
    if not touch:
        settings["touch"] = False
    return settings


def write(stage: str, settings: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({stage: settings}, indent=4) + "\n")
    return path


def write_from_stacks(
    stage: str,
    region: str,
    path: Path,
    *,
    touch: bool = True,
    reserved_concurrency: int | None = None,
) -> Path:
    """`reserved_concurrency` (RESERVED_CONCURRENCY) overrides the stage's, None keeps it."""
    reader = Stacks()
    tags = reader.tags(stacks.stack_name(stage, "api"))
    limits = stacks.STAGES[stage]
    if reserved_concurrency is not None:
        limits = replace(limits, reserved_concurrency=reserved_concurrency)
    exports = read_exports(stage, reader)
    settings = derive(stage, region, exports, tags, limits=limits, touch=touch)
    return write(stage, settings, path)
