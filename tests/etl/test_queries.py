"""The analyst queries in docs/queries, run through `python -m etl.query` on a generated lake."""

import csv
import io
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from etl.dynamodb_export import find_export_files
from etl.query import main
from etl.synthetic import SyntheticTask, to_dynamodb_item, write_export
from etl.transform import transform_export
from tests.etl.conftest import SNAPSHOT

QUERIES = Path(__file__).parents[2] / "docs" / "queries"
YESTERDAY = SNAPSHOT - timedelta(days=1)

QueryFile = Callable[[str], list[dict[str, str]]]


@pytest.fixture(scope="module")
def yesterdays_tasks(synthetic_tasks: list[SyntheticTask]) -> list[SyntheticTask]:
    return synthetic_tasks[:1000]


@pytest.fixture(scope="module")
def two_day_lake(
    tmp_path_factory: pytest.TempPathFactory,
    synthetic_tasks: list[SyntheticTask],
    yesterdays_tasks: list[SyntheticTask],
) -> Path:
    root = tmp_path_factory.mktemp("two-days")
    for snapshot, tasks in ((YESTERDAY, yesterdays_tasks), (SNAPSHOT, synthetic_tasks)):
        export_dir = root / f"export-{snapshot}"
        write_export((to_dynamodb_item(task) for task in tasks), export_dir)
        transform_export(find_export_files(export_dir), root / "lake", snapshot)
    return root / "lake"


def run_query(
    lake: Path, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, str]]:
    monkeypatch.setenv("LAKE_ROOT", str(lake))
    assert main(args) == 0, capsys.readouterr().err
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


@pytest.fixture
def query(
    two_day_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> QueryFile:
    def run(name: str) -> list[dict[str, str]]:
        return run_query(two_day_lake, ["--file", str(QUERIES / name)], monkeypatch, capsys)

    return run


def _is_overdue(task: SyntheticTask, snapshot: date) -> bool:
    return task.status != "done" and task.due_date is not None and task.due_date < snapshot


def test_completion_rate_per_day(
    query: QueryFile,
    synthetic_tasks: list[SyntheticTask],
    yesterdays_tasks: list[SyntheticTask],
) -> None:
    rows = query("completion_rate_per_day.sql")

    assert [(row["month"], row["day"]) for row in rows] == [("11", "24"), ("11", "25")]
    for row, tasks in zip(rows, (yesterdays_tasks, synthetic_tasks), strict=True):
        done = sum(task.status == "done" for task in tasks)
        assert int(row["tasks_total"]) == len(tasks)
        assert int(row["done_total"]) == done
        assert float(row["completion_rate"]) == pytest.approx(done / len(tasks), abs=1e-4)


def test_overdue_per_user(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    overdue = Counter(task.user_id for task in synthetic_tasks if _is_overdue(task, SNAPSHOT))
    expected = sorted(overdue.items(), key=lambda pair: (-pair[1], pair[0]))[:20]

    rows = query("overdue_per_user.sql")

    assert [(row["user_id"], int(row["overdue"])) for row in rows] == expected


def test_median_time_to_complete(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    hours_by_day: dict[str, list[float]] = {}
    for task in synthetic_tasks:
        if task.completed_at is not None:
            hours = (task.completed_at - task.created_at).total_seconds() / 3600
            hours_by_day.setdefault(task.completed_at.date().isoformat(), []).append(hours)

    rows = query("median_time_to_complete.sql")

    assert {row["completed_on"] for row in rows} == set(hours_by_day)
    for row in rows:
        day_hours = hours_by_day[row["completed_on"]]
        assert int(row["completions"]) == len(day_hours)
        expected = statistics.median(day_hours)
        assert float(row["median_hours_to_complete"]) == pytest.approx(expected, abs=1e-4)


def test_tasks_created_per_day(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    created = Counter(task.created_at.date().isoformat() for task in synthetic_tasks)

    rows = query("tasks_created_per_day.sql")

    assert {row["created_on"]: int(row["tasks_created"]) for row in rows} == created
    assert [row["created_on"] for row in rows] == sorted(created)


def test_tag_popularity(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    per_tag = Counter(tag for task in synthetic_tasks for tag in set(task.tags or []))

    rows = query("tag_popularity.sql")

    assert [(row["tag"], int(row["tasks_total"])) for row in rows] == sorted(
        per_tag.items(), key=lambda pair: (-pair[1], pair[0])
    )


def test_tables_carry_string_partition_keys(
    two_day_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT typeof(year) AS t, count(DISTINCT day) AS days FROM tasks GROUP BY 1"

    assert run_query(two_day_lake, [sql], monkeypatch, capsys) == [{"t": "VARCHAR", "days": "2"}]


def test_bad_sql_is_one_line_on_stderr(
    two_day_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(two_day_lake))

    exit_code = main(["SELEC oops FROM tasks"])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert error.startswith("query failed: ")
    assert error.count("\n") == 1
