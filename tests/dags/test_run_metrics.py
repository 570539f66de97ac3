"""tasks_daily reports each run to CloudWatch (moto here): read back what a run sent."""

from datetime import UTC, date, datetime
from pathlib import Path

from etl.publish import newest_published_day
from etl.run_metrics import RUN_METRICS, read_run_metrics
from etl.schemas import TABLES as LAKE_TABLES
from tests.dags.local_stack import LocalStack, task_item

TABLES = tuple(LAKE_TABLES)


def test_a_successful_run_reports_rows_partitions_and_freshness(
    stack: LocalStack, tmp_path: Path
) -> None:
    # Later than any other DAG test's day, so the catalog's newest day is this run's.
    day = date(2026, 11, 28)
    stack.put_tasks(
        task_item("alice", "t1"),
        task_item("alice", "t2", status="done", completed_at="2026-11-27T10:00:00Z"),
        task_item("bob", "t3", tags=["work", "home"]),
        task_item("carol", "t4", tags=["garden"]),
    )
    log = tmp_path / "metrics.jsonl"
    since = datetime.now(UTC).replace(microsecond=0)

    result = stack.run_dag(day, AIRFLOW_VAR_TASKLAKE_METRICS_LOG=str(log))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ended = datetime.now(UTC)
    output = result.stdout + result.stderr
    assert "tasks_daily run published; " in output
    assert "rows_exported=4; rows_written=[tag_daily_stats=" in output
    assert "athena_queries=" not in output
    assert stack.etl_metric("RunSucceeded", since) == (1, 1)
    assert stack.etl_metric("RunFailed", since) == (0, 0)
    assert stack.etl_metric("RowsExported", since) == (1, 4)
    assert stack.etl_metric("PartitionsPublished", since) == (1, len(TABLES))
    for table in TABLES:
        published = stack.read_published(table, day).num_rows
        assert stack.etl_metric("RowsWritten", since, Table=table) == (1, published)
    assert stack.etl_metric("RowsWritten", since, Table="tasks") == (1, 4)
    runs, duration = stack.etl_metric("RunDurationSeconds", since)
    assert runs == 1
    assert 0 < duration < (ended - since).total_seconds() + 1

    newest = newest_published_day(stack.client("glue"), stack.database, "tasks")
    assert newest == day
    end_of_day = datetime(2026, 11, 29, tzinfo=UTC)
    count, freshness = stack.etl_metric("DataFreshnessSeconds", since)
    assert count == 1
    assert (since - end_of_day).total_seconds() <= freshness
    assert freshness <= (ended - end_of_day).total_seconds()

    # A pyarrow run: no failure, and no Athena query to have scanned anything.
    sent = {m.name for m in RUN_METRICS} - {"RunFailed", "AthenaBytesScanned"}
    listed = stack.client("cloudwatch").list_metrics(Namespace="Tasklake/ETL")["Metrics"]
    shapes = {(m["MetricName"], tuple(d["Name"] for d in m["Dimensions"])) for m in listed}
    assert shapes >= {(m.name, m.dimensions) for m in RUN_METRICS if m.name in sent}

    (logged,) = read_run_metrics(log)
    assert {d["MetricName"] for d in logged} == sent
    assert {d["MetricName"]: d["Value"] for d in logged}["DataFreshnessSeconds"] == freshness
