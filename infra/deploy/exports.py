"""A deployed stage's CloudFormation exports, read through boto3 by the tools run after a deploy.

`make smoke` and `make etl-stage` find a stage's resources here: the exports are the stacks'
contract (infra/deploy/stacks.py names them), so no tool guesses a name from the stage.
"""

from __future__ import annotations

import boto3

from infra.deploy.stacks import PROJECT


def stage_exports(stage: str) -> dict[str, str]:
    """The stage's exports by short name (`user-pool-id`), as the stacks published them."""
    prefix = f"{PROJECT}-{stage}-"
    found: dict[str, str] = {}
    pages = boto3.client("cloudformation").get_paginator("list_exports").paginate()
    for page in pages:
        for export in page["Exports"]:
            # An export without a value (moto lists those of resources it did not create)
            # counts as not exported, so whatever needs it says so.
            if export["Name"].startswith(prefix) and export.get("Value"):
                found[export["Name"].removeprefix(prefix)] = export["Value"]
    return found
