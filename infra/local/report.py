"""`make report`: PNG charts of the local ETL runs and of what the published lake says.

    python -m infra.local.report [--out build/report] [--lake-root .local/lake]

ETL runs are read from the metric log every local run appends to (`.local/metrics/`, set by
`airflow_local` through the Variable `tasklake_metrics_log`): the same PutMetricData request the
run sends to CloudWatch, one JSON line per run. Not from moto's CloudWatch, which keeps metrics
in memory and loses them whenever `make run` (or the moto `make etl` starts for itself) stops.
Not from Airflow's metadata database either: its schema is Airflow's internal business, the rows
written sit in serialized XComs, and reading it would tie this report to `.venv-airflow`, which
has no matplotlib. The log holds exactly the numbers the alarms see; `make clean-local` clears it.

Lake activity comes from DuckDB over the local lake (`etl.query`, as Athena would answer it),
from the latest `tasks` snapshot: tasks created and completed per day, and the share of each
day's new tasks that is done by now.

Data and drawing are separate functions, so tests check the plotted series against the query.
matplotlib is imported here only: nothing the DAG loads may import it.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from matplotlib.figure import Figure

from etl.query import DEFAULT_LAKE_ROOT, connect_lake
from etl.run_metrics import ROWS_WRITTEN, RUN_DURATION_SECONDS, RUN_SUCCEEDED, read_run_metrics
from infra.local.airflow_local import METRICS_LOG

DAILY_ACTIVITY_SQL = """
WITH latest AS (
    SELECT created_at, completed_at
    FROM tasks
    WHERE year || month || day = (SELECT max(year || month || day) FROM tasks)
),
created AS (
    SELECT CAST(created_at AS date) AS day, count(*) AS created,
        count(completed_at) AS done_by_now
    FROM latest GROUP BY 1
),
completed AS (
    SELECT CAST(completed_at AS date) AS day, count(*) AS completed
    FROM latest WHERE completed_at IS NOT NULL GROUP BY 1
)
SELECT day, coalesce(created, 0), coalesce(completed, 0),
    CAST(done_by_now AS double) / nullif(created, 0)
FROM created FULL OUTER JOIN completed USING (day)
ORDER BY day
"""


class ReportError(RuntimeError):
    """The report has nothing to draw; the message says what to run first."""


@dataclass(frozen=True)
class EtlRun:
    at: datetime
    succeeded: bool
    duration_seconds: float
    rows_written: dict[str, int]


@dataclass(frozen=True)
class DayActivity:
    day: date
    created: int
    completed: int
    completion_rate: float | None
    """Share of the tasks created that day that are done in the latest snapshot."""


def etl_runs(metrics_log: Path) -> list[EtlRun]:
    if not metrics_log.exists():
        raise ReportError(f"no ETL runs recorded in {metrics_log}: run make seed && make etl first")
    runs = []
    for data in read_run_metrics(metrics_log):
        values = {datum["MetricName"]: datum["Value"] for datum in data}
        rows = {
            datum["Dimensions"][1]["Value"]: int(datum["Value"])
            for datum in data
            if datum["MetricName"] == ROWS_WRITTEN.name
        }
        runs.append(
            EtlRun(
                data[0]["Timestamp"],
                RUN_SUCCEEDED.name in values,
                values[RUN_DURATION_SECONDS.name],
                rows,
            )
        )
    return runs


def daily_activity(connection: duckdb.DuckDBPyConnection) -> list[DayActivity]:
    tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
    if "tasks" not in tables:
        raise ReportError("the lake is empty: run make seed && make etl first")
    rows = connection.execute(DAILY_ACTIVITY_SQL).fetchall()
    return [DayActivity(day, created, completed, rate) for day, created, completed, rate in rows]


def etl_runs_figure(runs: list[EtlRun]) -> Figure:
    figure = Figure(figsize=(9, 6), layout="constrained")
    duration, rows = figure.subplots(2, 1, sharex=True)
    times = [run.at for run in runs]
    duration.plot(times, [run.duration_seconds for run in runs], "o-", color="tab:blue")
    duration.set(title="tasks_daily runs (local)", ylabel="run duration (s)")
    failed = [run for run in runs if not run.succeeded]
    if failed:
        duration.plot(
            [run.at for run in failed],
            [run.duration_seconds for run in failed],
            "x",
            color="tab:red",
            markersize=10,
            label="failed run",
        )
        duration.legend(loc="upper left")
    for table in sorted({table for run in runs for table in run.rows_written}):
        written = [(run.at, run.rows_written[table]) for run in runs if table in run.rows_written]
        rows.plot([at for at, _ in written], [n for _, n in written], "o-", label=table)
    # Log scale: the item table has thousands of rows a day, the stats tables tens.
    rows.set(ylabel="rows written (log scale)", xlabel="run time (UTC)", yscale="log")
    rows.legend(loc="center left")
    figure.autofmt_xdate()
    return figure


def lake_activity_figure(days: list[DayActivity]) -> Figure:
    figure = Figure(figsize=(9, 6), layout="constrained")
    counts, rate = figure.subplots(2, 1, sharex=True)
    when = [day.day for day in days]
    counts.plot(when, [day.created for day in days], label="created")
    counts.plot(when, [day.completed for day in days], label="completed")
    counts.set(title="Tasks per day (latest lake snapshot)", ylabel="tasks")
    counts.legend(loc="upper left")
    rated = [day for day in days if day.completion_rate is not None]
    rate.plot([day.day for day in rated], [day.completion_rate or 0.0 for day in rated], "g-")
    rate.set(ylabel="done by now, of that day's new tasks", xlabel="day (UTC)", ylim=(0, 1))
    figure.autofmt_xdate()
    return figure


def render_report(lake_root: str, metrics_log: Path, out_dir: Path) -> list[Path]:
    """Write the charts into `out_dir`; returns their paths."""
    days = daily_activity(connect_lake(lake_root))
    runs = etl_runs(metrics_log)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {
        "etl-runs.png": etl_runs_figure(runs),
        "lake-activity.png": lake_activity_figure(days),
    }
    for name, figure in charts.items():
        figure.savefig(out_dir / name, dpi=100)
    return [out_dir / name for name in charts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.report")
    parser.add_argument("--out", type=Path, default=Path("build/report"))
    parser.add_argument("--lake-root", default=os.environ.get("LAKE_ROOT", DEFAULT_LAKE_ROOT))
    parser.add_argument("--metrics-log", type=Path, default=METRICS_LOG)
    args = parser.parse_args(argv)
    try:
        paths = render_report(args.lake_root, args.metrics_log, args.out)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
