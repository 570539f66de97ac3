"""DynamoDB's native point-in-time export: when it can run, starting it, and following it.

An export is asked for `ExportTime` = the end of the run's day, but DynamoDB serves only times up
to the table's latest restorable time, which trails the present by a few minutes; a run that
starts at 00:00 UTC and exports at once is refused with InvalidExportTimeException. So the DAG
first waits (a sensor in reschedule mode, holding no worker between checks) until that time has
passed the export time, then starts the export, then waits for it the same way. The decisions
are here, as plain functions; the DAG only schedules the checks.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


class PointInTimeRecoveryDisabledError(RuntimeError):
    """The table keeps no continuous backups, so no point-in-time export of it exists."""


class ExportFailedError(RuntimeError):
    """DynamoDB gave up on the export; checking it again will not change that."""


def _recovery_description(continuous_backups: Mapping[str, Any]) -> Mapping[str, Any]:
    description: Mapping[str, Any] = continuous_backups["ContinuousBackupsDescription"].get(
        "PointInTimeRecoveryDescription", {}
    )
    if description.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise PointInTimeRecoveryDisabledError(
            "point-in-time recovery is not enabled on the table, so it cannot be exported"
        )
    return description


def earliest_restorable_time(continuous_backups: Mapping[str, Any]) -> datetime:
    """The oldest time DynamoDB can export: when PITR was enabled, or 35 days ago at most.

    A new stage's table has only existed (with PITR) since its deploy, so the runs catchup
    creates for earlier days have nothing to export.
    """
    earliest: datetime = _recovery_description(continuous_backups)["EarliestRestorableDateTime"]
    return earliest


def first_exportable_day(earliest: datetime) -> date:
    """The oldest UTC day whose end (the next midnight) is not before `earliest`."""
    day = earliest.astimezone(UTC).date()
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    return day - timedelta(days=1) if earliest == midnight else day


def first_exportable_day_of(dynamodb: DynamoDBClient, table_name: str) -> date:
    """The first whole day the table can export, read from its continuous backups."""
    backups = dynamodb.describe_continuous_backups(TableName=table_name)
    return first_exportable_day(earliest_restorable_time(backups))


def table_arn(dynamodb: DynamoDBClient, table_name: str) -> str:
    """The table's ARN, which a native export's manifest must name."""
    arn: str = dynamodb.describe_table(TableName=table_name)["Table"]["TableArn"]
    return arn


def not_exportable_reason(dynamodb: DynamoDBClient, table_name: str, export_time: datetime) -> str:
    """Why `table_name` can never be exported as of `export_time` ('' when it can, now or soon).

    Only a time before the earliest restorable one is lost for good; one after the latest is
    waited for (`wait_before_export`).
    """
    earliest = earliest_restorable_time(dynamodb.describe_continuous_backups(TableName=table_name))
    if export_time >= earliest:
        return ""
    return (
        f"{table_name} cannot be exported as of {export_time.isoformat()}: its earliest "
        f"restorable time is {earliest.isoformat()}"
    )


def latest_restorable_time(continuous_backups: Mapping[str, Any]) -> datetime:
    """The newest time DynamoDB can export, from a DescribeContinuousBackups response."""
    latest: datetime = _recovery_description(continuous_backups)["LatestRestorableDateTime"]
    return latest


def seconds_until_exportable(latest_restorable: datetime, export_time: datetime) -> float:
    """0 when an export as of `export_time` can start now; else how far DynamoDB still trails.

    The latest restorable time advances with the clock, so the gap is also about how long to wait.
    """
    return max(0.0, (export_time - latest_restorable).total_seconds())


def wait_before_export(dynamodb: DynamoDBClient, table_name: str, export_time: datetime) -> float:
    """Seconds before DynamoDB can export `table_name` as of `export_time` (0: start it now)."""
    backups = dynamodb.describe_continuous_backups(TableName=table_name)
    return seconds_until_exportable(latest_restorable_time(backups), export_time)


def start_export(
    dynamodb: DynamoDBClient,
    *,
    table_name: str,
    export_time: datetime,
    bucket: str,
    prefix: str,
    reuse_under: str = "",
) -> str:
    """Start the export of the table as of `export_time` into `s3://bucket/prefix`; its ARN.

    With `reuse_under` (the run's bronze prefix, which `prefix` is inside), an export of the
    same table and time already started under it by an earlier try of the task is returned
    instead: a retry after a lost worker or a timed-out call does not pay for a second export.
    """
    table_arn = dynamodb.describe_table(TableName=table_name)["Table"]["TableArn"]
    if reuse_under:
        earlier = reusable_export(dynamodb, table_arn, export_time, bucket, reuse_under)
        if earlier:
            return earlier
    started = dynamodb.export_table_to_point_in_time(
        TableArn=table_arn,
        ExportTime=export_time,
        S3Bucket=bucket,
        S3Prefix=prefix,
        ExportFormat="DYNAMODB_JSON",
    )
    arn: str = started["ExportDescription"]["ExportArn"]
    return arn


def export_finished(export: Mapping[str, Any]) -> bool:
    """Whether a DescribeExport response shows the export complete; raises if it failed."""
    description = export["ExportDescription"]
    status = description["ExportStatus"]
    if status == "FAILED":
        reason = description.get("FailureMessage") or description.get("FailureCode", "no reason")
        raise ExportFailedError(f"export {description['ExportArn']} failed: {reason}")
    return bool(status == "COMPLETED")


def is_export_finished(dynamodb: DynamoDBClient, export_arn: str) -> bool:
    return export_finished(dynamodb.describe_export(ExportArn=export_arn))


def reusable_export(
    dynamodb: DynamoDBClient, table_arn: str, export_time: datetime, bucket: str, run_prefix: str
) -> str:
    """The ARN of an export of `table_arn` as of `export_time` under `s3://bucket/run_prefix`
    that is running or complete ('' when there is none); a failed one is never reused.

    ListExports covers the past 90 days and names no prefix, so each candidate is described;
    it is called only by a retried task, at most a few dozen describes.
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListExports.html
    """
    token: dict[str, str] = {}
    while True:
        page = dynamodb.list_exports(TableArn=table_arn, MaxResults=25, **token)
        for summary in page.get("ExportSummaries", []):
            if summary.get("ExportStatus") == "FAILED":
                continue
            export = dynamodb.describe_export(ExportArn=summary["ExportArn"])["ExportDescription"]
            same_time = export.get("ExportTime", export_time) == export_time
            if (
                export.get("S3Bucket") == bucket
                and export.get("S3Prefix", "").startswith(run_prefix)
                and same_time
            ):
                arn: str = summary["ExportArn"]
                return arn
        if "NextToken" not in page:
            return ""
        token = {"NextToken": page["NextToken"]}
