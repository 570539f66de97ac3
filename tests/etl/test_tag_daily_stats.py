"""Gold `tag_daily_stats`: tag popularity, open/done/overdue split, distinct users."""

from pathlib import Path

from etl.engines import duckdb as engine
from etl.synthetic import SyntheticTask
from etl.transform_sql import table_query
from tests.etl.conftest import SNAPSHOT, RunTransform, read_partition
from tests.etl.items import task_item


def test_counts_per_tag(run_transform: RunTransform, lake: Path) -> None:
    run_transform(
        [
            task_item("u1", "t1", tags=["home", "errand"], due_date="2026-11-01"),
            task_item(
                "u1",
                "t2",
                status="done",
                tags=["home"],
                completed_at="2026-11-21T00:00:00.000000Z",
            ),
            task_item("u2", "t3", status="in_progress", tags=["home", "home"]),
            task_item("u2", "t4"),
        ]
    )

    rows = read_partition(lake, "tag_daily_stats").sort_by("tag").to_pylist()

    assert rows == [
        {
            "tag": "errand",
            "tasks_total": 1,
            "open_total": 1,
            "done_total": 0,
            "overdue": 1,
            "users": 1,
            "snapshot_date": SNAPSHOT,
        },
        {
            "tag": "home",
            "tasks_total": 3,  # a tag repeated on one task counts once
            "open_total": 2,
            "done_total": 1,
            "overdue": 1,
            "users": 2,
            "snapshot_date": SNAPSHOT,
        },
    ]


def test_tags_are_counted_without_regard_to_case(run_transform: RunTransform, lake: Path) -> None:
    run_transform(
        [
            task_item("u1", "t1", tags=["Work", "work"]),
            task_item("u2", "t2", tags=["WORK"]),
            task_item("u2", "t3", tags=["Home"]),
        ]
    )

    gold = read_partition(lake, "tag_daily_stats").sort_by("tag").to_pylist()
    silver = read_partition(lake, "tasks").sort_by("task_id")["tags"].to_pylist()

    assert [(row["tag"], row["tasks_total"], row["users"]) for row in gold] == [
        ("home", 1, 1),
        ("work", 2, 2),
    ]
    assert silver == [["Work", "work"], ["WORK"], ["Home"]]


def test_totals_match_the_generated_tasks(
    synthetic_lake: Path, synthetic_tasks: list[SyntheticTask]
) -> None:
    expected_tasks: dict[str, int] = {}
    expected_users: dict[str, set[str]] = {}
    for task in synthetic_tasks:
        for tag in {tag.lower() for tag in task.tags or []}:
            expected_tasks[tag] = expected_tasks.get(tag, 0) + 1
            expected_users.setdefault(tag, set()).add(task.user_id)

    rows = read_partition(synthetic_lake, "tag_daily_stats", SNAPSHOT).to_pylist()

    assert {row["tag"]: row["tasks_total"] for row in rows} == expected_tasks
    assert {row["tag"]: row["users"] for row in rows} == {
        tag: len(users) for tag, users in expected_users.items()
    }
    assert all(row["open_total"] + row["done_total"] == row["tasks_total"] for row in rows)


def test_a_null_in_a_tag_list_is_no_tag(run_transform: RunTransform, lake: Path) -> None:
    item = task_item("u1", "t1", tags=["home"])
    item["tags"]["L"].append({"NULL": True})
    run_transform([item, task_item("u2", "t2", tags=[])])

    gold = read_partition(lake, "tag_daily_stats").to_pylist()

    assert [(row["tag"], row["tasks_total"], row["users"]) for row in gold] == [("home", 1, 1)]


def test_the_tags_stream_through_the_unnest_without_holding_the_table(tmp_path: Path) -> None:
    # A filter on the unnested column makes DuckDB decorrelate the UNNEST into a join over a
    # materialised copy of every task: out of memory at 10M tasks under the worker's limit
    # (docs/benchmarks.md, ETL section). A plain UNNEST operator streams.
    connection = engine.connect(tmp_path / "spill")
    connection.execute(
        "CREATE TABLE tasks (user_id VARCHAR, task_id VARCHAR, status VARCHAR, "
        "is_overdue BOOLEAN, tags VARCHAR[])"
    )
    sql = engine.to_duckdb(table_query("tag_daily_stats", SNAPSHOT, tasks="tasks"))

    plan = "\n".join(row[1] for row in connection.execute(f"EXPLAIN {sql}").fetchall())

    assert "Unnest" in plan
    assert "delim" not in plan.lower()


def test_rows_without_user_id_still_count_as_one_user(tmp_path: Path) -> None:
    # The statement groups by a number per user joined back to the rows (LEFT JOIN): rows
    # without a user_id get no number and count together, as grouping by user_id did. The
    # worker refuses such an export before gold; Athena's CTAS runs the statement on any rows.
    connection = engine.connect(tmp_path / "spill")
    connection.execute(
        "CREATE TABLE tasks AS SELECT * FROM (VALUES "
        "('u1', 'todo', false, ['home']), "
        "(NULL, 'done', false, ['home']), "
        "(NULL, 'todo', true, ['Home', 'work'])"
        ") AS rows (user_id, status, is_overdue, tags)"
    )
    sql = engine.to_duckdb(table_query("tag_daily_stats", SNAPSHOT, tasks="tasks"))

    rows = connection.execute(
        f"SELECT tag, tasks_total, done_total, overdue, users FROM ({sql}) ORDER BY tag"  # noqa: S608
    ).fetchall()

    assert rows == [("home", 3, 1, 1, 2), ("work", 1, 0, 1, 1)]
