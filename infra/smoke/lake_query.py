"""Run one of the analysts' named queries (infra/analytics.yaml) in the stage's lake.

The SQL is the template's, the same text CloudFormation saves in the workgroup. Athena runs
it in the analysts' workgroup, waited for within a bound; locally DuckDB runs it over the
local lake (ADR 0020: the queries are portable between the two).

Also checks each `<table>_latest`: it serves the newest published day and that day has rows.
A stage with no published day yet (a fresh `make run` before `make etl`, a new stage before
its first run) says so instead of failing on a table that is not there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import boto3
import botocore.exceptions
import duckdb

from etl.publish import newest_published_day, published_location
from etl.query import connect_lake, partition_files
from etl.schemas import EMPTY_DAY_TABLES, LATEST_TABLES
from infra.cfn import load_template
from infra.smoke.absent import Missing
from infra.smoke.results import Result, fail, first_line, off, ok

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
    query_id: str = ""

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


@dataclass(frozen=True)
class LatestState:
    """What `<table>_latest` serves: None for `newest_day` when the table has no published day."""

    latest: str
    newest_day: date | None
    serves_newest: bool
    rows: int


NO_PUBLISHED_DAY = "no published day yet: the lake fills with the first run (`make etl` locally)"


class QueryEngine(Protocol):
    @property
    def where(self) -> str: ...

    def run(self, sql: str, timeout: float) -> Outcome: ...

    def latest(self, timeout: float) -> list[LatestState]: ...


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
        return Outcome(state, detail, query_id)

    def _count(self, table: str, timeout: float) -> int:
        outcome = self.run(f"SELECT count(*) FROM {table}", timeout)  # noqa: S608 (our names)
        if not outcome.succeeded:
            raise RuntimeError(f"counting {table}: {outcome.state}, {outcome.detail}")
        rows = boto3.client("athena").get_query_results(QueryExecutionId=outcome.query_id)
        data = rows["ResultSet"]["Rows"]
        # The first row is the header; a count returns one more.
        return int(data[1]["Data"][0]["VarCharValue"]) if len(data) > 1 else 0

    def latest(self, timeout: float) -> list[LatestState]:
        """From the Glue catalog: the newest partition's folder against `_latest`'s location."""
        glue = boto3.client("glue")
        states = []
        for latest, table in sorted(LATEST_TABLES.items()):
            newest = newest_published_day(glue, self.database, table)
            if newest is None:
                states.append(LatestState(latest, None, False, 0))
                continue
            served = glue.get_table(DatabaseName=self.database, Name=latest)["Table"]
            location = served["StorageDescriptor"]["Location"]
            expected = published_location(glue, self.database, table, newest)
            serves_newest = location.rstrip("/") == expected.rstrip("/")
            states.append(LatestState(latest, newest, serves_newest, self._count(latest, timeout)))
        return states


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

    # Unbounded as `run` is.
    def latest(self, timeout: float) -> list[LatestState]:  # noqa: ARG002
        """The local `_latest` views are built from the newest partition's files (etl/query.py):
        what is checked here is that the newest day exists and has rows."""
        connection = connect_lake(self.lake_root)
        states = []
        for latest, table in sorted(LATEST_TABLES.items()):
            files = partition_files(connection, self.lake_root, table)
            if not files:
                states.append(LatestState(latest, None, False, 0))
                continue
            newest = max(_day_of(file) for file in files)
            # A name from LATEST_TABLES, not input.
            sql = f"SELECT count(*) FROM {latest}"  # noqa: S608
            (count,) = connection.execute(sql).fetchone() or (0,)
            states.append(LatestState(latest, newest, True, int(count)))
        return states


def _day_of(file: str) -> date:
    parts = dict(part.split("=", 1) for part in file.split("/") if "=" in part)
    return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))


def check_latest(engine: QueryEngine | Missing, timeout: float) -> Result:
    """Each `<table>_latest` serves its table's newest published day, and that day has rows
    (unless its table is one of EMPTY_DAY_TABLES)."""
    if isinstance(engine, Missing):
        return fail("latest", engine.reason)
    try:
        states = engine.latest(timeout)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return fail("latest", f"in {engine.where}: {first_line(error)}")
    except (duckdb.Error, OSError, RuntimeError) as error:
        return fail("latest", f"in {engine.where}: {first_line(error)}")
    if all(state.newest_day is None for state in states):
        return off("latest", f"{NO_PUBLISHED_DAY} ({engine.where})")
    problems = [
        f"{state.latest}: "
        + (
            "no published day"
            if state.newest_day is None
            else (
                f"not on the newest day {state.newest_day}"
                if not state.serves_newest
                else f"{state.newest_day} has no rows"
            )
        )
        for state in states
        if state.newest_day is None
        or not state.serves_newest
        or (state.rows == 0 and LATEST_TABLES[state.latest] not in EMPTY_DAY_TABLES)
    ]
    if problems:
        return fail("latest", "; ".join(problems))
    served = ", ".join(f"{s.latest}={s.newest_day} ({s.rows} rows)" for s in states)
    return ok("latest", served)


def run_named_query(engine: QueryEngine | Missing, name: str, timeout: float) -> Result:
    if isinstance(engine, Missing):
        return fail("query", engine.reason)
    sql = named_queries()[name]
    try:
        outcome = engine.run(sql, timeout)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return fail("query", f"{name} in {engine.where}: {first_line(error)}")
    except duckdb.CatalogException as error:
        if all(state.newest_day is None for state in engine.latest(timeout)):
            return off("query", f"{name}: {NO_PUBLISHED_DAY} ({engine.where})")
        return fail("query", f"{name} in {engine.where}: {first_line(error)}")
    except (duckdb.Error, OSError) as error:
        return fail("query", f"{name} in {engine.where}: {first_line(error)}")
    detail = f"{name} in {engine.where}: {outcome.state}, {outcome.detail}"
    return ok("query", detail) if outcome.succeeded else fail("query", detail)
