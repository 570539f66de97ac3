"""Gold `task_changes` on hand-built exports of consecutive days whose every change is known.

Each day is an export of the tasks table as DynamoDB writes it; the worker's transform runs
etl/sql/task_changes.sql on DuckDB against the compared day's published `tasks` files, found in
the local lake as `make transform` finds them.
"""

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl.compared_snapshot import local_compared_snapshot
from etl.dynamodb_export import find_export_files
from etl.query import connect_lake
from etl.schemas import TASK_CHANGES
from etl.synthetic import write_export
from etl.transform import TransformResult, transform_export
from tests.docs.markdown import ROOT, fences
from tests.etl.conftest import column_types, read_partition
from tests.etl.items import Item, task_item
from tests.etl.test_queries import athena_problems

DAY_1 = date(2026, 11, 24)
DAY_2 = date(2026, 11, 25)
EDITED = "2026-11-25T09:30:00.000000Z"


def _edited(item: Item, version: int, **attributes: dict[str, Any]) -> Item:
    """`item` after `version - 1` edits through the API: a new version and updated_at."""
    return {**item, "version": {"N": str(version)}, "updated_at": {"S": EDITED}, **attributes}


DAY_1_ITEMS = [
    task_item("alice", "unchanged"),
    task_item("alice", "to-complete", status="in_progress"),
    task_item(
        "alice",
        "to-reopen",
        status="done",
        created_at="2026-11-20T08:00:00.000000Z",
        completed_at="2026-11-22T08:00:00.000000Z",
    ),
    task_item("alice", "to-edit", tags=["home"]),
    task_item("bob", "to-retitle"),
    task_item("bob", "to-delete", status="done", completed_at="2026-11-23T08:00:00.000000Z"),
]
DAY_2_ITEMS = [
    DAY_1_ITEMS[0],
    _edited(
        task_item(
            "alice",
            "to-complete",
            status="done",
            created_at="2026-11-20T08:00:00.000000Z",
            completed_at="2026-11-25T08:00:00.000000Z",
        ),
        2,
    ),
    _edited(task_item("alice", "to-reopen", status="todo"), 2),
    _edited(
        task_item("alice", "to-edit", tags=["home", "work"], due_date="2026-12-01"),
        3,
        priority={"S": "high"},
    ),
    # Only the title changed: not a lake column, seen through the edit counter.
    _edited(DAY_1_ITEMS[4], 2, title={"S": "a better title"}),
    task_item("carol", "created", created_at="2026-11-25T10:00:00.000000Z"),
    task_item(
        "carol",
        "created-done",
        status="done",
        created_at="2026-11-25T10:00:00.000000Z",
        completed_at="2026-11-25T12:00:00.000000Z",
    ),
]

EXPECTED_DAY_2 = [
    # user, task, change, changed fields, old status, new status, priority, hours, compared with
    ("alice", "to-complete", "completed", ["status", "completed_at"], "in_progress", "done",
     "medium", 120.0, DAY_1),
    ("alice", "to-edit", "changed", ["priority", "due_date", "tags"], "todo", "todo", "high",
     None, DAY_1),
    ("alice", "to-reopen", "reopened", ["status", "completed_at"], "done", "todo", "medium",
     None, DAY_1),
    ("bob", "to-delete", "disappeared", [], "done", None, "medium", 72.0, DAY_1),
    ("bob", "to-retitle", "changed", [], "todo", "todo", "medium", None, DAY_1),
    ("carol", "created", "appeared", [], None, "todo", "medium", None, DAY_1),
    ("carol", "created-done", "appeared", [], None, "done", "medium", 2.0, DAY_1),
]  # fmt: skip


def _transform_day(tmp_path: Path, lake: Path, day: date, items: list[Item]) -> TransformResult:
    export_dir = tmp_path / f"export-{day}"
    write_export(items, export_dir, file_count=2)
    compared = local_compared_snapshot(lake, day)
    return transform_export(find_export_files(export_dir), lake, day, compared)


def _changes(lake: Path, day: date) -> list[tuple[Any, ...]]:
    table = read_partition(lake, "task_changes", day).sort_by(
        [("user_id", "ascending"), ("task_id", "ascending")]
    )
    assert table.column("snapshot_date").to_pylist() == [day] * table.num_rows
    columns = [name for name in table.column_names if name != "snapshot_date"]
    return list(zip(*(table.column(name).to_pylist() for name in columns), strict=True))


def test_two_days_give_exactly_the_expected_change_rows(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _transform_day(tmp_path, lake, DAY_1, DAY_1_ITEMS)

    result = _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)

    assert result.rows["task_changes"] == len(EXPECTED_DAY_2)
    assert _changes(lake, DAY_2) == EXPECTED_DAY_2


def test_the_files_have_the_glue_types_with_rows_in_them(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _transform_day(tmp_path, lake, DAY_1, DAY_1_ITEMS)
    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)

    written = read_partition(lake, "task_changes", DAY_2)

    assert column_types(written.schema) == column_types(TASK_CHANGES)


def test_the_lakes_first_day_has_an_empty_partition(tmp_path: Path) -> None:
    lake = tmp_path / "lake"

    result = _transform_day(tmp_path, lake, DAY_1, DAY_1_ITEMS)

    assert result.rows["task_changes"] == 0
    assert "task_changes/year=2026/month=11/day=24/part-00000.parquet" in result.files
    assert read_partition(lake, "task_changes", DAY_1).num_rows == 0


def test_a_missing_day_before_is_bridged_from_the_newest_earlier_day(tmp_path: Path) -> None:
    """Day 2 is compared with the 22nd when the 23rd and 24th were never published: one row per
    task that differs across the three days, each saying which day it was compared with."""
    lake = tmp_path / "lake"
    earlier = date(2026, 11, 22)
    _transform_day(tmp_path, lake, earlier, DAY_1_ITEMS)

    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)

    assert _changes(lake, DAY_2) == [(*row[:-1], earlier) for row in EXPECTED_DAY_2]


def test_a_later_day_is_never_the_compared_one(tmp_path: Path) -> None:
    """Rebuilding day 1 after day 2 exists compares with nothing earlier, not with day 2."""
    lake = tmp_path / "lake"
    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)

    result = _transform_day(tmp_path, lake, DAY_1, DAY_1_ITEMS)

    assert result.rows["task_changes"] == 0


def test_rerunning_a_day_gives_the_same_rows(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _transform_day(tmp_path, lake, DAY_1, DAY_1_ITEMS)
    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)
    first = _changes(lake, DAY_2)

    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)

    assert _changes(lake, DAY_2) == first == EXPECTED_DAY_2


def test_a_compared_partition_without_files_is_an_empty_day(tmp_path: Path) -> None:
    """Athena's CTAS writes no file for no rows: every task of the day then appeared."""
    lake = tmp_path / "lake"
    (lake / "tasks" / "year=2026" / "month=11" / "day=24").mkdir(parents=True)

    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS[:1])

    assert [row[:3] for row in _changes(lake, DAY_2)] == [("alice", "unchanged", "appeared")]


def _documented_task_changes_queries() -> list[str]:
    """docs/analysts.md's SQL blocks over task_changes, in page order: DAU, reopen rate, time to
    completion by priority."""
    text = (ROOT / "docs" / "analysts.md").read_text()
    return [
        fence.text
        for fence in fences(text)
        if fence.language == "sql" and re.search(r"\bFROM task_changes\b", fence.text)
    ]


def _query(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    return connect_lake(str(lake)).execute(sql).fetchall()


def test_the_documented_questions_give_the_known_answers(tmp_path: Path) -> None:
    """On the two scripted days: three accounts changed a task on the 25th; one reopen per two
    completions (one completed, one created done); both completions are medium, 120 h and 2 h."""
    lake = tmp_path / "lake"
    _transform_day(tmp_path, lake, DAY_1, DAY_1_ITEMS)
    _transform_day(tmp_path, lake, DAY_2, DAY_2_ITEMS)
    active, reopens, by_priority = _documented_task_changes_queries()

    assert _query(lake, active) == [(DAY_2, DAY_1, 3)]
    assert _query(lake, reopens) == [(DAY_2, 1, 2, 0.5)]
    assert _query(lake, by_priority) == [("medium", 2, 61.0)]


@pytest.mark.parametrize("sql", _documented_task_changes_queries())
def test_each_documented_question_is_athena_sql(sql: str) -> None:
    assert athena_problems(sql) == []
