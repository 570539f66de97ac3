"""`users`: one row per account of the users table's export, with the day's task counts."""

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from etl.dynamodb_export import find_export_files
from etl.publish import PartitionFolder
from etl.query import connect_lake
from etl.schemas import USERS
from etl.synthetic import write_export
from etl.transform import TransformResult, transform_export
from etl.transform_sql import USERS_ITEM_TYPE
from etl.validation import ValidationError, check_accounts_present
from tests.docs.markdown import ROOT, fences
from tests.etl.conftest import SNAPSHOT, column_types, read_partition
from tests.etl.items import Item, task_item

RunWithUsers = Callable[[Iterable[Item], Iterable[Item]], TransformResult]


def profile(user_id: str, created_at: str = "2026-11-01T09:00:00.000000Z", **extra: Any) -> Item:
    """A users-table item as DynamoDB exports the API's profile (api/users/models.py)."""
    return {
        "user_id": {"S": user_id},
        "kind": {"S": "user"},
        "email": {"S": f"{user_id}@example.com"},
        "name": {"S": f"Name of {user_id}"},
        "enabled": {"BOOL": True},
        "created_at": {"S": created_at},
        "updated_at": {"S": created_at},
        "task_count": {"N": "0"},
        **extra,
    }


@pytest.fixture
def run_with_users(tmp_path: Path, lake: Path) -> RunWithUsers:
    def run(tasks: Iterable[Item], users: Iterable[Item]) -> TransformResult:
        write_export(tasks, tmp_path / "tasks", file_count=2)
        write_export(users, tmp_path / "users", file_count=2)
        return transform_export(
            find_export_files(tmp_path / "tasks"),
            lake,
            SNAPSHOT,
            users_files=find_export_files(tmp_path / "users"),
        )

    return run


def test_one_row_per_account_with_its_status_and_task_counts(
    run_with_users: RunWithUsers, lake: Path
) -> None:
    result = run_with_users(
        [
            task_item("alice", "a1"),
            task_item("alice", "a2", status="done", completed_at="2026-11-24T10:00:00.000000Z"),
            task_item("alice", "a3", status="in_progress"),
            task_item("dave", "d1"),
            # Its owner's account was deleted between the two exports: no row in users.
            task_item("gone", "g1"),
        ],
        [
            profile("alice"),
            profile("bob", created_at="2026-11-24T23:59:59.999000Z"),
            profile("carol", enabled={"BOOL": False}),
            profile("dave", deleting_since={"S": "2026-11-25T12:00:00.000000Z"}),
            # The API's default: no flag is enabled.
            {k: v for k, v in profile("erin").items() if k != "enabled"},
            # Only profiles are accounts.
            {**profile("not-a-profile"), "kind": {"S": "invitation"}},
        ],
    )

    rows = {row.pop("user_id"): row for row in read_partition(lake, "users").to_pylist()}

    assert result.rows["users"] == 5
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin"}
    assert {user: row["status"] for user, row in rows.items()} == {
        "alice": "active",
        "bob": "active",
        "carol": "disabled",
        "dave": "deleting",
        "erin": "active",
    }
    counts = {
        user: (row["tasks_total"], row["open_total"], row["done_total"])
        for user, row in rows.items()
    }
    assert counts == {
        "alice": (3, 2, 1),
        "bob": (0, 0, 0),
        "carol": (0, 0, 0),
        "dave": (1, 1, 0),
        "erin": (0, 0, 0),
    }
    assert rows["alice"]["signed_up_on"].isoformat() == "2026-11-01"
    assert rows["bob"]["signed_up_on"].isoformat() == "2026-11-24"
    assert {row["snapshot_date"] for row in rows.values()} == {SNAPSHOT}


def test_the_sign_up_day_is_the_utc_day_whatever_the_offset(
    run_with_users: RunWithUsers, lake: Path
) -> None:
    run_with_users([], [profile("paris", created_at="2026-11-03T01:30:00+02:00")])

    [row] = read_partition(lake, "users").to_pylist()

    assert row["signed_up_on"].isoformat() == "2026-11-02"


def test_columns_are_the_glue_types_and_hold_no_email_or_name(
    run_with_users: RunWithUsers, lake: Path
) -> None:
    run_with_users([task_item("alice", "a1")], [profile("alice")])

    users = read_partition(lake, "users")

    assert column_types(users.schema) == column_types(USERS)
    assert users.schema.field("signed_up_on").type == pa.date32()
    assert users.schema.field("tasks_total").type == pa.int64()
    assert not {"email", "name"} & set(users.column_names)
    # Not even read: the external table over the export declares neither attribute.
    assert "email" not in USERS_ITEM_TYPE
    assert "name:" not in USERS_ITEM_TYPE


def test_without_a_users_export_the_table_is_empty_and_typed(
    run_with_users: RunWithUsers, lake: Path, tmp_path: Path
) -> None:
    write_export([task_item("alice", "a1")], tmp_path / "only-tasks")

    result = transform_export(find_export_files(tmp_path / "only-tasks"), lake, SNAPSHOT)

    assert result.rows["users"] == 0
    assert column_types(read_partition(lake, "users").schema) == column_types(USERS)


def _staged(tasks: int, users: int) -> list[PartitionFolder]:
    day = SNAPSHOT.isoformat()
    return [
        PartitionFolder("tasks", day, "s3://lake/silver/tasks/", [], tasks),
        PartitionFolder("users", day, "s3://lake/silver/users/", [], users),
    ]


def test_tasks_without_any_account_fail_validation() -> None:
    with pytest.raises(ValidationError, match="users export is empty"):
        check_accounts_present(_staged(tasks=3, users=0))


@pytest.mark.parametrize(("tasks", "users"), [(0, 0), (0, 2), (3, 1)])
def test_accounts_with_or_without_tasks_pass_validation(tasks: int, users: int) -> None:
    check_accounts_present(_staged(tasks=tasks, users=users))


def _documented_retention_query() -> str:
    """The sign-ups and retention query of docs/analysts.md, as analysts copy it."""
    text = (ROOT / "docs" / "analysts.md").read_text()
    section = text.split("### Sign-ups per week and four-week retention", 1)[1]
    return next(fence.text for fence in fences(section) if fence.language == "sql")


def test_the_retention_query_counts_accounts_still_there_four_weeks_after_sign_up(
    tmp_path: Path,
) -> None:
    """Week of 2026-11-02: a stays, b is deleted before day 28, c is exactly 28 days old at the
    newest snapshot and stays: 2 of 3. Week of 11-09: d is too young to count either way."""
    a = profile("a", created_at="2026-11-02T08:00:00.000000Z")
    b = profile("b", created_at="2026-11-03T08:00:00.000000Z")
    c = profile("c", created_at="2026-11-04T23:00:00.000000Z")
    d = profile("d", created_at="2026-11-10T08:00:00.000000Z")
    lake = tmp_path / "lake"
    days = {
        date(2026, 11, 4): [a, b, c],
        date(2026, 11, 20): [a, c, d],
        date(2026, 12, 2): [a, c, d],
    }
    for day, profiles in days.items():
        write_export(profiles, tmp_path / day.isoformat())
        users = find_export_files(tmp_path / day.isoformat())
        transform_export([], lake, day, users_files=users)

    rows = connect_lake(str(lake)).execute(_documented_retention_query()).fetchall()

    assert rows == [
        (date(2026, 11, 2), 3, 3, 2, 0.6667),
        (date(2026, 11, 9), 1, 0, 0, None),
    ]
