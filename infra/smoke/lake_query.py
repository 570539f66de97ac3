"""Run one of the analysts' named queries (infra/analytics.yaml) in the stage's lake.

The SQL is the template's, the same text CloudFormation saves in the workgroup. Athena runs
it in the analysts' workgroup, waited for within a bound; locally DuckDB runs it over the
local lake (ADR 0020: the queries are portable between the two).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import boto3
import botocore.exceptions
import duckdb

from etl.query import connect_lake
from infra.cfn import load_template
from infra.smoke.absent import Missing
from infra.smoke.results import Result, fail, first_line, ok

TEMPLATE = Path(__file__).resolve().parents[1] / "analytics.yaml"
# One day of a small gold table: cheap on any stage, and it names no user.
DEFAULT_QUERY = "tag_popularity"
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


def named_queries(template: Path = TEMPLATE) -> dict[str, str]:
    """Name → SQL of every AWS::Athena::NamedQuery in the template."""
    resources = load_template(template)["Resources"].values()
    return {
        r["Properties"]["Name"]: r["Properties"]["QueryString"]
        for r in resources
        if r["Type"] == "AWS::Athena::NamedQuery"
    }


@dataclass(frozen=True)
class Outcome:
    state: str
    detail: str

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


class QueryEngine(Protocol):
    @property
    def where(self) -> str: ...

    def run(self, sql: str, timeout: float) -> Outcome: ...


@dataclass(frozen=True)
class AthenaQueries:
    workgroup: str
    database: str
    poll_seconds: float = 1.0

    @property
    def where(self) -> str:
        return f"Athena workgroup {self.workgroup}"

    def run(self, sql: str, timeout: float) -> Outcome:
        athena = boto3.client("athena")
        query_id = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.database},
            WorkGroup=self.workgroup,
        )["QueryExecutionId"]
        deadline = time.monotonic() + timeout
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            state = execution["Status"]["State"]
            if state in FINISHED:
                break
            if time.monotonic() > deadline:
                # A smoke check must not leave a query scanning after it gave up.
                athena.stop_query_execution(QueryExecutionId=query_id)
                return Outcome(state, f"still {state} after {timeout:g} s, stopped ({query_id})")
            time.sleep(self.poll_seconds)
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes", 0)
        reason = execution["Status"].get("StateChangeReason")
        detail = f"{scanned:,} bytes scanned ({query_id})" + (f": {reason}" if reason else "")
        return Outcome(state, detail)


@dataclass(frozen=True)
class DuckDBQueries:
    lake_root: str

    @property
    def where(self) -> str:
        return f"DuckDB over {self.lake_root}"

    # Unbounded: DuckDB reads the local lake in this process, there is no service to wait on.
    def run(self, sql: str, timeout: float) -> Outcome:  # noqa: ARG002
        rows = connect_lake(self.lake_root).execute(sql).fetchall()
        return Outcome("SUCCEEDED", f"{len(rows)} rows (DuckDB reports no bytes scanned)")


def run_named_query(engine: QueryEngine | Missing, name: str, timeout: float) -> Result:
    if isinstance(engine, Missing):
        return fail("query", engine.reason)
    sql = named_queries()[name]
    try:
        outcome = engine.run(sql, timeout)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return fail("query", f"{name} in {engine.where}: {first_line(error)}")
    except (duckdb.Error, OSError) as error:
        return fail("query", f"{name} in {engine.where}: {first_line(error)}")
    detail = f"{name} in {engine.where}: {outcome.state}, {outcome.detail}"
    return ok("query", detail) if outcome.succeeded else fail("query", detail)
