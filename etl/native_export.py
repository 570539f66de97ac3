"""DynamoDB's native point-in-time export: when it can run, starting it, and following it.

An export is asked for `ExportTime` = the end of the run's day, but DynamoDB serves only times up
to the table's latest restorable time, which trails the present by a few minutes; a run that
starts at 00:00 UTC and exports at once is refused with InvalidExportTimeException. So the DAG
first waits (a sensor in reschedule mode, holding no worker between checks) until that time has
passed the export time, then starts the export, then waits for it the same way. The decisions
are here, as plain functions; the DAG only schedules the checks.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


class PointInTimeRecoveryDisabledError(RuntimeError):
    """The table keeps no continuous backups, so no point-in-time export of it exists."""


class ExportFailedError(RuntimeError):
    """DynamoDB gave up on the export; checking it again will not change that."""


def latest_restorable_time(continuous_backups: Mapping[str, Any]) -> datetime:
    """The newest time DynamoDB can export, from a DescribeContinuousBackups response."""
    description = continuous_backups["ContinuousBackupsDescription"].get(
        "PointInTimeRecoveryDescription", {}
    )
    if description.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise PointInTimeRecoveryDisabledError(
            "point-in-time recovery is not enabled on the table, so it cannot be exported"
        )
    latest: datetime = description["LatestRestorableDateTime"]
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
) -> str:
    """Start the export of the table as of `export_time` into `s3://bucket/prefix`; its ARN."""
    table_arn = dynamodb.describe_table(TableName=table_name)["Table"]["TableArn"]
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
