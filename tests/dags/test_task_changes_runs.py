"""task_changes end to end on the local engines: two daily runs with DynamoDB-level changes
between them, published by the DAG, read back from the partition Glue points at.

Each test owns its snapshot dates; the day it compares with is the newest published day before
the second one, which is the test's own first day whatever other tests published.
"""

from datetime import date
from typing import Any

from etl.publish import newest_published_day
from tests.dags.local_stack import LocalStack, task_item

DAY_1 = date(2026, 12, 14)
DAY_2 = date(2026, 12, 15)
EDITED = "2026-12-15T09:00:00Z"


def _assert_succeeded(result: Any) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _changes(stack: LocalStack, day: date) -> list[tuple[Any, ...]]:
    table = stack.read_published("task_changes", day).sort_by("task_id")
    names = ["user_id", "task_id", "change", "changed_fields", "old_status", "new_status"]
    rows = zip(*(table.column(name).to_pylist() for name in names), strict=True)
    assert set(table.column("compared_with").to_pylist()) <= {DAY_1}
    return list(rows)


def test_a_day_after_another_publishes_exactly_its_changes_and_a_rerun_keeps_them(
    stack: LocalStack,
) -> None:
    stack.put_tasks(
        task_item("alice", "t1"),
        task_item("alice", "t2"),
        task_item("bob", "t3", status="done", completed_at="2026-12-10T10:00:00Z"),
        task_item("bob", "t4"),
        task_item("bob", "t5"),
    )
    _assert_succeeded(stack.run_dag(DAY_1))
    # The API's writes, made directly: a completion, an edit, a reopen, a delete, a create.
    stack.put_tasks(
        task_item(
            "alice",
            "t1",
            status="done",
            completed_at=EDITED,
            updated_at=EDITED,
            version=2,
        ),
        task_item("alice", "t2", priority="high", tags=["home", "work"], version=3),
        task_item("bob", "t3", status="in_progress", updated_at=EDITED, version=2),
        task_item("carol", "t6", created_at=EDITED, updated_at=EDITED),
    )
    stack.tasks.delete_item(Key={"user_id": "bob", "task_id": "t4"})

    _assert_succeeded(stack.run_dag(DAY_2))
    first = _changes(stack, DAY_2)
    _assert_succeeded(stack.run_dag(DAY_2))

    assert first == [
        ("alice", "t1", "completed", ["status", "completed_at"], "todo", "done"),
        ("alice", "t2", "changed", ["priority", "tags"], "todo", "todo"),
        ("bob", "t3", "reopened", ["status", "completed_at"], "done", "in_progress"),
        ("bob", "t4", "disappeared", [], "todo", None),
        ("carol", "t6", "appeared", [], None, "todo"),
    ]
    assert _changes(stack, DAY_2) == first
    glue = stack.client("glue")
    newest = newest_published_day(glue, stack.database, "task_changes")
    assert newest is not None
    assert newest >= DAY_2
    latest = glue.get_table(DatabaseName=stack.database, Name="task_changes_latest")["Table"]
    assert latest["StorageDescriptor"]["Location"] == stack.location("task_changes", newest)
