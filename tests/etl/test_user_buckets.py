"""The spill's buckets: globally sorted, and bounded in size whatever the user ids look like."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from etl import user_buckets
from etl.user_buckets import UserBucketSpill

ROWS = pa.schema([("user_id", pa.string()), ("task_id", pa.string())])
MAX_ROWS = 5_000


@pytest.fixture(autouse=True)
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_buckets, "MAX_BUCKET_ROWS", MAX_ROWS)


def _spill(tmp_path: Path, user_ids: list[str], batch_rows: int = 10_000) -> UserBucketSpill:
    spill = UserBucketSpill(tmp_path / "spill", ROWS)
    for start in range(0, len(user_ids), batch_rows):
        batch = user_ids[start : start + batch_rows]
        spill.add(pa.table({"user_id": batch, "task_id": [f"t{n}" for n in range(len(batch))]}))
    return spill


def _sequential_ids(count: int) -> Iterator[str]:
    return (str(uuid.UUID(int=index)) for index in range(count))


def test_sequential_ids_fill_buckets_evenly(tmp_path: Path) -> None:
    spill = _spill(tmp_path, list(_sequential_ids(100_000)))

    sizes = list(spill.map_sorted_buckets(lambda bucket: bucket.num_rows))

    assert sum(sizes) == 100_000
    assert max(sizes) <= MAX_ROWS
    assert max(sizes) / (sum(sizes) / len(sizes)) < 1.5


def test_buckets_come_out_globally_sorted_by_user(tmp_path: Path) -> None:
    ids = [user for user in _sequential_ids(20_000) for _ in range(3)]
    spill = _spill(tmp_path, ids[::-1])

    buckets = list(spill.map_sorted_buckets(lambda bucket: bucket["user_id"].to_pylist()))

    assert [user for bucket in buckets for user in bucket] == sorted(ids)
    assert sum(len(set(bucket)) for bucket in buckets) == len(set(ids)), "no user cut apart"


def test_one_users_tasks_stay_in_one_bucket_however_many(tmp_path: Path) -> None:
    ids = ["heavy-user"] * (3 * MAX_ROWS) + list(_sequential_ids(MAX_ROWS))
    spill = _spill(tmp_path, ids)

    buckets = list(spill.map_sorted_buckets(lambda bucket: set(bucket["user_id"].to_pylist())))

    assert [users for users in buckets if "heavy-user" in users] == [{"heavy-user"}]
