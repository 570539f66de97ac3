"""Start a run of the DAG through MWAA's CLI endpoint, or say the stage has no orchestration.

MWAA's CreateCliToken gives a short-lived token (60 s) and the webserver's host name; the
command goes as plain text to https://<host>/aws_mwaa/cli, which answers JSON with the
command's stdout and stderr base64-encoded.

On Airflow 3 (3.3.1 checked by hand) `dags trigger` without `--logical-date` creates a run
with no logical date and no data interval, which tasks_daily cannot run (it writes the day
its data interval names). So the smoke passes the current second as the logical date: a
manual run then owns the day before (runbook-etl), as a rerun of yesterday would, and the
second keeps it apart from the scheduled runs (logical dates are unique per DAG). A paused
DAG keeps the run queued until it is unpaused.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.exceptions
import requests

from infra.smoke.absent import Off
from infra.smoke.results import Result, fail, first_line, off, ok

DAG_ID = "tasks_daily"
REQUEST_SECONDS = 30.0


@dataclass(frozen=True)
class SmokeRun:
    """The run the smoke starts: its id says who started it and when."""

    at: datetime

    @property
    def run_id(self) -> str:
        return f"smoke__{self.at.strftime('%Y%m%dT%H%M%SZ')}"

    @property
    def command(self) -> str:
        logical_date = self.at.isoformat(timespec="seconds")
        return (
            f"dags trigger {DAG_ID} --run-id {self.run_id} --logical-date {logical_date}"
            " --output json"
        )


def now() -> SmokeRun:
    return SmokeRun(datetime.now(UTC).replace(microsecond=0))


class CliFailed(RuntimeError):
    pass


def _decoded(body: dict[str, str], stream: str) -> str:
    return base64.b64decode(body.get(stream) or "").decode(errors="replace")


def run_cli(environment: str, command: str) -> tuple[str, str]:
    """The command's stdout and stderr, as the environment's Airflow CLI printed them."""
    try:
        token = boto3.client("mwaa").create_cli_token(Name=environment)
        response = requests.post(
            f"https://{token['WebServerHostname']}/aws_mwaa/cli",
            data=command,
            headers={
                "Authorization": f"Bearer {token['CliToken']}",
                "Content-Type": "text/plain",
            },
            timeout=REQUEST_SECONDS,
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise CliFailed(f"CreateCliToken {environment}: {first_line(error)}") from None
    except requests.RequestException as error:
        raise CliFailed(f"MWAA CLI of {environment}: {first_line(error)}") from None
    if response.status_code != 200:
        text = response.text.strip()[:200]
        raise CliFailed(f"MWAA CLI answered {response.status_code}: {text}")
    try:
        body = response.json()
        return _decoded(body, "stdout"), _decoded(body, "stderr")
    except (ValueError, AttributeError) as error:
        raise CliFailed(f"MWAA CLI answered no JSON stdout/stderr: {first_line(error)}") from None


def created_run(stdout: str, run_id: str) -> dict[str, Any] | None:
    """The run `--output json` printed (log lines may come before the JSON)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("["):
            try:
                runs = json.loads(line)
            except ValueError:
                continue
            return next((r for r in runs if r.get("dag_run_id") == run_id), None)
    return None


def trigger_dag(environment: str | Off, run: SmokeRun) -> Result:
    if isinstance(environment, Off):
        return off("dag-run", environment.reason)
    try:
        stdout, stderr = run_cli(environment, run.command)
    except CliFailed as error:
        return fail("dag-run", str(error))
    created = created_run(stdout, run.run_id)
    if created is None:
        last = [line for line in (stderr or stdout).splitlines() if line.strip()]
        return fail("dag-run", f"`{run.command}`: {last[-1] if last else 'no output'}")
    if not created.get("data_interval_start"):
        return fail("dag-run", f"{run.run_id} has no data interval: tasks_daily cannot run it")
    day = str(created["data_interval_start"])[:10]
    return ok(
        "dag-run", f"{DAG_ID} run {run.run_id} for {day} {created.get('state')} on {environment}"
    )
