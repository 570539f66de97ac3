"""The ETL metric datapoints: names, units and dimensions from the one catalog, per outcome."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from etl.run_metrics import (
    METRICS,
    RUN_METRICS,
    AthenaQuery,
    RunReport,
    append_run_metrics,
    data_freshness_seconds,
    read_run_metrics,
    run_metric_data,
    summary_line,
)

AT = datetime(2026, 11, 26, 0, 5, tzinfo=UTC)


def _by_name(data: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for datum in data:
        found.setdefault(datum["MetricName"], []).append(datum)
    return found


def test_a_successful_run_reports_every_metric_of_the_catalog() -> None:
    report = RunReport(
        "tasks_daily",
        succeeded=True,
        duration_seconds=12.5,
        rows_exported=3,
        rows_written={"tasks": 3, "user_daily_stats": 2, "tag_daily_stats": 4},
        partitions_published=3,
        freshness_seconds=300.0,
        athena_queries=(AthenaQuery("q1", "SUCCEEDED", 0), AthenaQuery("q2", "SUCCEEDED", 2048)),
        missing_partitions=2,
        unrebuildable_days=1,
    )

    data = _by_name(run_metric_data(report, AT))

    assert set(data) == {metric.name for metric in RUN_METRICS} - {"RunFailed"}
    assert [d["Value"] for d in data["UnrebuildableDays"]] == [1]
    assert [d["Value"] for d in data["MissingPartitions"]] == [2]
    assert [d["Value"] for d in data["RunSucceeded"]] == [1]
    assert [d["Value"] for d in data["AthenaBytesScanned"]] == [2048]
    assert [d["Value"] for d in data["RowsExported"]] == [3]
    assert [d["Value"] for d in data["PartitionsPublished"]] == [3]
    assert {d["Dimensions"][1]["Value"]: d["Value"] for d in data["RowsWritten"]} == {
        "tasks": 3,
        "user_daily_stats": 2,
        "tag_daily_stats": 4,
    }
    for metric in METRICS:
        for datum in data.get(metric.name, []):
            assert datum["Unit"] == metric.unit
            assert tuple(d["Name"] for d in datum["Dimensions"]) == metric.dimensions
            assert datum["Dimensions"][0] == {"Name": "Dag", "Value": "tasks_daily"}
            assert datum["Timestamp"] == AT


def test_a_failed_run_reports_failure_duration_and_freshness_but_no_rows() -> None:
    report = RunReport("tasks_daily", False, 4.0, freshness_seconds=90_000.0)

    data = _by_name(run_metric_data(report, AT))

    assert set(data) == {"RunFailed", "RunDurationSeconds", "DataFreshnessSeconds"}
    assert data["DataFreshnessSeconds"][0]["Value"] == 90_000.0


def test_a_pyarrow_run_sends_no_athena_bytes_and_its_summary_names_no_queries() -> None:
    report = RunReport("tasks_daily", True, 3.0, rows_exported=2, rows_written={"tasks": 2})

    assert "AthenaBytesScanned" not in _by_name(run_metric_data(report, AT))
    assert summary_line(report) == (
        "tasks_daily run published; duration_seconds=3.0; rows_exported=2; rows_written=[tasks=2]"
    )


def test_freshness_counts_from_the_end_of_the_newest_published_day() -> None:
    assert data_freshness_seconds(date(2026, 11, 25), AT) == 300.0
    assert data_freshness_seconds(date(2026, 11, 24), AT) == 86_400 + 300.0
    assert data_freshness_seconds(None, AT) is None


def test_the_metric_log_gives_back_the_requests_it_kept(tmp_path: Path) -> None:
    log = tmp_path / "metrics" / "runs.jsonl"
    first = run_metric_data(RunReport("tasks_daily", True, 1.0, rows_exported=5), AT)
    second = run_metric_data(RunReport("tasks_daily", False, 2.0), AT)

    append_run_metrics(log, first)
    append_run_metrics(log, second)

    assert list(read_run_metrics(log)) == [first, second]


def test_the_catalog_names_each_metric_once() -> None:
    names = [metric.name for metric in METRICS]
    assert len(names) == len(set(names)) == 13
