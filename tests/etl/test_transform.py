"""The transform run as a whole: result, reruns, determinism, atomic publication."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from etl import transform, user_buckets
from etl.dynamodb_export import find_export_files
from etl.synthetic import SyntheticTask, generate_tasks, to_dynamodb_item, write_export
from etl.tag_daily_stats import tag_daily_stats
from etl.transform import transform_export
from tests.etl.conftest import SNAPSHOT, SYNTHETIC_TASKS, RunTransform, read_partition
from tests.etl.items import task_item


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
    assert result.rows == {"tasks": 3, "user_daily_stats": 2, "tag_daily_stats": 2}
    assert result.files == [
        "tasks/year=2026/month=11/day=25/part-00000.parquet",
        "user_daily_stats/year=2026/month=11/day=25/part-00000.parquet",
        "tag_daily_stats/year=2026/month=11/day=25/part-00000.parquet",
    ]
    assert sorted(_lake_files(lake)) == sorted(result.files)


def test_rerun_replaces_the_partition_so_deleted_tasks_disappear(
    run_transform: RunTransform, lake: Path
) -> None:
    run_transform([task_item("u1", "kept"), task_item("u1", "deleted-later")])

    run_transform([task_item("u1", "kept")])

    assert read_partition(lake, "tasks")["task_id"].to_pylist() == ["kept"]
    assert read_partition(lake, "user_daily_stats")["tasks_total"].to_pylist() == [1]


def test_same_export_gives_byte_identical_files(
    tmp_path: Path, synthetic_tasks: list[SyntheticTask]
) -> None:
    export_dir = tmp_path / "export"
    write_export((to_dynamodb_item(task) for task in synthetic_tasks), export_dir, file_count=3)
    files = find_export_files(export_dir)

    transform_export(files, tmp_path / "first", SNAPSHOT)
    transform_export(list(reversed(files)), tmp_path / "second", SNAPSHOT)

    assert _lake_files(tmp_path / "first") == _lake_files(tmp_path / "second")


def test_failure_mid_write_leaves_no_partial_partition(
    run_transform: RunTransform, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_transform([task_item("u1", "from-yesterdays-run")])
    before = _lake_files(lake)

    def crash(partials: object) -> pa.Table:
        raise RuntimeError("worker lost")

    # The tasks and user stats files are already written when the tag stats are computed.
    monkeypatch.setattr(transform, "tag_daily_stats", crash)
    with pytest.raises(RuntimeError, match="worker lost"):
        run_transform([task_item("u1", "t1", tags=["home"]), task_item("u2", "t2")])

    assert _lake_files(lake) == before
    assert sorted(path.name for path in lake.iterdir()) == [
        "tag_daily_stats",
        "tasks",
        "user_daily_stats",
    ], "nothing but the published tables, no staging area left behind"


def test_empty_export_publishes_empty_partitions(run_transform: RunTransform, lake: Path) -> None:
    result = run_transform([])

    assert result.rows == {"tasks": 0, "user_daily_stats": 0, "tag_daily_stats": 0}
    assert read_partition(lake, "tasks").num_rows == 0


def test_partition_keys_live_in_the_path_only(run_transform: RunTransform, lake: Path) -> None:
    run_transform([task_item("u1", "t1")])

    for table in ("tasks", "user_daily_stats", "tag_daily_stats"):
        assert {"year", "month", "day"}.isdisjoint(read_partition(lake, table).column_names)


def test_splitting_oversized_buckets_gives_the_same_files(
    tmp_path: Path, synthetic_tasks: list[SyntheticTask], monkeypatch: pytest.MonkeyPatch
) -> None:
    export_dir = tmp_path / "export"
    write_export((to_dynamodb_item(task) for task in synthetic_tasks), export_dir)
    files = find_export_files(export_dir)
    transform_export(files, tmp_path / "whole-buckets", SNAPSHOT)

    # 3000 tasks in 16 buckets of ~190 rows: every bucket is cut, down to one user per range.
    monkeypatch.setattr(user_buckets, "MAX_BUCKET_ROWS", 20)
    transform_export(files, tmp_path / "split-buckets", SNAPSHOT)

    assert _lake_files(tmp_path / "split-buckets") == _lake_files(tmp_path / "whole-buckets")


def _with_user_ids(table: pa.Table, user_ids: dict[str, str]) -> pa.Table:
    renamed = pa.array([user_ids[user] for user in table["user_id"].to_pylist()], pa.string())
    rows = table.set_column(table.schema.get_field_index("user_id"), "user_id", renamed)
    return rows.sort_by(
        [(name, "ascending") for name in ("user_id", "task_id") if name in rows.column_names]
    )


@pytest.mark.parametrize("distribution", ["sequential", "skewed"])
def test_output_does_not_depend_on_how_user_ids_look(
    tmp_path: Path,
    synthetic_tasks: list[SyntheticTask],
    distribution: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same tasks owned by ids a load test counted up: the same rows, ids mapped back."""
    renamed_tasks = list(generate_tasks(SYNTHETIC_TASKS, SNAPSHOT, seed=7, user_ids=distribution))
    uuid_of = {
        renamed.user_id: task.user_id
        for task, renamed in zip(synthetic_tasks, renamed_tasks, strict=True)
    }
    monkeypatch.setattr(user_buckets, "MAX_BUCKET_ROWS", 200)
    for name, tasks in (("uuid", synthetic_tasks), (distribution, renamed_tasks)):
        write_export((to_dynamodb_item(task) for task in tasks), tmp_path / name / "export")
        transform_export(find_export_files(tmp_path / name / "export"), tmp_path / name, SNAPSHOT)

    assert len(uuid_of) == len(set(uuid_of.values())), "one id per user in both exports"
    for table in ("tasks", "user_daily_stats"):
        renamed = _with_user_ids(read_partition(tmp_path / distribution, table), uuid_of)
        assert renamed.equals(read_partition(tmp_path / "uuid", table))
    assert read_partition(tmp_path / distribution, "tag_daily_stats").equals(
        read_partition(tmp_path / "uuid", "tag_daily_stats")
    )


def test_a_giant_user_cut_into_parts_and_free_form_tags_give_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the tasks one user's, nearly every tag new: cut into parts, nothing changes."""
    tasks = list(generate_tasks(3000, SNAPSHOT, seed=7, tags="freeform", giant_user_share=0.5))
    giant = max({task.user_id for task in tasks}, key=[task.user_id for task in tasks].count)
    export_dir = tmp_path / "export"
    write_export((to_dynamodb_item(task) for task in tasks), export_dir)
    files = find_export_files(export_dir)
    transform_export(files, tmp_path / "whole", SNAPSHOT)

    monkeypatch.setattr(user_buckets, "MAX_BUCKET_ROWS", 100)
    transform_export(files, tmp_path / "parts", SNAPSHOT)

    assert _lake_files(tmp_path / "parts") == _lake_files(tmp_path / "whole")
    stats = read_partition(tmp_path / "parts", "user_daily_stats").to_pylist()
    giant_stats = next(row for row in stats if row["user_id"] == giant)
    assert giant_stats["tasks_total"] > 1400, "one user with about half the tasks"
    assert giant_stats["tasks_completed"] >= 2, "a median over several parts"
    tags = read_partition(tmp_path / "parts", "tag_daily_stats")
    assert tags.num_rows > 2000, "about one tag row per tagged task"


def test_partial_tag_counts_are_added_up_a_range_of_tags_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free-form tags give nearly as many partial rows as tasks: never all in memory at once."""
    tasks = generate_tasks(3000, SNAPSHOT, seed=7, tags="freeform")
    write_export((to_dynamodb_item(task) for task in tasks), tmp_path / "export")
    monkeypatch.setattr(user_buckets, "MAX_BUCKET_ROWS", 200)
    partial_rows: list[int] = []

    def add_up(partials: pa.Table) -> pa.Table:
        partial_rows.append(partials.num_rows)
        return tag_daily_stats(partials)

    monkeypatch.setattr(transform, "tag_daily_stats", add_up)
    result = transform_export(find_export_files(tmp_path / "export"), tmp_path / "lake", SNAPSHOT)

    assert sum(partial_rows) >= result.rows["tag_daily_stats"] > 2000
    assert max(partial_rows) <= 200


def test_the_lake_code_allocates_from_arrows_jemalloc_pool() -> None:
    """The pool that keeps the free-form-tags case under its memory budget (docs/benchmarks.md).

    In a fresh interpreter: the pool is chosen at the process's first Arrow allocation.
    """
    probe = "import etl.transform, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    environment = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "jemalloc"
