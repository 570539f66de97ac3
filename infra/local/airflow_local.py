"""Run the tasks_daily DAG against the local stack: the engine behind `make etl` and `make airflow`.

DynamoDB Local (started by `make run`, which owns the tasks table) is the source; moto stands in
for S3, Glue and CloudWatch; the catalog is built from infra/analytics.yaml. The DAG reads the
same Airflow Variables as in AWS, here given as AIRFLOW_VAR_* environment variables, with the
export in scan mode because DynamoDB Local has no export API.

    python -m infra.local.airflow_local etl [--date YYYY-MM-DD]
    python -m infra.local.airflow_local etl-stage --stage dev [--date YYYY-MM-DD]  (AWS)
    python -m infra.local.airflow_local standalone
    python -m infra.local.airflow_local repair
    python -m infra.local.airflow_local cli backfill create --dag-id tasks_daily ...
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.exceptions

from etl import catalog_repair
from etl.lake_mirror import mirror_published
from etl.native_export import (
    PointInTimeRecoveryDisabledError,
    earliest_restorable_time,
    first_exportable_day,
)
from infra.deploy import preflight
from infra.deploy.exports import stage_exports
from infra.local.analytics_catalog import create_analytics_catalog
from infra.local.services import DUMMY_AWS_ENV, port_in_use, start_moto

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / ".local"
MOTO_PORT = 4566
DAG_ID = "tasks_daily"
METRICS_LOG = LOCAL / "metrics" / f"{DAG_ID}.jsonl"


def airflow_env(
    airflow_home: Path,
    moto_url: str,
    dynamodb_url: str,
    *,
    tasks_table: str,
    users_table: str,
    lake_bucket: str,
    glue_database: str,
    metrics_log: Path | None = None,
) -> dict[str, str]:
    """Environment for an Airflow process (CLI, standalone or test) on the local stack.

    `metrics_log` names a file that keeps every run's metrics as JSON lines, besides moto's
    CloudWatch, which holds them only while it runs: the history `make report` charts.
    """
    settings = {"AIRFLOW_VAR_TASKLAKE_METRICS_LOG": str(metrics_log)} if metrics_log else {}
    return {
        **DUMMY_AWS_ENV,
        **settings,
        **airflow_process_env(airflow_home),
        "AWS_ENDPOINT_URL_S3": moto_url,
        "AWS_ENDPOINT_URL_GLUE": moto_url,
        "AWS_ENDPOINT_URL_CLOUDWATCH": moto_url,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AIRFLOW_VAR_TASKLAKE_EXPORT_MODE": "scan",
        "AIRFLOW_VAR_TASKLAKE_TASKS_TABLE": tasks_table,
        "AIRFLOW_VAR_TASKLAKE_USERS_TABLE": users_table,
        "AIRFLOW_VAR_TASKLAKE_LAKE_BUCKET": lake_bucket,
        "AIRFLOW_VAR_TASKLAKE_GLUE_DATABASE": glue_database,
    }


def airflow_process_env(airflow_home: Path) -> dict[str, str]:
    """What any Airflow process of ours needs: its home, the DAGs folder, this repository."""
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
    # `airflow standalone` starts its components as `airflow …` subprocesses found on PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # The default 32 LocalExecutor workers are idle processes a 2-core laptop does not need.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": "8080",
        "AIRFLOW_CONN_AWS_DEFAULT": '{"conn_type": "aws"}',
        "PYTHONPATH": python_path,
        "PATH": path,
    }


def export_mode_for(dynamodb: Any, table: str, snapshot_date: date, today: date) -> str:
    """How `make etl-stage` may export `snapshot_date` so its data is that day's, or why not.

    `native` (DynamoDB's export as of the end of the day) for a finished day still within the
    table's point-in-time window. A table without point-in-time recovery can only be scanned,
    which reads it as it is now: that is today's data, so only today may be labelled with it.
    """
    try:
        earliest = earliest_restorable_time(dynamodb.describe_continuous_backups(TableName=table))
    except (PointInTimeRecoveryDisabledError, botocore.exceptions.ClientError):
        if snapshot_date != today:
            raise preflight.PreflightError(
                f"{table} has no point-in-time recovery: a scan reads today's data, which is "
                f"not {snapshot_date}'s; run --date {today}, or rebuild {snapshot_date} from bronze"
            ) from None
        return "scan"
    if snapshot_date >= today:
        raise preflight.PreflightError(
            f"{snapshot_date} is not over: DynamoDB exports it from "
            f"{snapshot_date + timedelta(days=1)} 00:00 UTC"
        )
    if snapshot_date < first_exportable_day(earliest):
        raise preflight.PreflightError(
            f"{table} can no longer be exported as of the end of {snapshot_date} (its earliest "
            f"restorable time is {earliest.isoformat()}); rebuild it from bronze"
        )
    return "native"


def stage_env(stage: str, airflow_home: Path, snapshot_date: date, today: date) -> dict[str, str]:
    """An Airflow process that runs the DAG against a deployed stage with the caller's AWS access.

    A stage without orchestration (dev by default, ADR 0007) has no MWAA and so none of the
    Variables its orchestration stack writes to SSM: they come from the stage's exports instead.
    The export mode is `export_mode_for`'s: a stage's day is never labelled with other data.
    """
    preflight.check()
    exports = stage_exports(stage)
    needed = {
        "TASKS_TABLE": "tasks-table",
        "USERS_TABLE": "users-table",
        "LAKE_BUCKET": "lake-bucket",
        "GLUE_DATABASE": "glue-database",
        "ATHENA_WORKGROUP": "athena-etl-workgroup",
    }
    missing = [name for name in needed.values() if name not in exports]
    if missing:
        raise preflight.PreflightError(
            f"stage {stage} exports no {', '.join(missing)}: deploy it first "
            f"(make deploy STAGE={stage})"
        )
    table = exports[needed["TASKS_TABLE"]]
    mode = export_mode_for(boto3.client("dynamodb"), table, snapshot_date, today)
    return {
        **airflow_process_env(airflow_home),
        **{f"AIRFLOW_VAR_TASKLAKE_{name}": exports[short] for name, short in needed.items()},
        "AIRFLOW_VAR_TASKLAKE_EXPORT_MODE": mode,
    }


def run_etl_on_stage(snapshot_date: date, stage: str, airflow_home: Path) -> int:
    """`make etl-stage`: one run of the DAG for `snapshot_date`, reading and writing the stage."""
    try:
        env = stage_env(stage, airflow_home, snapshot_date, datetime.now(UTC).date())
    except preflight.PreflightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not (airflow_home / "airflow.db").exists():
        airflow(env, "db", "migrate", log=airflow_home / "logs" / "db-migrate.log")
    log = airflow_home / "logs" / f"etl-{snapshot_date}.log"
    print(f"running {DAG_ID} for {snapshot_date} on stage {stage} (log: {log})")
    if code := run_by_hand(env, snapshot_date, log):
        return code
    database = env["AIRFLOW_VAR_TASKLAKE_GLUE_DATABASE"]
    day = [f"{snapshot_date:%Y}", f"{snapshot_date:%m}", f"{snapshot_date:%d}"]
    glue = boto3.client("glue")
    try:
        glue.get_partition(DatabaseName=database, TableName="tasks", PartitionValues=day)
    except glue.exceptions.EntityNotFoundException:
        # `airflow dags test` exits 0 for a date the DAG does not schedule (before its start).
        print(f"error: no tasks partition for {snapshot_date} in {database}", file=sys.stderr)
        return 1
    print(f"published {snapshot_date} to Glue {database}")
    return 0


def run_by_hand(env: dict[str, str], snapshot_date: date, log: Path, source: str = "export") -> int:
    """`airflow dags test` of the run that owns `snapshot_date`; its log's tail if it fails.

    `source=bronze` rebuilds the day from an export stored in bronze instead of exporting it.
    """
    conf = json.dumps({"source": source})
    code = airflow(
        env,
        "dags",
        "test",
        DAG_ID,
        logical_date_for(snapshot_date),
        "--conf",
        conf,
        log=log,
    )
    if code != 0:
        print(f"{DAG_ID} failed for {snapshot_date}; last lines of {log}:", file=sys.stderr)
        print("\n".join(log.read_text().splitlines()[-15:]), file=sys.stderr)
    return code


def logical_date_for(snapshot_date: date) -> str:
    """The logical date `airflow dags test` needs so that its run owns `snapshot_date`.

    A manual run's data interval is the last complete day before its logical date, so the run
    for day D is started at D + 1 00:00 UTC.
    """
    return f"{snapshot_date + timedelta(days=1)}T00:00:00+00:00"


def airflow(env: dict[str, str], *args: str, log: Path | None = None) -> int:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    full_env = {**os.environ, **env}
    if log is None:
        return subprocess.call(command, env=full_env)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.call(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)


def _running_stack() -> dict[str, str]:
    """The endpoints `make run` wrote for the stack it is running, if it is running."""
    stack_file = LOCAL / "stack.json"
    if not stack_file.exists():
        return {}
    endpoints: dict[str, str] = json.loads(stack_file.read_text())
    return endpoints


def prepare(stage: str) -> dict[str, str]:
    """Check the source, start moto if needed, build the catalog, migrate Airflow's database."""
    running = _running_stack()
    dynamodb_url = os.environ.get(
        "AWS_ENDPOINT_URL_DYNAMODB",
        running.get("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
    )
    if not port_in_use(urlparse(dynamodb_url).port or 80):
        sys.exit(
            f"DynamoDB Local is not running at {dynamodb_url}: start the stack with `make run`"
        )
    moto_url = running.get("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{MOTO_PORT}")
    moto_port = urlparse(moto_url).port or MOTO_PORT
    if not port_in_use(moto_port):
        # Lives as long as this command: the catalog and bronze go with it, the mirror stays.
        moto = start_moto(moto_port, log_path=LOCAL / "logs" / "moto.log")
        print(f"started moto on {moto.url} for this run")
    for name, value in DUMMY_AWS_ENV.items():
        os.environ.setdefault(name, value)
    lake_bucket = f"tasklake-{stage}-lake"
    glue_database = create_analytics_catalog(
        boto3.client("s3", endpoint_url=moto_url),
        boto3.client("glue", endpoint_url=moto_url),
        {"Environment": stage, "LakeBucketName": lake_bucket},
    )
    env = airflow_env(
        LOCAL / "airflow",
        moto_url,
        dynamodb_url,
        tasks_table=os.environ.get("TASKS_TABLE", f"tasklake-{stage}-tasks"),
        users_table=os.environ.get("USERS_TABLE", f"tasklake-{stage}-users"),
        lake_bucket=lake_bucket,
        glue_database=glue_database,
        metrics_log=METRICS_LOG,
    )
    if not (LOCAL / "airflow" / "airflow.db").exists():
        airflow(env, "db", "migrate", log=LOCAL / "logs" / "airflow-db-migrate.log")
    return env


def run_etl(snapshot_date: date, stage: str, lake_root: Path, source: str = "export") -> int:
    env = prepare(stage)
    log = LOCAL / "logs" / f"etl-{snapshot_date}.log"
    print(f"running {DAG_ID} for {snapshot_date} from {source} (log: {log.relative_to(REPO)})")
    if code := run_by_hand(env, snapshot_date, log, source):
        return code
    moto_url = env["AWS_ENDPOINT_URL_S3"]
    mirrored = mirror_published(
        boto3.client("s3", endpoint_url=moto_url),
        boto3.client("glue", endpoint_url=moto_url),
        env["AIRFLOW_VAR_TASKLAKE_GLUE_DATABASE"],
        lake_root,
    )
    day = [f"{snapshot_date:%Y}", f"{snapshot_date:%m}", f"{snapshot_date:%d}"]
    print(f"published {snapshot_date} to Glue {env['AIRFLOW_VAR_TASKLAKE_GLUE_DATABASE']}:")
    for partition in mirrored:
        if partition.values == day:
            print(f"  {partition.table:<18} {partition.rows:>8} rows  {partition.location}")
    print(f"local lake ({len(mirrored)} partitions in all): {lake_root}")
    return 0


def repair(stage: str) -> int:
    """`etl.catalog_repair` against the running moto, whose catalog and lake live in memory."""
    moto_url = _running_stack().get("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{MOTO_PORT}")
    if not port_in_use(urlparse(moto_url).port or MOTO_PORT):
        sys.exit(f"moto is not running at {moto_url}: there is no local catalog to repair")
    for name, value in DUMMY_AWS_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.update({"AWS_ENDPOINT_URL_S3": moto_url, "AWS_ENDPOINT_URL_GLUE": moto_url})
    return catalog_repair.main(["--database", f"tasklake_{stage}"])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["etl", "etl-stage", "standalone", "repair"])
    parser.add_argument("--date", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--stage", default="dev")
    parser.add_argument(
        "--source",
        choices=["export", "bronze"],
        default="export",
        help="etl: export the day now, or rebuild it from the export stored in bronze",
    )
    parser.add_argument(
        "--lake-root", type=Path, default=Path(os.environ.get("LAKE_ROOT", LOCAL / "lake"))
    )
    parser.add_argument("--airflow-home", type=Path, help="etl-stage: default .local/airflow-STAGE")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cli"]:
        return airflow(prepare("dev"), *argv[1:])
    args = parse_args(argv)
    if args.command == "etl":
        return run_etl(args.date, args.stage, args.lake_root.resolve(), args.source)
    if args.command == "etl-stage":
        home = args.airflow_home or LOCAL / f"airflow-{args.stage}"
        return run_etl_on_stage(args.date, args.stage, home.resolve())
    if args.command == "repair":
        return repair(args.stage)
    env = prepare(args.stage)
    print("Airflow on http://127.0.0.1:8080 (Ctrl-C stops it)")
    return airflow(env, "standalone")


if __name__ == "__main__":
    sys.exit(main())
