"""Silver `tasks`: typed columns, tolerated input variations, derived columns."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from etl.dynamodb_export import find_export_files
from etl.schemas import TASKS
from etl.synthetic import SyntheticTask, write_export
from etl.transform import transform_export
from tests.etl.conftest import SNAPSHOT, RunTransform, column_types, read_partition
from tests.etl.items import task_item


def test_columns_are_typed_as_the_schema_declares(run_transform: RunTransform, lake: Path) -> None:
    run_transform([task_item("u1", "t1", tags=["home"], due_date="2026-11-30")])

    tasks = read_partition(lake, "tasks")

    assert column_types(tasks.schema) == column_types(TASKS)
    # Athena's timestamp(3): milliseconds, no zone (etl/athena_rules.py).
    assert tasks.schema.field("created_at").type == pa.timestamp("ms")
    assert tasks.schema.field("due_date").type == pa.date32()
    assert tasks.schema.field("tags").type == pa.list_(pa.string())


def test_values_are_parsed_exactly(run_transform: RunTransform, lake: Path) -> None:
    run_transform(
        [
            task_item(
                "u1",
                "t1",
                status="done",
                created_at="2026-11-20T08:15:30.123456Z",
                completed_at="2026-11-21T10:15:30.123456Z",
                due_date="2026-11-30",
                tags=["home", "errand"],
                version={"N": "3"},
            )
        ]
    )

    [row] = read_partition(lake, "tasks").to_pylist()

    # Kept to the millisecond, as Athena writes a Hive table's timestamps: the UTC wall time.
    assert row["created_at"] == datetime(2026, 11, 20, 8, 15, 30, 123000)
    assert row["completed_at"] == datetime(2026, 11, 21, 10, 15, 30, 123000)
    assert row["due_date"] == date(2026, 11, 30)
    assert row["tags"] == ["home", "errand"]
    assert row["version"] == 3
    assert row["hours_to_complete"] == 26.0
    assert row["is_overdue"] is False


def test_free_text_and_index_keys_are_not_kept(run_transform: RunTransform, lake: Path) -> None:
    run_transform([task_item("u1", "t1")])

    columns = read_partition(lake, "tasks").column_names

    assert "title" not in columns
    assert "description" not in columns
    assert "status_key" not in columns


def test_unknown_attributes_are_ignored(run_transform: RunTransform, lake: Path) -> None:
    run_transform(
        [
            task_item("u1", "t1", reminder_at={"S": "2026-12-01T09:00:00.000000Z"}),
            task_item("u1", "t2", attachments={"L": [{"M": {"name": {"S": "a.pdf"}}}]}),
        ]
    )

    tasks = read_partition(lake, "tasks")

    assert column_types(tasks.schema) == column_types(TASKS)
    assert sorted(tasks["task_id"].to_pylist()) == ["t1", "t2"]


def test_null_typed_and_absent_attributes_become_nulls(
    run_transform: RunTransform, lake: Path
) -> None:
    item = task_item("u1", "t1", description={"NULL": True}, priority={"NULL": True})
    item["tags"] = {"NULL": True}
    item["due_date"] = {"NULL": True}
    run_transform([item])

    [row] = read_partition(lake, "tasks").to_pylist()

    assert row["priority"] is None
    assert row["due_date"] is None
    assert row["completed_at"] is None
    assert row["hours_to_complete"] is None
    assert row["tags"] == []
    assert row["is_overdue"] is False


def test_tags_stored_as_a_string_set_are_read(run_transform: RunTransform, lake: Path) -> None:
    item = task_item("u1", "t1")
    item["tags"] = {"SS": ["work", "call"]}
    run_transform([item])

    [row] = read_partition(lake, "tasks").to_pylist()

    assert row["tags"] == ["work", "call"]


def test_overdue_means_not_done_and_due_before_the_snapshot(
    run_transform: RunTransform, lake: Path
) -> None:
    run_transform(
        [
            task_item("u1", "late", status="todo", due_date="2026-11-24"),
            task_item("u1", "due-today", status="in_progress", due_date="2026-11-25"),
            task_item(
                "u1",
                "late-but-done",
                status="done",
                due_date="2026-11-01",
                completed_at="2026-11-02T00:00:00.000000Z",
            ),
            task_item("u1", "no-due-date", status="todo"),
        ]
    )

    tasks = read_partition(lake, "tasks")
    overdue = dict(zip(tasks["task_id"].to_pylist(), tasks["is_overdue"].to_pylist(), strict=True))

    assert overdue == {
        "late": True,
        "due-today": False,
        "late-but-done": False,
        "no-due-date": False,
    }


def test_a_task_due_on_the_snapshot_day_is_overdue_from_the_next_day_on(
    tmp_path: Path, lake: Path
) -> None:
    """Partition D is the table as of D+1 00:00 UTC: a task due on D had all of D to be done."""
    next_day = SNAPSHOT + timedelta(days=1)
    write_export([task_item("u1", "due", status="todo", due_date=SNAPSHOT.isoformat())], tmp_path)

    for day in (SNAPSHOT, next_day):
        transform_export(find_export_files(tmp_path), lake, day)

    assert read_partition(lake, "tasks", SNAPSHOT)["is_overdue"].to_pylist() == [False]
    assert read_partition(lake, "tasks", next_day)["is_overdue"].to_pylist() == [True]


def test_every_row_names_the_snapshot_day_of_its_partition(
    run_transform: RunTransform, lake: Path
) -> None:
    """`tasks_latest` has no year/month/day: this column is how its reader knows the day."""
    run_transform([task_item("u1", "t1"), task_item("u2", "t2", status="done")])

    assert read_partition(lake, "tasks")["snapshot_date"].to_pylist() == [SNAPSHOT, SNAPSHOT]


def test_rows_are_one_per_task(synthetic_lake: Path, synthetic_tasks: list[SyntheticTask]) -> None:
    tasks = read_partition(synthetic_lake, "tasks")

    keys = list(zip(tasks["user_id"].to_pylist(), tasks["task_id"].to_pylist(), strict=True))

    assert sorted(keys) == sorted((task.user_id, task.task_id) for task in synthetic_tasks)
