"""Gold `user_daily_stats` on a hand-built export whose every number is known."""

from pathlib import Path

import pytest

from tests.etl.conftest import SNAPSHOT, RunTransform, read_partition
from tests.etl.items import task_item

TODAY = "2026-11-25"


@pytest.fixture
def stats(run_transform: RunTransform, lake: Path) -> dict[str, dict[str, object]]:
    run_transform(
        [
            # alice: created 2 today, completed 3 today after 1 h, 2 h and 6 h → median 2 h.
            task_item("alice", "a1", created_at=f"{TODAY}T08:00:00.000000Z"),
            task_item(
                "alice",
                "a2",
                status="in_progress",
                created_at=f"{TODAY}T09:00:00.000000Z",
                due_date="2026-11-20",
            ),
            task_item(
                "alice",
                "a3",
                status="done",
                created_at="2026-11-25T00:00:00.000000Z",
                completed_at="2026-11-25T01:00:00.000000Z",
            ),
            task_item(
                "alice",
                "a4",
                status="done",
                created_at="2026-11-24T22:00:00.000000Z",
                completed_at="2026-11-25T00:00:00.000000Z",
                due_date="2026-11-01",
            ),
            task_item(
                "alice",
                "a5",
                status="done",
                created_at="2026-11-24T18:00:00.000000Z",
                completed_at="2026-11-24T23:59:59.999999Z",
            ),
            task_item(
                "alice",
                "a6",
                status="done",
                created_at="2026-11-25T17:59:59.000000Z",
                completed_at="2026-11-25T23:59:59.000000Z",
            ),
            # bob: two completions today, 1 h and 4 h → median is their mean, 2.5 h.
            task_item(
                "bob",
                "b1",
                status="done",
                created_at="2026-11-25T10:00:00.000000Z",
                completed_at="2026-11-25T11:00:00.000000Z",
            ),
            task_item(
                "bob",
                "b2",
                status="done",
                created_at="2026-11-25T10:00:00.000000Z",
                completed_at="2026-11-25T14:00:00.000000Z",
            ),
            task_item("bob", "b3", due_date="2026-11-24"),
            # carol: nothing completed today → no median.
            task_item("carol", "c1", created_at="2026-10-01T00:00:00.000000Z"),
        ]
    )
    rows = read_partition(lake, "user_daily_stats").sort_by("user_id").to_pylist()
    return {row.pop("user_id"): row for row in rows}


def test_one_row_per_user(stats: dict[str, dict[str, object]]) -> None:
    assert list(stats) == ["alice", "bob", "carol"]


def test_every_row_names_its_snapshot_day(stats: dict[str, dict[str, object]]) -> None:
    assert {row["snapshot_date"] for row in stats.values()} == {SNAPSHOT}


def test_counts_per_user(stats: dict[str, dict[str, object]]) -> None:
    alice = stats["alice"]

    assert alice["tasks_total"] == 6
    assert alice["tasks_created"] == 4  # a1, a2, a3, a6; a4 and a5 were created yesterday
    assert alice["tasks_completed"] == 3  # a3, a4, a6; a5 completed a microsecond before today
    assert alice["open_todo"] == 1
    assert alice["open_in_progress"] == 1
    assert alice["done_total"] == 4
    assert alice["overdue"] == 1  # a2; a4 is past due but done


def test_median_hours_is_exact_for_odd_and_even_counts(
    stats: dict[str, dict[str, object]],
) -> None:
    assert stats["alice"]["median_hours_to_complete"] == 2.0
    assert stats["bob"]["median_hours_to_complete"] == 2.5


def test_median_is_null_without_completions(stats: dict[str, dict[str, object]]) -> None:
    assert stats["carol"]["median_hours_to_complete"] is None
    assert stats["carol"]["tasks_completed"] == 0
    assert stats["bob"]["overdue"] == 1


def test_every_users_median_is_their_own_among_many_users(
    run_transform: RunTransform, lake: Path
) -> None:
    # user k completed k % 3 + 1 tasks today, after k, k + 1, k + 2 hours: median k + (k % 3) / 2.
    items = [
        task_item(
            f"user-{user:03d}",
            f"t{task}",
            status="done",
            created_at=f"{TODAY}T00:00:00.000000Z",
            completed_at=f"{TODAY}T{user // 10 + task:02d}:{user % 10:02d}:00.000000Z",
        )
        for user in range(200)
        for task in range(user % 3 + 1)
    ]

    run_transform(items)

    stats = read_partition(lake, "user_daily_stats").to_pylist()
    assert {row["user_id"]: row["median_hours_to_complete"] for row in stats} == pytest.approx(
        {f"user-{user:03d}": user // 10 + user % 10 / 60 + user % 3 / 2 for user in range(200)}
    )
