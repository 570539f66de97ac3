"""The ETL's CloudWatch metrics: the one catalog of their names, and the datapoints of a run.

Namespace `Tasklake/ETL`; every metric has dimension `Dag`, `RowsWritten` also `Table`. The
monitoring stack's alarms and dashboard are checked against `METRICS`, so a name changes here,
in the templates and in the runbook together. The DAG's `report` task sends one datapoint set
per run, success or failure, and logs the run's summary line. Standard library only: anything
may import the catalog.
"""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
else:
    CloudWatchClient = Any

NAMESPACE = "Tasklake/ETL"
DAG = "Dag"
TABLE = "Table"


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    unit: str
    dimensions: tuple[str, ...]
    meaning: str


RUN_SUCCEEDED = MetricDefinition("RunSucceeded", "Count", (DAG,), "1: the run published")
RUN_FAILED = MetricDefinition("RunFailed", "Count", (DAG,), "1: the run ended unpublished")
RUN_DURATION_SECONDS = MetricDefinition(
    "RunDurationSeconds", "Seconds", (DAG,), "first task's start to the report"
)
ROWS_EXPORTED = MetricDefinition("RowsExported", "Count", (DAG,), "items in the export")
ROWS_WRITTEN = MetricDefinition(
    "RowsWritten", "Count", (DAG, TABLE), "rows published for the day, per table"
)
PARTITIONS_PUBLISHED = MetricDefinition(
    "PartitionsPublished", "Count", (DAG,), "Glue partitions the run pointed at its folder"
)
PUBLISH_SLA = timedelta(hours=8)
"""A day is published within this long after it ends: the export's wait for DynamoDB (minutes),
the export (minutes to about an hour), the transform (up to an hour), and their retries."""
FRESHNESS_ALARM_AFTER = timedelta(days=1) + PUBLISH_SLA
"""How old the newest day may get: a day stays the newest until the next one is published, a
day plus the SLA after it ended (infra/monitoring.yaml, EtlDataFreshnessAlarm)."""
DATA_FRESHNESS_SECONDS = MetricDefinition(
    "DataFreshnessSeconds", "Seconds", (DAG,), "now minus the end of the newest published day"
)
ATHENA_BYTES_SCANNED = MetricDefinition(
    "AthenaBytesScanned",
    "Bytes",
    (DAG,),
    "bytes the run's finished Athena queries scanned (what Athena bills); Athena runs only",
)
MISSING_PARTITIONS = MetricDefinition(
    "MissingPartitions",
    "Count",
    (DAG,),
    "days since the lake began, up to the run's day, that some lake table does not publish",
)
UNREBUILDABLE_DAYS = MetricDefinition(
    "UnrebuildableDays",
    "Count",
    (DAG,),
    "missing days neither DynamoDB's export window nor stored bronze can rebuild: lost",
)
ROWS_ERASED = MetricDefinition(
    "RowsErased",
    "Count",
    (DAG, TABLE),
    "rows of deleted accounts the erasure removed from published partitions, per table",
)
ERASURE_BLOCKED = MetricDefinition(
    "ErasureBlocked",
    "Count",
    (DAG,),
    "1: the erasure refused to run (no, an empty or a stale users partition; too many accounts)",
)
ERASURE_FAILED = MetricDefinition(
    "ErasureFailed", "Count", (DAG,), "1: an erasure run failed, refused or not (alarmed)"
)
RUN_METRICS: tuple[MetricDefinition, ...] = (
    RUN_SUCCEEDED,
    RUN_FAILED,
    RUN_DURATION_SECONDS,
    ROWS_EXPORTED,
    ROWS_WRITTEN,
    PARTITIONS_PUBLISHED,
    DATA_FRESHNESS_SECONDS,
    ATHENA_BYTES_SCANNED,
    MISSING_PARTITIONS,
    UNREBUILDABLE_DAYS,
)
"""What tasks_daily sends."""
ERASURE_METRICS: tuple[MetricDefinition, ...] = (ROWS_ERASED, ERASURE_BLOCKED, ERASURE_FAILED)
"""What lake_erasure sends."""
METRICS = RUN_METRICS + ERASURE_METRICS


@dataclass(frozen=True)
class AthenaQuery:
    """One Athena query of a run: its execution id, final state and bytes scanned."""

    query_id: str
    state: str
    bytes_scanned: int


@dataclass(frozen=True)
class RunReport:
    """What one run has to say; None (or no tables) where the run never got that far."""

    dag_id: str
    succeeded: bool
    duration_seconds: float
    rows_exported: int | None = None
    rows_written: Mapping[str, int] = field(default_factory=dict)
    partitions_published: int | None = None
    freshness_seconds: float | None = None
    athena_queries: tuple[AthenaQuery, ...] = ()
    """Empty when the run did not transform with Athena (or no Athena query finished)."""
    missing_partitions: int | None = None
    """Days since the lake began up to the run's day with no partition (etl/missing_partitions)."""
    unrebuildable_days: int | None = None
    """Of those, the days no export or bronze can rebuild any more."""

    @property
    def athena_bytes_scanned(self) -> int | None:
        if not self.athena_queries:
            return None
        return sum(query.bytes_scanned for query in self.athena_queries)


def data_freshness_seconds(newest_day: date | None, now: datetime) -> float | None:
    """Seconds since the end (next midnight UTC) of the newest published snapshot day.

    None when nothing is published: there is no honest number, and the alarm treats a missing
    datapoint as breaching.
    """
    if newest_day is None:
        return None
    end = datetime.combine(newest_day + timedelta(days=1), time(), tzinfo=UTC)
    return (now - end).total_seconds()


def _datum(
    metric: MetricDefinition, value: float, at: datetime, dimensions: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "MetricName": metric.name,
        "Dimensions": [{"Name": name, "Value": dimensions[name]} for name in metric.dimensions],
        "Value": value,
        "Unit": metric.unit,
        "Timestamp": at,
    }


def run_failed_data(dag_id: str, timestamp: datetime | None = None) -> list[dict[str, Any]]:
    """RunFailed alone: what the DAG's failure callback sends, whatever ended the run."""
    return [_datum(RUN_FAILED, 1, timestamp or datetime.now(UTC), {DAG: dag_id})]


def erasure_metric_data(
    dag_id: str, rows_erased: Mapping[str, int], timestamp: datetime | None = None
) -> list[dict[str, Any]]:
    """A finished erasure's RowsErased per table (none: nothing was there to erase)."""
    at = timestamp or datetime.now(UTC)
    return [
        _datum(ROWS_ERASED, rows, at, {DAG: dag_id, TABLE: table})
        for table, rows in sorted(rows_erased.items())
    ]


def erasure_blocked_data(dag_id: str, timestamp: datetime | None = None) -> list[dict[str, Any]]:
    return [_datum(ERASURE_BLOCKED, 1, timestamp or datetime.now(UTC), {DAG: dag_id})]


def erasure_failed_data(dag_id: str, timestamp: datetime | None = None) -> list[dict[str, Any]]:
    return [_datum(ERASURE_FAILED, 1, timestamp or datetime.now(UTC), {DAG: dag_id})]


def run_metric_data(
    report: RunReport, timestamp: datetime | None = None, *, with_failure: bool = True
) -> list[dict[str, Any]]:
    """The run's PutMetricData datums, all with the same timestamp.

    `with_failure=False` leaves RunFailed out of a failed run's datums: the DAG sends it from
    its failure callback (`run_failed_data`), which also sees runs no task reported.
    """
    at = timestamp or datetime.now(UTC)
    dag = {DAG: report.dag_id}
    data = [_datum(RUN_DURATION_SECONDS, report.duration_seconds, at, dag)]
    if report.succeeded:
        data.insert(0, _datum(RUN_SUCCEEDED, 1, at, dag))
    elif with_failure:
        data.insert(0, _datum(RUN_FAILED, 1, at, dag))
    if report.rows_exported is not None:
        data.append(_datum(ROWS_EXPORTED, report.rows_exported, at, dag))
    data.extend(
        _datum(ROWS_WRITTEN, rows, at, {**dag, TABLE: table})
        for table, rows in sorted(report.rows_written.items())
    )
    if report.partitions_published is not None:
        data.append(_datum(PARTITIONS_PUBLISHED, report.partitions_published, at, dag))
    if report.freshness_seconds is not None:
        data.append(_datum(DATA_FRESHNESS_SECONDS, report.freshness_seconds, at, dag))
    if report.athena_bytes_scanned is not None:
        data.append(_datum(ATHENA_BYTES_SCANNED, report.athena_bytes_scanned, at, dag))
    if report.missing_partitions is not None:
        data.append(_datum(MISSING_PARTITIONS, report.missing_partitions, at, dag))
    if report.unrebuildable_days is not None:
        data.append(_datum(UNREBUILDABLE_DAYS, report.unrebuildable_days, at, dag))
    return data


def summary_line(report: RunReport) -> str:
    """The run in one log line: outcome, sizes and, for Athena, each query id with its bytes."""
    rows = ", ".join(f"{table}={rows}" for table, rows in sorted(report.rows_written.items()))
    parts = [
        f"{report.dag_id} run {'published' if report.succeeded else 'did not publish'}",
        f"duration_seconds={report.duration_seconds:.1f}",
        f"rows_exported={report.rows_exported}",
        f"rows_written=[{rows}]",
    ]
    if report.athena_queries:
        queries = ", ".join(
            f"{query.query_id} {query.state} {query.bytes_scanned}"
            for query in report.athena_queries
        )
        parts.append(f"athena_queries=[{queries}]")
        parts.append(f"athena_bytes_scanned={report.athena_bytes_scanned}")
    return "; ".join(parts)


def put_run_metrics(cloudwatch: CloudWatchClient, data: list[dict[str, Any]]) -> None:
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        # Plain dicts: the stubs' MetricDatumTypeDef exists only where the stubs are installed.
        MetricData=cast(Any, data),
    )


def append_run_metrics(path: Path, data: list[dict[str, Any]]) -> None:
    """Also keep the run's PutMetricData request as one JSON line in `path`.

    The local stack's run history: its CloudWatch (moto) keeps metrics in memory only, so they
    are gone when the stack stops. Configured by the Variable `tasklake_metrics_log`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    request = {"Namespace": NAMESPACE, "MetricData": data}
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(request, default=datetime.isoformat) + "\n")


def read_run_metrics(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The runs `append_run_metrics` kept, oldest first, timestamps as datetimes again."""
    with path.open(encoding="utf-8") as log:
        for line in log:
            if line.strip():
                data: list[dict[str, Any]] = json.loads(line)["MetricData"]
                for datum in data:
                    datum["Timestamp"] = datetime.fromisoformat(datum["Timestamp"])
                yield data
