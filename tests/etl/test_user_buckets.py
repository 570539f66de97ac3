"""The spill's buckets: globally sorted, and bounded in size whatever the user ids look like."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from etl import user_buckets
from etl.user_buckets import BucketSpill

ROWS = pa.schema([("user_id", pa.string()), ("task_id", pa.string())])
MAX_ROWS = 5_000


@pytest.fixture(autouse=True)
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_buckets, "MAX_BUCKET_ROWS", MAX_ROWS)


def _spill(tmp_path: Path, user_ids: list[str], batch_rows: int = 10_000) -> BucketSpill:
    spill = BucketSpill(tmp_path / "spill", ROWS)
    for start in range(0, len(user_ids), batch_rows):
        batch = user_ids[start : start + batch_rows]
        spill.add(pa.table({"user_id": batch, "task_id": [f"t{n}" for n in range(len(batch))]}))
    return spill


def _sequential_ids(count: int) -> Iterator[str]:
    return (str(uuid.UUID(int=index)) for index in range(count))


def test_sequential_ids_fill_buckets_evenly(tmp_path: Path) -> None:
    spill = _spill(tmp_path, list(_sequential_ids(100_000)))

    sizes = list(spill.map_sorted_buckets(lambda bucket: bucket.rows.num_rows))

    assert sum(sizes) == 100_000
    assert max(sizes) <= MAX_ROWS
    assert max(sizes) / (sum(sizes) / len(sizes)) < 1.5


def test_buckets_come_out_globally_sorted_by_user(tmp_path: Path) -> None:
    ids = [user for user in _sequential_ids(20_000) for _ in range(3)]
    spill = _spill(tmp_path, ids[::-1])

    buckets = list(spill.map_sorted_buckets(lambda bucket: bucket.rows["user_id"].to_pylist()))

    assert [user for bucket in buckets for user in bucket] == sorted(ids)
    assert sum(len(set(bucket)) for bucket in buckets) == len(set(ids)), "no user cut apart"


def test_a_user_too_big_for_a_bucket_comes_in_parts_in_task_order(tmp_path: Path) -> None:
    ids = list(_sequential_ids(MAX_ROWS)) + ["heavy-user"] * (3 * MAX_ROWS)
    spill = _spill(tmp_path, ids, batch_rows=len(ids))

    buckets = list(spill.map_sorted_buckets(lambda bucket: bucket))

    parts = [bucket for bucket in buckets if bucket.part_of is not None]
    assert {bucket.part_of for bucket in parts} == {"heavy-user"}
    assert all(set(bucket.rows["user_id"].to_pylist()) == {"heavy-user"} for bucket in parts)
    assert max(bucket.rows.num_rows for bucket in buckets) <= MAX_ROWS
    heavy_tasks = [task for bucket in parts for task in bucket.rows["task_id"].to_pylist()]
    assert heavy_tasks == sorted(f"t{n}" for n in range(MAX_ROWS, 4 * MAX_ROWS))
    whole = [bucket for bucket in buckets if bucket.part_of is None]
    assert "heavy-user" not in {
        user for bucket in whole for user in bucket.rows["user_id"].to_pylist()
    }


def test_a_bucket_mostly_of_one_user_is_cut_around_them(tmp_path: Path) -> None:
    """Too few other users for the sample to see: the heavy user still gets ranges of their own."""
    others = [f"heavy-user-{n:02d}" for n in range(3)]
    spill = _spill(tmp_path, ["heavy-user"] * (3 * MAX_ROWS) + others + ["heavy-user-"])

    buckets = list(spill.map_sorted_buckets(lambda bucket: bucket))

    assert [user for bucket in buckets for user in bucket.rows["user_id"].to_pylist()] == sorted(
        ["heavy-user"] * (3 * MAX_ROWS) + others + ["heavy-user-"]
    )
    assert max(bucket.rows.num_rows for bucket in buckets) <= MAX_ROWS
    for bucket in buckets:
        users = set(bucket.rows["user_id"].to_pylist())
        assert (bucket.part_of == "heavy-user") == ("heavy-user" in users)
        assert bucket.part_of is None or users == {"heavy-user"}
