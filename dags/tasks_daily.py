"""tasks_daily: snapshot the DynamoDB tasks and users tables into the lake, one day per run.

heal (publish up to a few earlier days the lake lacks, oldest first: etl/heal.py) -> export
both tables (wait until DynamoDB can serve the end of the day, then its native point-in-time
exports of that moment; or scans, tasks first, where no export exists) -> choose the engine by
the export's size -> transform to Parquet and stage under a folder new to this attempt, the same
etl/sql/ statements run on the worker by DuckDB or by Athena's CTAS -> validate against the
export and the Glue catalog -> publish by pointing the Glue partitions (the day's `lake_status`
row among them, and `<table>_latest`) at that folder -> report metrics to CloudWatch.

Each run owns the data interval [start, start + 1 day) in UTC and writes the partition of its
start date; the table's state at the end of the interval is what lands there. The work itself
lives in the `etl` package as plain functions; this file only says in which order it happens.
Settings are Airflow Variables (locally `AIRFLOW_VAR_TASKLAKE_*` environment variables), read at
run time, never while the file is parsed.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pendulum
from airflow.providers.amazon.aws.hooks.athena import AthenaHook
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.transfers.dynamodb_to_s3 import DynamoDBToS3Operator
from airflow.sdk import (
    CronDataIntervalTimetable,
    Param,
    Variable,
    chain,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.definitions.xcom_arg import PlainXComArg

from etl.bronze import scan_item_to_export_line
from etl.lake_layout import bronze_export_try_prefix

if TYPE_CHECKING:
    from etl.bronze import BronzeExport
    from etl.run_metrics import AthenaQuery

SETTINGS_DEFAULTS = {
    "tasks_table": "tasklake-dev-tasks",
    "users_table": "tasklake-dev-users",
    "lake_bucket": "tasklake-dev-lake",
    "glue_database": "tasklake_dev",
    "export_mode": "native",
    # duckdb | athena | auto (by the export's item count, etl/engine_choice.py).
    "transform_engine": "auto",
    # The DAG's own workgroup, which lets a CTAS name its output folder; its result location and
    # bytes-scanned cutoff apply (infra/analytics.yaml, EtlAthenaWorkGroup).
    "athena_workgroup": "tasklake-dev-etl",
    # A JSON-lines file that also keeps each run's metrics; set locally, where moto forgets them.
    "metrics_log": "",
    # Earlier missing days a run rebuilds before its own, oldest first (etl/heal.py); 0: none.
    # Each is an export (minutes to an hour at 10M tasks) and a transform (minutes) on the
    # worker: three fit HEAL_TIMEOUT and leave the run's own day inside its 8 h publish SLA.
    "heal_days_per_run": "3",
}

# The base delay is an environment knob so tests can retry in seconds; backoff doubles it.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("TASKLAKE_RETRY_DELAY_SECONDS", "60")))
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "retries": 3,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
}
EXPORT_FILE_BYTES = 128 * 1024 * 1024
LAKE_TABLES = ("tasks", "user_daily_stats", "tag_daily_stats", "task_changes", "users")
"""etl.schemas.TABLES, spelled out: the DAG file does not import pyarrow while it is parsed."""
EXPORTED_TABLES = {"tasks": "tasks_table", "users": "users_table"}
"""Each DynamoDB table a run exports (etl.transform_sql.EXPORT_RELATIONS) -> the setting naming
it. Native exports are all as of the end of the day; scans run in this order, tasks first, so
every owner in the day's tasks is in its users or was deleted in between: an account missing
from a day's users was deleted (the erasure job relies on it)."""
LAKE_STATUS_TABLE = "lake_status"
"""etl.lake_status.LAKE_STATUS_TABLE: the day's status row, staged and flipped by `publish`."""
ATHENA_QUERY_TASKS = (
    "athena_create_bronze",
    "athena_create_users_bronze",
    *(f"athena_{table}" for table in LAKE_TABLES),
)
"""The Athena engine's query tasks; each returns (as its XCom) its query execution id."""
# Seconds between checks of a running Athena query, done by the triggerer, not a worker.
ATHENA_POKE_SECONDS = int(os.environ.get("TASKLAKE_ATHENA_POKE_SECONDS", "30"))
# The native export's waits are sensors in reschedule mode: a check, then the worker slot is free
# until the next one. DynamoDB trails by minutes; an export takes minutes to hours.
EXPORT_POKE_SECONDS = float(os.environ.get("TASKLAKE_EXPORT_POKE_SECONDS", "60"))
LAKE_START = pendulum.datetime(2026, 11, 1, tz="UTC")
"""The DAG's static start: the first day the lake holds. Catchup schedules every missed day
since; one DynamoDB can no longer export (before the table's earliest restorable time: a new
stage, an outage past 35 days) is skipped at once, and rebuilt from bronze if bronze has it."""
# Each task's limit is generous against its measured or expected time (ADR 0007): it exists to
# free a worker slot a hung call would hold forever, not to police a slow day.
QUICK_TASK_TIMEOUT = timedelta(minutes=10)
"""A handful of AWS calls: choosing a branch, starting an export, planning, reporting."""
TRANSFORM_TIMEOUT = timedelta(hours=1)
"""The worker's DuckDB run of etl/sql/ takes minutes at 10M tasks (docs/benchmarks.md); a worker
is slower than a laptop, and above `auto`'s threshold Athena takes over."""
ATHENA_QUERY_TIMEOUT = timedelta(hours=1)
VALIDATE_TIMEOUT = timedelta(minutes=30)
"""Reads one Parquet footer per staged file."""
HEAL_TIMEOUT = timedelta(hours=4)
"""Up to `tasklake_heal_days_per_run` (3) earlier days, each an export and a transform."""
DAGRUN_TIMEOUT = timedelta(hours=12)
"""The export's two waits (2 h + 3 h), a transform, their retries, and a run queued behind a
publish: a run still going after this is hung, and the next day's run should not wait on it."""


def setting(name: str) -> str:
    """A pipeline setting from the Airflow Variable `tasklake_<name>`."""
    value: str = Variable.get(f"tasklake_{name}", default=SETTINGS_DEFAULTS[name])
    return value


def _run_export(s3: Any, source: str = "tasks") -> BronzeExport:
    """The run's export of `source` (a key of EXPORTED_TABLES); in native mode checked to be
    DynamoDB's, of that table at the day's end."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.bronze import (
        ExpectedExport,
        ExportMismatchError,
        ExportNotFoundError,
        find_day_export,
        find_export,
    )
    from etl.lake_layout import bronze_run_prefix

    context = get_current_context()
    snapshot_date, run_id = _run_identity()
    expected = None
    if setting("export_mode") == "native":
        from etl.native_export import table_arn

        dynamodb = AwsBaseHook(client_type="dynamodb").get_conn()
        expected = ExpectedExport(
            table_arn(dynamodb, setting(EXPORTED_TABLES[source])), context["data_interval_end"]
        )
    try:
        if context["params"]["source"] == "bronze":
            return find_day_export(
                s3,
                setting("lake_bucket"),
                snapshot_date,
                _published_run_key(snapshot_date),
                expected,
                source=source,
            )
        return find_export(
            s3, setting("lake_bucket"), bronze_run_prefix(snapshot_date, run_id, source), expected
        )
    except (ExportMismatchError, ExportNotFoundError) as error:
        # The export is complete and wrong: retrying would read the same files again.
        raise AirflowFailException(str(error)) from error


def _published_run_key(snapshot_date: pendulum.Date) -> str:
    """The run whose export the day's published tasks partition was built from ('' if none)."""
    from etl.lake_layout import run_key_of_attempt
    from etl.publish import published_location
    from etl.validation import ITEM_TABLE

    glue = GlueCatalogHook().get_conn()
    location = published_location(glue, setting("glue_database"), ITEM_TABLE, snapshot_date)
    attempt = location.rstrip("/").rsplit("/run=", 1)[-1] if "/run=" in location else ""
    return run_key_of_attempt(attempt) if attempt else ""


def _run_identity() -> tuple[pendulum.Date, str]:
    context = get_current_context()
    start = context["data_interval_start"]
    if start is None:
        raise ValueError("tasks_daily needs a data interval: it runs on a data-interval timetable")
    return start.date(), context["run_id"]


# One heal at a time across runs: each transforms on the worker, beside at most one `transform`.
@task(max_active_tis_per_dag=1, execution_timeout=HEAL_TIMEOUT)
def heal_missing_days() -> list[str]:
    """Publish earlier days the lake lacks, oldest first, before the run's own (etl/heal.py).

    Whatever Airflow's catchup and max_active_runs did: a day stays missing only while no run
    can rebuild it. Returns the days healed. A day that cannot be healed is logged and left to
    the next run (and to `report`'s counts); the run's own day goes ahead either way.
    """
    from etl.bronze import days_with_bronze
    from etl.heal import HealSettings, days_to_heal, heal_day
    from etl.missing_partitions import missing_days, missing_partitions

    limit = int(setting("heal_days_per_run"))
    if limit <= 0:
        return []
    snapshot_date, run_id = _run_identity()
    s3, glue = S3Hook().get_conn(), GlueCatalogHook().get_conn()
    database, bucket = setting("glue_database"), setting("lake_bucket")
    yesterday = snapshot_date - timedelta(days=1)
    missing = missing_days(missing_partitions(glue, database, LAKE_TABLES, yesterday))
    heals = days_to_heal(
        missing, snapshot_date, _first_exportable_day(), days_with_bronze(s3, bucket), limit
    )
    native = setting("export_mode") == "native"
    settings = HealSettings(
        database=database,
        bucket=bucket,
        tasks_table=setting("tasks_table"),
        users_table=setting("users_table"),
        dynamodb=AwsBaseHook(client_type="dynamodb").get_conn() if native else None,
        poke_seconds=EXPORT_POKE_SECONDS,
    )
    try_number = get_current_context()["ti"].try_number
    healed = []
    for heal in heals:
        outcome = heal_day(s3, glue, settings, heal, run_id=run_id, try_number=try_number)
        print(outcome.line)
        if outcome.published:
            healed.append(heal.day.isoformat())
    return healed


# After the heal, whatever became of it: the run's own day does not wait on an earlier one.
@task.branch(trigger_rule="all_done", execution_timeout=QUICK_TASK_TIMEOUT)
def choose_export_mode() -> str | list[str] | None:
    """`native` in AWS; `scan` where the table has no export API (DynamoDB Local); straight
    to the transform when the run rebuilds its day from stored bronze (`source=bronze`).

    None (every task after it skipped, the run a success) for a day DynamoDB can no longer
    export: one before the table's earliest restorable time, as every day catchup schedules on
    a new stage is. Retrying could not change that, so the run says so once and stops.
    """
    context = get_current_context()
    ti = context["ti"]
    ti.xcom_push(key="started_at", value=time.time())
    if context["params"]["source"] == "bronze":
        return "choose_transform_engine"
    first_task = {"native": "wait_until_exportable", "scan": "export_scan"}
    mode = setting("export_mode")
    if mode not in first_task:
        raise ValueError(f"tasklake_export_mode must be native or scan, not {mode!r}")
    if mode == "native":
        from etl.native_export import not_exportable_reason

        dynamodb = AwsBaseHook(client_type="dynamodb").get_conn()
        export_time = get_current_context()["data_interval_end"]
        reasons = [
            not_exportable_reason(dynamodb, setting(name), export_time)
            for name in EXPORTED_TABLES.values()
        ]
        if reason := "; ".join(filter(None, reasons)):
            print(f"skipping this day, nothing to export: {reason}")
            ti.xcom_push(key="skipped", value=reason)
            return None
    # The engine choice is downstream of this task too (for `bronze`): it must not be skipped.
    return [first_task[mode], "choose_transform_engine"]


@task.sensor(
    mode="reschedule",
    poke_interval=EXPORT_POKE_SECONDS,
    timeout=2 * 3600,
    execution_timeout=QUICK_TASK_TIMEOUT,
)
def wait_until_exportable() -> bool:
    """Until each table's latest restorable time has passed the end of the run's day."""
    from etl.native_export import wait_before_export

    export_time = get_current_context()["data_interval_end"]
    dynamodb = AwsBaseHook(client_type="dynamodb").get_conn()
    wait = max(
        wait_before_export(dynamodb, setting(name), export_time)
        for name in EXPORTED_TABLES.values()
    )
    if wait:
        print(f"DynamoDB cannot export as of {export_time} for about {wait:.0f} s more")
    return wait == 0


@task(execution_timeout=QUICK_TASK_TIMEOUT)
def export_native() -> dict[str, str]:
    """Start DynamoDB's export of each table as of the end of the run's day, the same moment;
    returns their ARNs by table."""
    from etl.lake_layout import bronze_run_prefix
    from etl.native_export import start_export

    context = get_current_context()
    snapshot_date, run_id = _run_identity()
    dynamodb = AwsBaseHook(client_type="dynamodb").get_conn()
    try_number = context["ti"].try_number
    return {
        source: start_export(
            dynamodb,
            table_name=setting(name),
            export_time=context["data_interval_end"],
            bucket=setting("lake_bucket"),
            prefix=bronze_export_try_prefix(snapshot_date, run_id, try_number, source),
            reuse_under=bronze_run_prefix(snapshot_date, run_id, source),
        )
        for source, name in EXPORTED_TABLES.items()
    }


@task.sensor(
    mode="reschedule",
    poke_interval=EXPORT_POKE_SECONDS,
    timeout=3 * 3600,
    execution_timeout=QUICK_TASK_TIMEOUT,
)
def wait_for_export(export_arns: dict[str, str]) -> bool:
    """Until every export has completed; a failed one fails the run (clear export_native)."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.native_export import ExportFailedError, is_export_finished

    dynamodb = AwsBaseHook(client_type="dynamodb").get_conn()
    try:
        # Each checked every time: a failed export fails the run even while another still runs.
        finished = [is_export_finished(dynamodb, arn) for arn in export_arns.values()]
    except ExportFailedError as error:
        raise AirflowFailException(str(error)) from error
    return all(finished)


@task.branch(trigger_rule="none_failed_min_one_success", execution_timeout=QUICK_TASK_TIMEOUT)
def choose_transform_engine() -> str:
    """`transform` (DuckDB, on this worker) or `plan_athena`, by `tasklake_transform_engine`."""
    from etl.bronze import export_item_count
    from etl.engine_choice import choose_engine

    s3 = S3Hook().get_conn()
    export = _run_export(s3)
    items = export_item_count(s3, export)
    engine = choose_engine(setting("transform_engine"), items)
    print(f"{items} exported items: the {engine} engine transforms them")
    return {"duckdb": "transform", "athena": "plan_athena"}[engine]


# One transform at a time across every run: a worker (mw1.small, 2 GB) holds one near-10M
# transform (~0.5 GB RSS, GBs of spill disk), not several (ADR 0007).
@task(max_active_tis_per_dag=1, execution_timeout=TRANSFORM_TIMEOUT)
def transform() -> dict[str, Any]:
    """Transform the export to Parquet, staged under this attempt's own folders (not yet visible).

    A new folder per attempt, not per run: a cleared run keeps its run id, and writing into the
    folder a partition already points at would change the published data before `validate`.
    """
    from etl.lake_layout import new_attempt_key
    from etl.worker_day import transform_and_stage

    snapshot_date, run_id = _run_identity()
    attempt_key = new_attempt_key(run_id, get_current_context()["ti"].try_number)
    s3, glue = S3Hook().get_conn(), GlueCatalogHook().get_conn()
    day = transform_and_stage(
        s3,
        glue,
        database=setting("glue_database"),
        snapshot_date=snapshot_date,
        export=_run_export(s3),
        users_export=_run_export(s3, "users"),
        attempt_key=attempt_key,
    )
    return {
        "export_items": day.exported_items,
        "transformed_items": day.transformed_items,
        "partitions": [partition.as_dict() for partition in day.staged],
    }


@task(multiple_outputs=True, execution_timeout=QUICK_TASK_TIMEOUT)
def plan_athena() -> dict[str, Any]:
    """The attempt's Athena statements, its staging folders and the export's item count.

    The staging folders are new to this attempt, as in `transform`; a failed CTAS cannot be
    retried into the folder it half wrote, so the Athena tasks do not retry: clear this task.
    """
    from etl.athena_transform import attempt_statements, staging_location
    from etl.bronze import export_data_location, export_item_count
    from etl.compared_snapshot import compared_day
    from etl.lake_layout import new_attempt_key
    from etl.publish import table_location

    snapshot_date, run_id = _run_identity()
    attempt_key = new_attempt_key(run_id, get_current_context()["ti"].try_number)
    s3, glue = S3Hook().get_conn(), GlueCatalogHook().get_conn()
    database = setting("glue_database")
    export = _run_export(s3)
    locations = {
        table: staging_location(table_location(glue, database, table), snapshot_date, attempt_key)
        for table in LAKE_TABLES
    }
    statements = attempt_statements(
        database,
        attempt_key=attempt_key,
        data_location=export_data_location(export),
        locations=locations,
        snapshot_date=snapshot_date,
        users_data_location=export_data_location(_run_export(s3, "users")),
        compared_with=compared_day(glue, database, snapshot_date),
    )
    return {**statements, "locations": locations, "export_items": export_item_count(s3, export)}


def athena_query(task_id: str, query: Any) -> AthenaOperator:
    """A query in the workgroup, waited for by the triggerer (a long CTAS holds no worker slot)."""
    return AthenaOperator(
        task_id=task_id,
        query=query,
        database="{{ setting('glue_database') }}",
        workgroup="{{ setting('athena_workgroup') }}",
        deferrable=True,
        sleep_time=ATHENA_POKE_SECONDS,
        retries=0,
        # The triggerer's wait ends after this many checks: a deferred task has no running
        # worker for `execution_timeout` to stop.
        max_polling_attempts=int(ATHENA_QUERY_TIMEOUT.total_seconds() // ATHENA_POKE_SECONDS),
        execution_timeout=ATHENA_QUERY_TIMEOUT,
    )


@task(execution_timeout=QUICK_TASK_TIMEOUT)
def stage_athena_output(plan: dict[str, Any]) -> dict[str, Any]:
    """Describe what the CTAS queries wrote exactly as `transform` describes its uploads."""
    from etl.athena_output import staged_ctas_partitions

    snapshot_date, _ = _run_identity()
    staged = staged_ctas_partitions(S3Hook().get_conn(), plan["locations"], snapshot_date)
    items = {partition.table: partition.rows for partition in staged}.get("tasks", 0)
    return {
        "export_items": plan["export_items"],
        "transformed_items": items,
        "partitions": [partition.as_dict() for partition in staged],
    }


@task(retries=3, execution_timeout=QUICK_TASK_TIMEOUT)
def drop_athena_tables(plan: dict[str, Any]) -> None:
    """Drop the attempt's tables (their files stay): the run's teardown, even after a failure."""
    hook = AthenaHook()
    for statement in plan["drops"]:
        query_id = hook.run_query(
            statement, {"Database": setting("glue_database")}, {}, None, setting("athena_workgroup")
        )
        state = hook.poll_query_status(query_id, sleep_time=2)
        if state != "SUCCEEDED":
            reason = hook.get_state_change_reason(query_id)
            raise RuntimeError(f"{statement}: Athena query {query_id} {state}: {reason}")


def _athena_queries() -> list[AthenaQuery]:
    """The run's finished Athena queries with their bytes scanned; none on the worker's path.

    A query task that failed returned no id: its id is only in that task's log. The drops (DDL,
    not billed) are in `drop_athena_tables`' log only.
    """
    ti = get_current_context()["ti"]
    query_ids = [ti.xcom_pull(task_ids=task_id) for task_id in ATHENA_QUERY_TASKS]
    finished = [query_id for query_id in query_ids if query_id]
    if not finished:
        return []
    from etl.athena_output import query_statistics

    return query_statistics(AthenaHook().get_conn(), finished)


def _staged_run() -> dict[str, Any] | None:
    """What the chosen engine staged: `transform`'s or `stage_athena_output`'s return value."""
    ti = get_current_context()["ti"]
    for task_id in ("transform", "stage_athena_output"):
        run: dict[str, Any] | None = ti.xcom_pull(task_ids=task_id)
        if run is not None:
            return run
    return None


@task(trigger_rule="none_failed_min_one_success", execution_timeout=VALIDATE_TIMEOUT)
def validate() -> list[dict[str, Any]]:
    """Fail the run, before anything is visible, if rows were lost or the schema drifted.

    A mismatch fails at once, without retries: the staged files do not change between tries.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from etl.publish import PartitionFolder
    from etl.validation import (
        ValidationError,
        check_accounts_present,
        check_row_counts,
        check_staged_files,
    )

    run = _staged_run()
    if run is None:
        raise ValueError("neither engine staged this run's partitions")
    staged = [PartitionFolder.from_dict(data) for data in run["partitions"]]
    try:
        check_row_counts(run["export_items"], run["transformed_items"], staged)
        check_accounts_present(staged)
        check_staged_files(
            S3Hook().get_conn(), GlueCatalogHook().get_conn(), setting("glue_database"), staged
        )
    except ValidationError as error:
        raise AirflowFailException(str(error)) from error
    partitions: list[dict[str, Any]] = run["partitions"]
    return partitions


# One publish at a time across every run of the DAG, whatever its date: a task-level limit the
# scheduler enforces, so MWAA needs no pool created by hand.
@task(max_active_tis_per_dag=1, execution_timeout=QUICK_TASK_TIMEOUT)
def publish(partitions: list[dict[str, Any]]) -> dict[str, int]:
    """Point each table's Glue partition at the validated folders; returns rows per table.

    Two runs (`max_active_runs`) never publish at once: the task runs one instance at a time,
    and two publishes of one day exclude each other by a lock object in S3 as well.
    With the tables, the day's `lake_status` row (etl/lake_status.py) is flipped; then
    `<table>_latest` follows the newest partition, each partition's pointer names its new
    folder (the catalog's backup), and the folders it replaced are tagged for the lifecycle
    rule to expire.
    """
    from etl.day_publish import publish_day
    from etl.lake_status import export_origin
    from etl.publish import PartitionFolder

    snapshot_date, run_id = _run_identity()
    staged = [PartitionFolder.from_dict(data) for data in partitions]
    s3 = S3Hook().get_conn()
    engine = "duckdb" if get_current_context()["ti"].xcom_pull(task_ids="transform") else "athena"
    # Held by the day, not by Airflow: correct even where max_active_tis_per_dag is ignored.
    rows = publish_day(
        s3,
        GlueCatalogHook().get_conn(),
        database=setting("glue_database"),
        bucket=setting("lake_bucket"),
        snapshot_date=snapshot_date,
        staged=staged,
        origin=export_origin(s3, _run_export(s3), engine),
        owner=run_id,
    )
    if rows is None:  # only a heal publishes nothing for a published day
        raise RuntimeError(f"{snapshot_date} was not published")
    return rows


@task(trigger_rule="all_done", execution_timeout=QUICK_TASK_TIMEOUT)
def tag_unpublished() -> list[str]:
    """Tag the folders this attempt staged but did not publish, for the lifecycle to expire.

    After a failed validate or publish nothing points at them, and a retry or a cleared run
    stages new ones. A folder a partition points at (the publish flipped, then failed) is live
    and left alone; the publish retry tags what it replaced.
    """
    from etl.publish import PartitionFolder, tag_superseded, unpublished

    run = _staged_run()
    if run is None or get_current_context()["ti"].xcom_pull(task_ids="publish") is not None:
        return []
    staged = [PartitionFolder.from_dict(data) for data in run["partitions"]]
    glue = GlueCatalogHook().get_conn()
    return tag_superseded(S3Hook().get_conn(), unpublished(glue, setting("glue_database"), staged))


@task(trigger_rule="all_done", execution_timeout=QUICK_TASK_TIMEOUT)
def sweep_orphans() -> int:
    """Tag for expiry the attempt folders nothing references, left by attempts that were killed
    before they could tag their own (etl/orphan_sweep.py); returns how many objects it tagged.

    Only folders last written `DAGRUN_TIMEOUT` before this run began: no run lasts longer, so
    none of them belongs to an attempt still running.
    """
    from etl.orphan_sweep import sweep_orphans as sweep

    started = get_current_context()["dag_run"].start_date
    if started is None:  # a run that is running has started: Airflow sets it first
        raise RuntimeError("the run has no start time to measure the sweep's age from")
    tagged = sweep(
        S3Hook().get_conn(),
        GlueCatalogHook().get_conn(),
        setting("glue_database"),
        (*LAKE_TABLES, LAKE_STATUS_TABLE),
        older_than=started - DAGRUN_TIMEOUT,
    )
    print(f"tagged {len(tagged)} objects of unreferenced attempt folders for expiry")
    return len(tagged)


@task(trigger_rule="all_done", retries=1, execution_timeout=QUICK_TASK_TIMEOUT)
def report() -> None:
    """Send the run's metrics and log its summary line whether it succeeded or not; fail if it
    did not succeed. On the Athena path the line names each query id and its bytes scanned."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.bronze import days_with_bronze
    from etl.missing_partitions import (
        describe,
        missing_days,
        missing_partitions,
        unrebuildable_days,
    )
    from etl.publish import newest_published_day
    from etl.run_metrics import RunReport, data_freshness_seconds, run_metric_data, summary_line
    from etl.validation import ITEM_TABLE

    ti = get_current_context()["ti"]
    snapshot_date, _ = _run_identity()
    if skipped := ti.xcom_pull(task_ids="choose_export_mode", key="skipped"):
        print(f"{ti.dag_id} run skipped {snapshot_date}, nothing to report: {skipped}")
        return
    staged = _staged_run()
    rows: dict[str, int] | None = ti.xcom_pull(task_ids="publish")
    started_at: float | None = ti.xcom_pull(task_ids="choose_export_mode", key="started_at")
    glue = GlueCatalogHook().get_conn()
    newest = newest_published_day(glue, setting("glue_database"), ITEM_TABLE)
    # Up to the run's own day, not today: a catchup run does not count the days after it.
    missing = missing_partitions(glue, setting("glue_database"), LAKE_TABLES, snapshot_date)
    print(describe(missing))
    lost = unrebuildable_days(
        missing_days(missing),
        _first_exportable_day(),
        days_with_bronze(S3Hook().get_conn(), setting("lake_bucket")),
    )
    if lost:
        print(f"cannot be rebuilt any more: {', '.join(day.isoformat() for day in lost)}")
    run = RunReport(
        dag_id=ti.dag_id,
        succeeded=rows is not None,
        duration_seconds=time.time() - started_at if started_at is not None else 0.0,
        rows_exported=staged["export_items"] if staged is not None else None,
        rows_written=rows or {},
        partitions_published=len(rows) if rows is not None else None,
        # Freshness is wall-clock by definition: how old readers' newest day is right now.
        freshness_seconds=data_freshness_seconds(newest, pendulum.now("UTC")),
        athena_queries=tuple(_athena_queries()),
        missing_partitions=len(missing_days(missing)),
        unrebuildable_days=len(lost),
    )
    print(summary_line(run))
    # RunFailed is the failure callback's: it also covers a run this task never saw end.
    _send_metrics(run_metric_data(run, with_failure=False))
    if rows is None:
        raise AirflowFailException("the run did not publish; the failure callback reports it")


def _first_exportable_day() -> pendulum.Date | None:
    """The oldest day DynamoDB can still export; None in scan mode, which exports only now."""
    if setting("export_mode") != "native":
        return None
    from etl.native_export import first_exportable_day_of

    dynamodb = AwsBaseHook(client_type="dynamodb").get_conn()
    day = first_exportable_day_of(dynamodb, setting("tasks_table"))
    return pendulum.Date(day.year, day.month, day.day)


def _send_metrics(data: list[dict[str, Any]]) -> None:
    from etl.run_metrics import append_run_metrics, put_run_metrics

    put_run_metrics(AwsBaseHook(client_type="cloudwatch").get_conn(), data)
    if metrics_log := setting("metrics_log"):
        append_run_metrics(Path(metrics_log), data)


def report_failed_run(context: Any) -> None:
    """The DAG's failure callback: RunFailed for every failed run, whatever ended it.

    A task that failed, the `report` task itself, and a run the scheduler stopped at
    `dagrun_timeout` (its tasks killed, `report` never run) all end here, once per run.
    """
    from etl.run_metrics import run_failed_data

    dag_id = context["dag"].dag_id
    print(f"{dag_id} run {context.get('run_id')} failed: {context.get('reason', 'no reason')}")
    _send_metrics(run_failed_data(dag_id))


@dag(
    dag_id="tasks_daily",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=LAKE_START,
    catchup=True,
    # Two runs overlap an export wait with a transform; the transform and publish themselves run
    # one at a time, so a catchup never puts two transforms on the worker.
    max_active_runs=2,
    dagrun_timeout=DAGRUN_TIMEOUT,
    on_failure_callback=report_failed_run,
    # Unpaused as soon as MWAA parses it: a new stage needs no manual step to start running.
    is_paused_upon_creation=False,
    default_args=DEFAULT_ARGS,
    render_template_as_native_obj=True,
    params={
        # `export`: the day's own export. `bronze`: rebuild the day from an export stored
        # earlier (a day past DynamoDB's 35 days, or a transform that changed): `make etl
        # DATE=… SOURCE=bronze`, or trigger the DAG with {"source": "bronze"}.
        "source": Param("export", enum=["export", "bronze"]),
    },
    user_defined_macros={"setting": setting, "bronze_export_try_prefix": bronze_export_try_prefix},
    tags=["tasklake", "data-lake"],
    doc_md=__doc__,
)
def tasks_daily() -> None:
    bronze_prefix = (
        "{{ bronze_export_try_prefix(data_interval_start.date(), run_id, ti.try_number) }}"
    )
    users_prefix = (
        "{{ bronze_export_try_prefix(data_interval_start.date(), run_id, ti.try_number, 'users') }}"
    )
    export_scan = DynamoDBToS3Operator(
        task_id="export_scan",
        dynamodb_table_name="{{ setting('tasks_table') }}",
        s3_bucket_name="{{ setting('lake_bucket') }}",
        s3_key_prefix=bronze_prefix + "data/",
        process_func=scan_item_to_export_line,
        file_size=EXPORT_FILE_BYTES,
        dynamodb_scan_kwargs={"ConsistentRead": True},
        execution_timeout=TRANSFORM_TIMEOUT,
    )
    # After the tasks scan, never beside it: see EXPORTED_TABLES.
    export_users_scan = DynamoDBToS3Operator(
        task_id="export_users_scan",
        dynamodb_table_name="{{ setting('users_table') }}",
        s3_key_prefix=users_prefix + "data/",
        s3_bucket_name="{{ setting('lake_bucket') }}",
        process_func=scan_item_to_export_line,
        file_size=EXPORT_FILE_BYTES,
        dynamodb_scan_kwargs={"ConsistentRead": True},
        execution_timeout=TRANSFORM_TIMEOUT,
    )
    exportable = wait_until_exportable()
    export_started = export_native()
    exported = wait_for_export(export_started)
    engine = choose_transform_engine()
    # A task with multiple_outputs: each statement is its own XCom, indexed by its key.
    # airflow.sdk's public XComArg types no indexing; the concrete class does (pinned by
    # tests/dags/test_private_api_pins.py, which says when the public one can replace it).
    plan = cast(PlainXComArg, plan_athena())
    create_bronze = athena_query("athena_create_bronze", plan["create_bronze"])
    create_users_bronze = athena_query("athena_create_users_bronze", plan["create_users_bronze"])
    ctas = [athena_query(f"athena_{table}", plan[table]) for table in LAKE_TABLES]
    staged_by_athena = stage_athena_output(plan)
    drop = drop_athena_tables(plan)
    checked = validate()
    mode = choose_export_mode()
    chain(heal_missing_days(), mode)
    chain(mode, [exportable, export_scan, engine])
    chain(exportable, export_started, exported)
    chain(export_scan, export_users_scan)
    staged_on_worker = transform()
    chain([exported, export_users_scan], engine, [staged_on_worker, plan])
    # The gold tables and users are computed from the silver rows: their CTAS read the tasks
    # CTAS's table.
    chain(plan, create_bronze, create_users_bronze, ctas[0], ctas[1:], staged_by_athena, checked)
    chain(ctas, drop.as_teardown(setups=[create_bronze, create_users_bronze]))
    chain(staged_on_worker, checked)
    published = publish(checked)
    chain(published, [report(), tag_unpublished(), sweep_orphans()])


tasks_daily()
