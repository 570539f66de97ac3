"""The Athena engine's hand-off to validate and to the run's report, on moto's S3, Athena and
CloudWatch.

moto cannot execute Athena queries: the CTAS output is stood in for by Parquet files put where the
CTAS writes them, and moto reports 0 bytes scanned for every query, so the report test stubs that
one statistic.
"""

import gzip
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from etl.athena_output import query_statistics, staged_ctas_partitions
from etl.athena_transform import attempt_statements
from etl.bronze import BronzeExport, export_data_location, export_item_count
from etl.run_metrics import (
    DAG,
    NAMESPACE,
    RunReport,
    put_run_metrics,
    run_metric_data,
    summary_line,
)
from etl.schemas import TABLES

BUCKET = "lake"
SNAPSHOT = date(2026, 11, 25)
FOLDER = "silver/tasks/year=2026/month=11/day=25/run=r.try1.ab/"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _parquet(rows: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"task_id": [str(n) for n in range(rows)]}), sink)
    return sink.getvalue()


def test_ctas_files_are_staged_with_their_keys_and_rows(s3: Any) -> None:
    for name, rows in (("20261125_q1_00000", 3), ("20261125_q1_00001", 2)):
        s3.put_object(Bucket=BUCKET, Key=FOLDER + name, Body=_parquet(rows))

    (staged,) = staged_ctas_partitions(s3, {"tasks": f"s3://{BUCKET}/{FOLDER}"}, SNAPSHOT)

    assert staged.table == "tasks"
    assert staged.snapshot_date == "2026-11-25"
    assert staged.location == f"s3://{BUCKET}/{FOLDER}"
    assert staged.keys == [FOLDER + "20261125_q1_00000", FOLDER + "20261125_q1_00001"]
    assert staged.rows == 5


def test_a_ctas_that_wrote_nothing_stages_no_rows(s3: Any) -> None:
    (staged,) = staged_ctas_partitions(s3, {"tasks": f"s3://{BUCKET}/{FOLDER}"}, SNAPSHOT)

    assert (staged.keys, staged.rows) == ([], 0)


def test_a_scan_export_is_counted_by_its_lines(s3: Any) -> None:
    prefix = "bronze/run=r/attempt=1/data/"
    s3.put_object(Bucket=BUCKET, Key=prefix + "a", Body=gzip.compress(b'{"Item":{}}\n' * 3))
    s3.put_object(Bucket=BUCKET, Key=prefix + "b", Body=b"")  # a scan of an empty table
    export = BronzeExport(BUCKET, "bronze/run=r/attempt=1/", [prefix + "a", prefix + "b"], None)

    assert export_item_count(s3, export) == 3
    assert export_data_location(export) == f"s3://{BUCKET}/{prefix}"


def test_a_native_export_is_counted_by_its_manifest() -> None:
    export = BronzeExport(BUCKET, "p/", ["p/AWSDynamoDB/x/data/1.json.gz"], item_count=12_000_000)

    assert export_item_count(None, export) == 12_000_000  # nothing is read


def test_query_statistics_name_each_query_and_its_bytes_scanned() -> None:
    with mock_aws():
        athena = boto3.client("athena", region_name="us-east-1")
        query_id = athena.start_query_execution(
            QueryString="SELECT 1", ResultConfiguration={"OutputLocation": "s3://results/"}
        )["QueryExecutionId"]

        (statistics,) = query_statistics(athena, [query_id])

    assert statistics.query_id == query_id
    assert statistics.state == "SUCCEEDED"
    assert isinstance(statistics.bytes_scanned, int)


def _stub_bytes_scanned(athena: Any, scanned: dict[str, int]) -> None:
    """Replace moto's 0 with `scanned[query id]` in every parsed GetQueryExecution answer."""

    def stub(parsed: dict[str, Any], **_: Any) -> None:
        execution = parsed["QueryExecution"]
        execution["Statistics"]["DataScannedInBytes"] = scanned[execution["QueryExecutionId"]]

    athena.meta.events.register("after-call.athena.GetQueryExecution", stub)


def test_an_athena_run_reports_its_query_ids_and_the_bytes_they_scanned() -> None:
    """Given the attempt's queries submitted to moto's Athena (recorded, not executed), the
    run's report names each query id in its summary line and sends their bytes scanned, summed,
    as `AthenaBytesScanned`, read back here from moto's CloudWatch."""
    statements = attempt_statements(
        "tasklake_dev",
        attempt_key="scheduled__2026-11-25.try1.ab12",
        data_location=f"s3://{BUCKET}/bronze/run=r/attempt=1/data/",
        locations={table: f"s3://{BUCKET}/{table}/staging/" for table in TABLES},
        snapshot_date=SNAPSHOT,
    )
    since = datetime.now(UTC).replace(microsecond=0)
    with mock_aws():
        athena = boto3.client("athena", region_name="us-east-1")
        query_ids = [
            athena.start_query_execution(
                QueryString=statements[name],
                ResultConfiguration={"OutputLocation": "s3://results/"},
            )["QueryExecutionId"]
            for name in ("create_bronze", *TABLES)
        ]
        # DDL scans nothing; each CTAS reads the export once.
        scanned = dict(zip(query_ids, (0, *(999_812_345 for _ in TABLES)), strict=True))
        _stub_bytes_scanned(athena, scanned)
        report = RunReport(
            "tasks_daily", True, 95.0, athena_queries=tuple(query_statistics(athena, query_ids))
        )
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        put_run_metrics(cloudwatch, run_metric_data(report))
        points = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName="AthenaBytesScanned",
            Dimensions=[{"Name": DAG, "Value": "tasks_daily"}],
            StartTime=since - timedelta(minutes=1),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=3600,
            Statistics=["SampleCount", "Sum"],
        )["Datapoints"]

    total = sum(scanned.values())
    assert [(p["SampleCount"], p["Sum"], p["Unit"]) for p in points] == [(1, total, "Bytes")]
    line = summary_line(report)
    for query_id, scanned_bytes in scanned.items():
        assert f"{query_id} SUCCEEDED {scanned_bytes}" in line
    assert line.endswith(f"athena_bytes_scanned={total}")
