"""The local lake mirrors exactly what the Glue catalog publishes."""

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl.lake_mirror import SOURCE_MARKER, mirror_published
from etl.publish import PartitionFolder, publish_partitions
from etl.schemas import TASKS
from tests.dags.local_stack import LAKE_BUCKET, LocalStack

DAY = date(2026, 9, 1)


def _published_run(
    stack: LocalStack, run: str, rows: int, day: date = DAY, name: str = "part-00000.parquet"
) -> None:
    s3 = stack.client("s3")
    prefix = f"silver/tasks/year={day:%Y}/month={day:%m}/day={day:%d}/run={run}/"
    sink = pa.BufferOutputStream()
    # The tasks columns, as every published tasks partition has: a later run's task_changes
    # in this session's catalog may compare with this day.
    tasks = pa.Table.from_pylist([{"task_id": f"t{i}"} for i in range(rows)], schema=TASKS)
    pq.write_table(tasks, sink)
    s3.put_object(Bucket=LAKE_BUCKET, Key=f"{prefix}{name}", Body=sink.getvalue().to_pybytes())
    location = f"s3://{LAKE_BUCKET}/{prefix}"
    publish_partitions(
        stack.client("glue"),
        stack.database,
        [PartitionFolder("tasks", day.isoformat(), location, [], rows)],
    )


def _local_rows(lake_root: Path, day: date = DAY) -> int:
    folder = lake_root / f"tasks/year={day:%Y}/month={day:%m}/day={day:%d}"
    return sum(pq.read_metadata(path).num_rows for path in folder.glob("*.parquet"))


def test_mirror_follows_the_partition_to_its_latest_run(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    _published_run(local_stack, "mirror-a", rows=3)
    mirror_published(s3, glue, local_stack.database, tmp_path)
    _published_run(local_stack, "mirror-b", rows=5)

    mirrored = mirror_published(s3, glue, local_stack.database, tmp_path)

    assert _local_rows(tmp_path) == 5
    day = next(p for p in mirrored if p.table == "tasks" and p.values == ["2026", "09", "01"])
    assert day.rows == 5
    assert (day.folder / SOURCE_MARKER).read_text().endswith("run=mirror-b/")
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_mirror_counts_ctas_files_that_have_no_parquet_suffix(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    _published_run(local_stack, "mirror-ctas", rows=4, name="20260901_010203_00007_abcde_x")

    mirrored = mirror_published(s3, glue, local_stack.database, tmp_path)

    day = next(p for p in mirrored if p.table == "tasks" and p.values == ["2026", "09", "01"])
    assert day.rows == 4


def test_mirror_removes_only_its_own_copies_of_unpublished_partitions(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    stale = tmp_path / "tasks/year=2001/month=01/day=01"
    stale.mkdir(parents=True)
    (stale / SOURCE_MARKER).write_text("s3://gone/")
    hand_made = tmp_path / "tasks/year=2001/month=01/day=02"
    hand_made.mkdir(parents=True)
    (hand_made / "part-00000.parquet").write_bytes(b"not ours")

    mirror_published(s3, glue, local_stack.database, tmp_path)

    assert not stale.exists()
    assert hand_made.exists()
