"""`users` through tasks_daily on the local engines: DynamoDB Local's users table, scanned after
the tasks table, published beside the task tables, and refused when it comes back empty."""

from datetime import date, datetime
from pathlib import Path
from typing import Any

from airflow.models import DagBag

from etl.publish import newest_published_day
from infra.local.airflow_local import logical_date_for
from tests.dags.local_stack import LocalStack, task_item, user_item

DAGS = Path(__file__).resolve().parents[2] / "dags"


def _run(day: date) -> Any:
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    return dag.test(logical_date=datetime.fromisoformat(logical_date_for(day)))


def test_a_run_publishes_one_row_per_account_with_its_task_counts(stack: LocalStack) -> None:
    day = date(2026, 11, 20)
    stack.put_users(
        user_item("alice", created_at="2026-11-02T23:30:00.000000Z"),
        user_item("bob", created_at="2026-11-19T08:00:00.000000Z"),
        user_item("carol", enabled=False),
        user_item("dave", deleting_since="2026-11-20T10:00:00.000000Z"),
    )
    stack.put_tasks(
        task_item("alice", "t1"),
        task_item("alice", "t2", status="done", completed_at="2026-11-19T10:00:00Z"),
        task_item("dave", "t3"),
    )

    run = _run(day)

    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}
    users = stack.read_published("users", day).to_pylist()
    rows = {row["user_id"]: row for row in users}
    assert {
        user: (row["status"], row["tasks_total"], row["done_total"]) for user, row in rows.items()
    } == {
        "alice": ("active", 2, 1),
        "bob": ("active", 0, 0),
        "carol": ("disabled", 0, 0),
        "dave": ("deleting", 1, 0),
    }
    assert rows["alice"]["signed_up_on"] == date(2026, 11, 2)
    assert rows["bob"]["signed_up_on"] == date(2026, 11, 19)
    assert {row["snapshot_date"] for row in users} == {day}
    assert not {"email", "name"} & set(users[0])
    assert stack.location("users", day).startswith("s3://tasklake-test-lake/silver/users/")
    glue = stack.client("glue")
    newest = newest_published_day(glue, stack.database, "users")
    assert newest is not None
    latest = glue.get_table(DatabaseName=stack.database, Name="users_latest")["Table"]
    assert latest["StorageDescriptor"]["Location"] == stack.location("users", newest)


def test_the_users_table_is_scanned_after_the_tasks_table(stack: LocalStack) -> None:
    """Tasks first: an owner found in the day's tasks is in its users, or was deleted between
    the two scans. The other order would let an account created in between own no row while
    its tasks are missing too, and one deleted in between keep a row with tasks gone."""
    day = date(2026, 11, 21)
    stack.put_tasks(task_item("alice", "t1"))

    run = _run(day)

    instances = {ti.task_id: ti for ti in run.get_task_instances()}
    tasks_scan, users_scan = instances["export_scan"], instances["export_users_scan"]
    assert (tasks_scan.state, users_scan.state) == ("success", "success")
    assert tasks_scan.end_date <= users_scan.start_date
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    assert dag.get_task("export_users_scan").upstream_task_ids == {"export_scan"}


def test_an_empty_users_export_with_tasks_fails_the_run_and_publishes_nothing(
    stack: LocalStack,
) -> None:
    day = date(2026, 11, 22)
    stack.put_tasks(task_item("alice", "t1"))
    users = stack.users
    users.delete_item(Key={"user_id": "alice"})

    run = _run(day)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert states["transform"] == "success"
    assert states["validate"] == "failed"
    assert states["publish"] == "upstream_failed"
    for table in ("tasks", "user_daily_stats", "tag_daily_stats", "users"):
        assert stack.partitions(table, day) == []
