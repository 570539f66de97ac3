"""Heal the lake: publish earlier days it lacks, oldest first, a few per run.

Airflow's catchup creates a run for every missed day, and `max_active_runs` keeps them from
crowding the worker, but both are scheduler settings: with catchup off, a paused DAG, runs that
kept failing, or MWAA Serverless (which ignores both), days go missing and stay missing. So each
run first looks for days missing since the lake began (`etl.missing_partitions`) and rebuilds
up to `limit` of them, oldest first, from a stored export (bronze) or, while DynamoDB can still
export the day, a point-in-time export as of the day's end. Days neither can give back stay
missing and are counted (`UnrebuildableDays`). A heal publishes only a day still missing once it
holds the day's lock (`etl.day_publish.publish_day(only_if_missing=True)`): two runs healing the
same day, or a heal beside that day's own run, never publish it twice.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from etl import native_export
from etl.bronze import (
    BronzeExport,
    ExpectedExport,
    ExportMismatchError,
    ExportNotFoundError,
    export_item_count,
    find_day_export,
    find_export,
)
from etl.day_publish import publish_day
from etl.engine_choice import ATHENA_THRESHOLD_ROWS
from etl.lake_layout import (
    bronze_export_try_prefix,
    bronze_run_prefix,
    new_attempt_key,
    run_key_of_attempt,
)
from etl.lake_status import export_origin
from etl.publish import published_location, tag_superseded
from etl.validation import ITEM_TABLE, check_row_counts, check_staged_files
from etl.worker_day import transform_and_stage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    DynamoDBClient = Any
    GlueClient = Any
    S3Client = Any


@dataclass(frozen=True)
class DayToHeal:
    day: date
    source: str
    """`bronze` (a stored export) or `export` (a point-in-time export as of the day's end)."""


def days_to_heal(
    missing: Iterable[date],
    before: date,
    first_exportable: date | None,
    with_bronze: set[date],
    limit: int,
) -> list[DayToHeal]:
    """The oldest `limit` missing days before `before` that bronze or DynamoDB can rebuild.

    Bronze first: it costs a read, an export costs a new export. `first_exportable` None: no
    past day can be exported (a scan reads only the present).
    """
    found: list[DayToHeal] = []
    for day in sorted(set(missing)):
        if len(found) == limit or day >= before:
            break
        if day in with_bronze:
            found.append(DayToHeal(day, "bronze"))
        elif first_exportable is not None and day >= first_exportable:
            found.append(DayToHeal(day, "export"))
    return found


def day_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _published_run_key(glue: GlueClient, database: str, day: date) -> str:
    """The run a published `tasks` partition of the day came from ('' if there is none)."""
    location = published_location(glue, database, ITEM_TABLE, day)
    return run_key_of_attempt(location.rstrip("/").rsplit("/run=", 1)[1]) if location else ""


def stored_export(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    bucket: str,
    day: date,
    expected: ExpectedExport | None,
    source: str = "tasks",
) -> BronzeExport:
    """The day's trusted stored export of the table `source` (`etl.bronze.find_day_export`);
    ExportNotFoundError if bronze holds none."""
    run_key = _published_run_key(glue, database, day)
    return find_day_export(s3, bucket, day, run_key, expected, source=source)


def new_export(
    s3: S3Client,
    dynamodb: DynamoDBClient,
    *,
    table_name: str,
    bucket: str,
    day: date,
    run_id: str,
    try_number: int,
    expected: ExpectedExport,
    poke_seconds: float,
    source: str = "tasks",
    sleep: Callable[[float], None] = time.sleep,
) -> BronzeExport:
    """Export the table as of the day's end into this run's bronze for the day, and wait for it.

    A retried heal finds the export its earlier try started (`reuse_under`), as `export_native`
    does; the wait is bounded by the heal task's time limit.
    """
    arn = native_export.start_export(
        dynamodb,
        table_name=table_name,
        export_time=day_end(day),
        bucket=bucket,
        prefix=bronze_export_try_prefix(day, run_id, try_number, source),
        reuse_under=bronze_run_prefix(day, run_id, source),
    )
    while not native_export.is_export_finished(dynamodb, arn):
        sleep(poke_seconds)
    return find_export(s3, bucket, bronze_run_prefix(day, run_id, source), expected)


def rebuild_day(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    bucket: str,
    day: date,
    export: BronzeExport,
    users_export: BronzeExport,
    attempt_key: str,
    owner: str,
) -> dict[str, int] | None:
    """Transform the exports (tasks, and users of the same moment) on the worker, validate
    them and publish the day if still missing.

    Rows per table, or None when another run published the day meanwhile (its folders staged
    here are then tagged for expiry).
    """
    day_staged = transform_and_stage(
        s3,
        glue,
        database=database,
        snapshot_date=day,
        export=export,
        users_export=users_export,
        attempt_key=attempt_key,
    )
    staged = day_staged.staged
    check_row_counts(day_staged.exported_items, day_staged.transformed_items, staged)
    check_staged_files(s3, glue, database, staged)
    rows = publish_day(
        s3,
        glue,
        database=database,
        bucket=bucket,
        snapshot_date=day,
        staged=staged,
        origin=export_origin(s3, export, "duckdb"),
        owner=owner,
        only_if_missing=True,
    )
    if rows is None:
        tag_superseded(s3, staged)
    return rows


@dataclass(frozen=True)
class HealSettings:
    """Where the run reads and publishes; `dynamodb` None where no export API exists (a scan)."""

    database: str
    bucket: str
    tasks_table: str
    users_table: str
    dynamodb: DynamoDBClient | None
    poke_seconds: float


@dataclass(frozen=True)
class HealOutcome:
    published: bool
    line: str
    """The log line saying what became of the day."""


def heal_day(
    s3: S3Client,
    glue: GlueClient,
    settings: HealSettings,
    heal: DayToHeal,
    *,
    run_id: str,
    try_number: int,
) -> HealOutcome:
    """Rebuild and publish one missing day.

    A day no export can give back, or one too big for the worker (above `auto`'s threshold:
    rerun that day by itself, which can use Athena), is left missing and said so. A failed
    export, transform or validation raises: the task retries, and healed days stay healed.
    """
    try:
        export, users_export = (
            _export_of(s3, glue, settings, heal, source, run_id=run_id, try_number=try_number)
            for source in ("tasks", "users")
        )
    except (ExportNotFoundError, ExportMismatchError) as error:
        return HealOutcome(False, f"cannot heal {heal.day}: {error}")
    if (items := export_item_count(s3, export)) > ATHENA_THRESHOLD_ROWS:
        line = f"cannot heal {heal.day} on the worker ({items} items): run that day itself"
        return HealOutcome(False, line)
    rows = rebuild_day(
        s3,
        glue,
        database=settings.database,
        bucket=settings.bucket,
        day=heal.day,
        export=export,
        users_export=users_export,
        attempt_key=new_attempt_key(run_id, try_number),
        owner=run_id,
    )
    if rows is None:
        return HealOutcome(False, f"{heal.day} was published by another run meanwhile: left as is")
    counts = ", ".join(f"{table}={count}" for table, count in sorted(rows.items()))
    return HealOutcome(True, f"healed {heal.day} from {heal.source}: {counts}")


def _export_of(
    s3: S3Client,
    glue: GlueClient,
    settings: HealSettings,
    heal: DayToHeal,
    source: str,
    *,
    run_id: str,
    try_number: int,
) -> BronzeExport:
    """The day's export of the DynamoDB table `source` (tasks or users), as `heal.source` says.

    Both tables are exported as of the same moment, the day's end, so the users' task counts
    agree with the day's tasks (as in the daily run).
    """
    dynamodb = settings.dynamodb
    table_name = settings.tasks_table if source == "tasks" else settings.users_table
    expected = None
    if dynamodb is not None:
        expected = ExpectedExport(native_export.table_arn(dynamodb, table_name), day_end(heal.day))
    if heal.source == "export" and dynamodb is not None and expected is not None:
        return new_export(
            s3,
            dynamodb,
            table_name=table_name,
            bucket=settings.bucket,
            day=heal.day,
            run_id=run_id,
            try_number=try_number,
            expected=expected,
            poke_seconds=settings.poke_seconds,
            source=source,
        )
    return stored_export(
        s3,
        glue,
        database=settings.database,
        bucket=settings.bucket,
        day=heal.day,
        expected=expected,
        source=source,
    )
