"""The ETL's CloudWatch metrics: one datapoint set per DAG run, success or failure.

Namespace `Tasklake/ETL`, every metric with dimension `Dag`; `RowsWritten` also per `Table`.
Alarms and the dashboard key on these names, so they change only together with the runbook.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
else:
    CloudWatchClient = Any

NAMESPACE = "Tasklake/ETL"


def run_metric_data(
    dag_id: str,
    succeeded: bool,
    duration_seconds: float,
    rows_written: dict[str, int],
    timestamp: datetime | None = None,
) -> list[dict[str, Any]]:
    at = timestamp or datetime.now(UTC)
    dag = {"Name": "Dag", "Value": dag_id}
    data: list[dict[str, Any]] = [
        {
            "MetricName": "RunSucceeded" if succeeded else "RunFailed",
            "Dimensions": [dag],
            "Value": 1,
            "Unit": "Count",
            "Timestamp": at,
        },
        {
            "MetricName": "RunDurationSeconds",
            "Dimensions": [dag],
            "Value": duration_seconds,
            "Unit": "Seconds",
            "Timestamp": at,
        },
    ]
    data.extend(
        {
            "MetricName": "RowsWritten",
            "Dimensions": [dag, {"Name": "Table", "Value": table}],
            "Value": rows,
            "Unit": "Count",
            "Timestamp": at,
        }
        for table, rows in sorted(rows_written.items())
    )
    return data


def put_run_metrics(
    cloudwatch: CloudWatchClient,
    dag_id: str,
    succeeded: bool,
    duration_seconds: float,
    rows_written: dict[str, int],
) -> None:
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        # Plain dicts: the stubs' MetricDatumTypeDef exists only where the stubs are installed.
        MetricData=cast(Any, run_metric_data(dag_id, succeeded, duration_seconds, rows_written)),
    )
