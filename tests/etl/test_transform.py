"""The worker's transform: etl/sql/ run by DuckDB, staged, then swapped into the lake at once."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from etl.compared_snapshot import local_compared_snapshot
from etl.dynamodb_export import find_export_files
from etl.engines import duckdb as engine
from etl.synthetic import SyntheticTask, generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from tests.etl.conftest import SNAPSHOT, RunTransform, read_partition
from tests.etl.items import task_item

SORT_KEYS = {
    "tasks": ["user_id", "task_id"],
    "user_daily_stats": ["user_id"],
    "tag_daily_stats": ["tag"],
    "task_changes": ["user_id", "task_id"],
}


def _lake_files(lake: Path) -> dict[str, str]:
    return {
        str(path.relative_to(lake)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.rglob("*"))
        if path.is_file()
    }


def test_result_reports_items_rows_and_files(run_transform: RunTransform, lake: Path) -> None:
    result = run_transform(
        [
            task_item("u1", "t1", tags=["home", "work"]),
            task_item("u1", "t2", tags=["home"]),
            task_item("u2", "t3"),
        ]
    )

    assert result.snapshot_date == SNAPSHOT
    assert result.export_items == 3
    # The lake's first day: nothing to compare with, so no changes; no users export given:
    # `users` is written, empty (tests/etl/test_users_table.py).
    assert result.rows == {
        "tasks": 3,
        "user_daily_stats": 2,
        "tag_daily_stats": 2,
        "task_changes": 0,
        "users": 0,
    }
    assert result.files == [
        "tasks/year=2026/month=11/day=25/part-00000.parquet",
        "user_daily_stats/year=2026/month=11/day=25/part-00000.parquet",
        "tag_daily_stats/year=2026/month=11/day=25/part-00000.parquet",
        "task_changes/year=2026/month=11/day=25/part-00000.parquet",
        "users/year=2026/month=11/day=25/part-00000.parquet",
    ]
    assert sorted(_lake_files(lake)) == sorted(result.files)


def test_rerun_replaces_the_partition_so_deleted_tasks_disappear(
    run_transform: RunTransform, lake: Path
) -> None:
    run_transform([task_item("u1", "kept"), task_item("u1", "deleted-later")])

    run_transform([task_item("u1", "kept")])

    assert read_partition(lake, "tasks")["task_id"].to_pylist() == ["kept"]
    assert read_partition(lake, "user_daily_stats")["tasks_total"].to_pylist() == [1]


def test_failure_mid_write_leaves_no_partial_partition(
    run_transform: RunTransform, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_transform([task_item("u1", "from-yesterdays-run")])
    before = _lake_files(lake)

    real_copy = engine.copy_to_parquet

    def crash_on_the_last_table(connection: object, query: str, path: Path) -> int:
        if "tag_daily_stats" in path.parts:
            raise RuntimeError("worker lost")
        return real_copy(connection, query, path)  # type: ignore[arg-type]

    # The tasks and user stats files are already written when the tag stats are computed.
    monkeypatch.setattr(engine, "copy_to_parquet", crash_on_the_last_table)
    with pytest.raises(RuntimeError, match="worker lost"):
        run_transform([task_item("u1", "t1", tags=["home"]), task_item("u2", "t2")])

    assert _lake_files(lake) == before
    assert sorted(path.name for path in lake.iterdir()) == [
        "tag_daily_stats",
        "task_changes",
        "tasks",
        "user_daily_stats",
        "users",
    ], "nothing but the published tables, no staging area left behind"


def test_empty_export_publishes_empty_partitions(run_transform: RunTransform, lake: Path) -> None:
    result = run_transform([])

    assert result.rows == {
        "tasks": 0,
        "user_daily_stats": 0,
        "tag_daily_stats": 0,
        "task_changes": 0,
        "users": 0,
    }
    assert read_partition(lake, "tasks").num_rows == 0


def test_partition_keys_live_in_the_path_only(run_transform: RunTransform, lake: Path) -> None:
    run_transform([task_item("u1", "t1")])

    for table in SORT_KEYS:
        assert {"year", "month", "day"}.isdisjoint(read_partition(lake, table).column_names)


def _rows(lake: Path, table: str) -> pa.Table:
    return read_partition(lake, table).sort_by([(key, "ascending") for key in SORT_KEYS[table]])


def test_same_export_gives_the_same_rows_whatever_the_file_order(
    tmp_path: Path, synthetic_tasks: list[SyntheticTask]
) -> None:
    export_dir = tmp_path / "export"
    write_export((to_dynamodb_item(task) for task in synthetic_tasks), export_dir, file_count=3)
    files = find_export_files(export_dir)

    transform_export(files, tmp_path / "first", SNAPSHOT)
    transform_export(list(reversed(files)), tmp_path / "second", SNAPSHOT)

    for table in SORT_KEYS:
        assert _rows(tmp_path / "second", table).equals(_rows(tmp_path / "first", table))


@pytest.mark.parametrize(
    "shape",
    [
        {"user_ids": "uuid"},
        {"user_ids": "skewed"},
        {"tags": "freeform", "giant_user_share": 0.5},
    ],
    ids=["uniform", "skewed-ids", "giant-user-free-form-tags"],
)
def test_every_statement_gives_the_same_rows_at_the_smallest_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: dict[str, object]
) -> None:
    """A memory limit makes DuckDB spill, never changes a row or fails a statement.

    192 MB is below the worker's limit and near the floor of DuckDB's gzip JSON reader (32 MiB
    buffers per file in flight); spilling at scale is measured by `make bench-etl-scale`. The day
    before is the same tasks a day earlier, so `task_changes` joins two full days.
    """
    day_before = SNAPSHOT - timedelta(days=1)
    exports = {}
    for day in (day_before, SNAPSHOT):
        tasks = generate_tasks(3000, day, seed=7, **shape)  # type: ignore[arg-type]
        write_export((to_dynamodb_item(task) for task in tasks), tmp_path / f"export-{day}")
        exports[day] = find_export_files(tmp_path / f"export-{day}")

    def transform_both_days(lake: Path) -> None:
        transform_export(exports[day_before], lake, day_before)
        compared = local_compared_snapshot(lake, SNAPSHOT)
        transform_export(exports[SNAPSHOT], lake, SNAPSHOT, compared)

    transform_both_days(tmp_path / "roomy")
    monkeypatch.setattr(engine, "MEMORY_LIMIT", "192MB")
    transform_both_days(tmp_path / "squeezed")

    assert read_partition(tmp_path / "roomy", "task_changes").num_rows > 0

    for table in SORT_KEYS:
        assert _rows(tmp_path / "squeezed", table).equals(_rows(tmp_path / "roomy", table))
