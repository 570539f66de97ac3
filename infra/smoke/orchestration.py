"""Start a run of the DAG through MWAA's CLI endpoint, or say the stage has no orchestration.

MWAA's CreateCliToken gives a short-lived token (60 s) and the webserver's host name; the
command goes as plain text to https://<host>/aws_mwaa/cli, which answers JSON with the
command's stdout and stderr base64-encoded. `airflow dags trigger` is a supported command
on MWAA's Airflow 3 (Airflow 3.3.1 still ships it, marked for a future move to airflowctl).
A paused DAG keeps the run queued until it is unpaused.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import boto3
import botocore.exceptions
import requests

from infra.smoke.absent import Off
from infra.smoke.results import Result, fail, first_line, off, ok

DAG_ID = "tasks_daily"
REQUEST_SECONDS = 30.0


def smoke_run_id() -> str:
    """A run id that says who started the run and when (Airflow accepts [A-Za-z0-9_.~:+-])."""
    return f"smoke__{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


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


def trigger_dag(environment: str | Off, run_id: str) -> Result:
    if isinstance(environment, Off):
        return off("dag-run", environment.reason)
    command = f"dags trigger {DAG_ID} --run-id {run_id} --output json"
    try:
        stdout, stderr = run_cli(environment, command)
    except CliFailed as error:
        return fail("dag-run", str(error))
    if run_id not in stdout:
        last = [line for line in (stderr or stdout).splitlines() if line.strip()]
        return fail("dag-run", f"`{command}`: {last[-1] if last else 'no output'}")
    return ok("dag-run", f"{DAG_ID} run {run_id} started on {environment}")
