"""`make report` draws what the lake and the run log say, into valid PNG files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.lines import Line2D

from etl.dynamodb_export import find_export_files
from etl.query import connect_lake
from etl.run_metrics import RunReport, append_run_metrics, run_metric_data
from etl.synthetic import SyntheticTask, generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from infra.local.report import (
    EtlRun,
    daily_activity,
    etl_runs,
    etl_runs_figure,
    lake_activity_figure,
    main,
)

SNAPSHOTS = (date(2026, 11, 24), date(2026, 11, 25))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _y(line: Line2D) -> list[Any]:
    """The values a line plots, as plain Python numbers."""
    values: list[Any] = np.asarray(line.get_ydata()).tolist()
    return values


@pytest.fixture(scope="module")
def tasks() -> list[SyntheticTask]:
    return list(generate_tasks(400, SNAPSHOTS[-1], seed=3))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, tasks: list[SyntheticTask]) -> Path:
    """Two snapshot days; the older one holds only half the tasks, so it must be ignored."""
    root = tmp_path_factory.mktemp("report")
    for snapshot, subset in zip(SNAPSHOTS, (tasks[:200], tasks), strict=True):
        export = root / f"export-{snapshot}"
        write_export((to_dynamodb_item(task) for task in subset), export)
        transform_export(find_export_files(export), root / "lake", snapshot)
    return root / "lake"


@pytest.fixture
def metrics_log(tmp_path: Path) -> Path:
    log = tmp_path / "tasks_daily.jsonl"
    rows = {"tasks": 400, "user_daily_stats": 10, "tag_daily_stats": 26}
    reports = [
        RunReport("tasks_daily", True, 14.5, 400, rows, 3, 300.0),
        RunReport("tasks_daily", False, 3.0, freshness_seconds=86_700.0),
    ]
    for hour, report in enumerate(reports):
        append_run_metrics(log, run_metric_data(report, datetime(2026, 11, 26, hour, tzinfo=UTC)))
    return log


def test_daily_activity_counts_the_latest_snapshot(lake: Path, tasks: list[SyntheticTask]) -> None:
    created = Counter(task.created_at.astimezone(UTC).date() for task in tasks)
    completed = Counter(
        task.completed_at.astimezone(UTC).date() for task in tasks if task.completed_at
    )
    done = Counter(task.created_at.astimezone(UTC).date() for task in tasks if task.completed_at)

    days = daily_activity(connect_lake(str(lake)))

    assert [day.day for day in days] == sorted(created.keys() | completed.keys())
    assert {day.day: day.created for day in days if day.created} == created
    assert {day.day: day.completed for day in days if day.completed} == completed
    for day in days:
        expected = done[day.day] / created[day.day] if created[day.day] else None
        assert day.completion_rate == pytest.approx(expected)


def test_the_lake_chart_plots_the_query_results(lake: Path) -> None:
    days = daily_activity(connect_lake(str(lake)))

    counts, rate = lake_activity_figure(days).axes

    created_line, completed_line = counts.get_lines()
    assert _y(created_line) == [day.created for day in days]
    assert _y(completed_line) == [day.completed for day in days]
    assert _y(rate.get_lines()[0]) == [
        day.completion_rate for day in days if day.completion_rate is not None
    ]


def test_etl_runs_come_back_from_the_metric_log(metrics_log: Path) -> None:
    runs = etl_runs(metrics_log)

    assert runs == [
        EtlRun(
            datetime(2026, 11, 26, 0, tzinfo=UTC),
            True,
            14.5,
            {"tag_daily_stats": 26, "tasks": 400, "user_daily_stats": 10},
        ),
        EtlRun(datetime(2026, 11, 26, 1, tzinfo=UTC), False, 3.0, {}),
    ]
    duration, rows = etl_runs_figure(runs).axes
    assert _y(duration.get_lines()[0]) == [14.5, 3.0]
    assert _y(duration.get_lines()[1]) == [3.0]
    assert {str(line.get_label()): _y(line) for line in rows.get_lines()} == {
        "tag_daily_stats": [26],
        "tasks": [400],
        "user_daily_stats": [10],
    }


def test_the_report_writes_png_charts_and_prints_their_paths(
    lake: Path, metrics_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"

    code = main(["--lake-root", str(lake), "--metrics-log", str(metrics_log), "--out", str(out)])

    assert code == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / "etl-runs.png"), str(out / "lake-activity.png")]
    for path in map(Path, printed):
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert path.stat().st_size > 10_000


def test_an_empty_lake_says_what_to_run_first(
    tmp_path: Path, metrics_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--lake-root", str(tmp_path / "nothing"), "--metrics-log", str(metrics_log)])

    assert code == 1
    assert capsys.readouterr().err == "error: the lake is empty: run make seed && make etl first\n"
