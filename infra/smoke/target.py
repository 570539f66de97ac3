"""Where the stage under test is: its API, user pool, monitoring, MWAA environment and lake.

Two sources, one shape. A deployed stage is read from its stacks' exports (the contract of
infra/deploy/stacks.py) and API Gateway; the local stack (`make run`) from the environment it
wrote to `.local/stack.json`, whose endpoint variables then route every AWS call to the local
engines. A part a stage lacks on purpose is `Off`; a part it should have and does not is
`Missing`, which fails the check that needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple

import boto3

from infra.deploy import preflight
from infra.deploy.exports import stage_exports
from infra.deploy.stacks import PROJECT, stack_name
from infra.local import stack as local_stack
from infra.smoke.absent import Missing, Off
from infra.smoke.lake_query import AthenaQueries, DuckDBQueries, QueryEngine

DEFAULT_LOCAL_API_URL = "http://127.0.0.1:5000"


class Export(NamedTuple):
    """An export of the stacks' contract: `<project>-<stage>-<name>` from infra/<part>.yaml."""

    part: str
    name: str


USER_POOL = Export("identity", "user-pool-id")
DASHBOARD = Export("monitoring", "dashboard-name")
MWAA_ENVIRONMENT = Export("orchestration", "mwaa-environment-name")
WORKGROUP = Export("analytics", "athena-workgroup")
DATABASE = Export("analytics", "glue-database")
READS = (USER_POOL, DASHBOARD, MWAA_ENVIRONMENT, WORKGROUP, DATABASE)


class TargetError(RuntimeError):
    """The stage cannot be smoke-tested at all; the message says what is missing."""


@dataclass(frozen=True)
class Monitoring:
    dashboard: str
    alarm_prefix: str


@dataclass(frozen=True)
class Target:
    stage: str
    api_url: str
    user_pool_id: str
    monitoring: Monitoring | Off | Missing
    mwaa_environment: str | Off
    lake: QueryEngine | Missing


def deployed_api_url(stage: str, region: str) -> str:
    """The URL `make deploy` prints: the stage of the REST API Zappa named after the function."""
    function = f"{PROJECT}-{stage}"
    pages = boto3.client("apigateway").get_paginator("get_rest_apis").paginate()
    for page in pages:
        for api in page["items"]:
            if api["name"] == function:
                return f"https://{api['id']}.execute-api.{region}.amazonaws.com/{stage}"
    raise TargetError(f"no REST API named {function}: has `make deploy STAGE={stage}` run?")


def _absent(stage: str, export: Export) -> str:
    return f"{stack_name(stage, export.part)} exports no {export.name}"


def from_stacks(stage: str, api_url: str | None = None) -> Target:
    region = preflight.check()
    exports = stage_exports(stage)
    if USER_POOL.name not in exports:
        raise TargetError(f"{_absent(stage, USER_POOL)}: is stage {stage} deployed?")
    monitoring: Monitoring | Missing = Missing(_absent(stage, DASHBOARD))
    if DASHBOARD.name in exports:
        monitoring = Monitoring(exports[DASHBOARD.name], alarm_prefix(stage))
    # Orchestration is off for a stage when it has no MWAA environment to name.
    mwaa: str | Off = exports.get(MWAA_ENVIRONMENT.name) or Off(
        f"orchestration is off for {stage}: {_absent(stage, MWAA_ENVIRONMENT)}"
    )
    unexported = [_absent(stage, e) for e in (WORKGROUP, DATABASE) if e.name not in exports]
    lake: QueryEngine | Missing = Missing("; ".join(unexported))
    if not unexported:
        lake = AthenaQueries(exports[WORKGROUP.name], exports[DATABASE.name])
    return Target(
        stage=stage,
        api_url=api_url or deployed_api_url(stage, region),
        user_pool_id=exports[USER_POOL.name],
        monitoring=monitoring,
        mwaa_environment=mwaa,
        lake=lake,
    )


def alarm_prefix(stage: str) -> str:
    """Every alarm of infra/monitoring.yaml is named `<project>-<stage>-…`."""
    return f"{PROJECT}-{stage}-"


def from_local_stack(api_url: str | None = None) -> Target:
    """The running `make run` stack; its environment routes the AWS calls to the local engines."""
    try:
        environment = local_stack.load_running_environment()
    except local_stack.StackError as error:
        raise TargetError(str(error)) from None
    os.environ.update(environment)
    preflight.check()
    return Target(
        stage="local",
        api_url=api_url or DEFAULT_LOCAL_API_URL,
        user_pool_id=environment["COGNITO_USER_POOL_ID"],
        monitoring=Off("the local stack has no monitoring stack (no dashboard, no alarms)"),
        mwaa_environment=Off(
            "orchestration is local: `make etl` runs the DAG once, `make airflow` on schedule"
        ),
        lake=DuckDBQueries(os.environ.get("LAKE_ROOT", str(local_stack.STATE / "lake"))),
    )
