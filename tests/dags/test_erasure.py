"""Erasure against the local engines: moto's S3 and Glue, DuckDB on this worker.

Each test gets its own Glue database and lake bucket (the erasure reads every published day,
so it must not see other tests' days). Days are built by the real path: the DAG's DuckDB
transform of an export, staged and published by etl/publish.py. The `users` table is published
the same way; until the daily DAG publishes it, its Glue table is created here when the
analytics template has none.
"""

from __future__ import annotations

import gzip
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from airflow.models import DagBag

import etl.erasure
import etl.publish
from etl.bronze import scan_item_to_export_line
from etl.erasure import ERASED_TAG, ErasureBlockedError, ErasureResult, erase_deleted_accounts
from etl.lake_layout import new_attempt_key
from etl.lake_status import ExportOrigin, stage_status, status_row
from etl.latest_snapshot import LATEST_OF, point_latest_tables
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.publish import publish_partitions, stage_partitions, write_pointers
from etl.run_metrics import read_run_metrics
from etl.schemas import TABLES
from etl.transform import transform_export
from infra.local.analytics_catalog import create_analytics_catalog
from tests.dags.local_stack import LocalStack, task_item

DAGS = Path(__file__).resolve().parents[2] / "dags"
D1, D2, D3 = date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)
# The erasure reads user_id only; the other columns stay null here.
USERS_SCHEMA = TABLES["users"]
_STAGES = itertools.count(1)


@dataclass
class Lake:
    stack: LocalStack
    bucket: str
    work: Path

    @property
    def database(self) -> str:
        return self.stack.database

    def erase(self, **kwargs: Any) -> ErasureResult:
        return erase_deleted_accounts(
            self.stack.client("s3"),
            self.stack.client("glue"),
            database=self.database,
            bucket=self.bucket,
            workdir=self.work / f"erasure-{next(_STAGES)}",
            owner="test",
            **kwargs,
        )

    def rows(self, table: str, day: date) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.stack.read_published(table, day).to_pylist()
        return rows

    def locations(self) -> dict[tuple[str, str], str]:
        glue = self.stack.client("glue")
        found = {}
        for table in TABLES:
            for partition in glue.get_partitions(DatabaseName=self.database, TableName=table)[
                "Partitions"
            ]:
                key = (table, "-".join(partition["Values"]))
                found[key] = partition["StorageDescriptor"]["Location"]
        return found


@pytest.fixture
def lake(local_stack: LocalStack, tmp_path: Path) -> Lake:
    stage = f"erasure{next(_STAGES)}"
    bucket = f"tasklake-test-{stage}-lake"
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    database = create_analytics_catalog(s3, glue, {"Environment": stage, "LakeBucketName": bucket})
    return Lake(LocalStack(local_stack.env, database), bucket, tmp_path)


EXPORTED = ExportOrigin("duckdb", "scan", datetime(2026, 11, 12, 0, 5, tzinfo=UTC))


def publish_day(
    lake: Lake,
    day: date,
    tasks: list[dict[str, Any]],
    users: list[str] | None,
    *,
    with_status: bool = False,
) -> None:
    """Publish `day` as a daily run does: transform the export, stage, validate-free flip.

    `users=None` publishes no users partition for the day; `with_status` adds its `lake_status`
    row, as `etl.day_publish` writes it.
    """
    root = lake.work / f"day-{next(_STAGES)}"
    export = root / "export" / "00000.json.gz"
    export.parent.mkdir(parents=True)
    export.write_bytes(
        b"".join(scan_item_to_export_line(item) for item in tasks) or gzip.compress(b"")
    )
    result = transform_export([export] if tasks else [], root / "lake", day)
    # The day's accounts are the test's to choose (or to leave out): the transform's own users
    # partition (empty here, no users export) is replaced.
    users_file = str(partition_path("users", day) / PARQUET_FILE_NAME)
    files = [file for file in result.files if file != users_file]
    rows = {table: count for table, count in result.rows.items() if table != "users"}
    if users is not None:
        relative = users_file
        (root / "lake" / relative).parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [{"user_id": user, "snapshot_date": day} for user in users], schema=USERS_SCHEMA
        )
        pq.write_table(table, root / "lake" / relative)
        files.append(relative)
        rows["users"] = len(users)
    s3, glue = lake.stack.client("s3"), lake.stack.client("glue")
    staged = stage_partitions(
        s3,
        glue,
        database=lake.database,
        out_root=root / "lake",
        files=files,
        rows=rows,
        snapshot_date=day,
        attempt_key=new_attempt_key("scheduled__test", 1),
    )
    if with_status:
        row = status_row(day, datetime.now(UTC), rows, EXPORTED)
        staged.append(
            stage_status(
                s3, glue, database=lake.database, row=row, snapshot_date=day,
                attempt_key=new_attempt_key("scheduled__test", 1),
            )
        )  # fmt: skip
    publish_partitions(glue, lake.database, staged)
    point_latest_tables(glue, lake.database, [p.table for p in staged if p.table in LATEST_OF])
    write_pointers(s3, staged)


ALICE = [
    task_item("alice", "a1", tags=["Home"]),
    task_item("alice", "a2", status="done", completed_at="2026-11-10T12:00:00Z"),
]
BOB = [task_item("bob", "b1", tags=["bobs-divorce-lawyer", "home"])]
LIVE = ["alice", *(f"quiet-{n}" for n in range(39))]
"""Accounts at the snapshot; 39 never wrote a task. Erasing bob is 1 in 41 (2.4 %)."""


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["user_id"] for row in rows}


def test_a_deleted_accounts_rows_leave_every_table_of_every_day(lake: Lake) -> None:
    # Given bob in D1, deleted before the end of D2: gone from D2's tasks and users.
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)
    alice_tasks_before = lake.rows("tasks", D1)
    home_before = [r for r in lake.rows("tag_daily_stats", D1) if r["tag"] == "home"]
    assert [(r["tasks_total"], r["users"]) for r in home_before] == [(3, 2)]

    result = lake.erase()

    assert result.accounts == 1
    assert [day.snapshot_date for day in result.days] == [D1]
    assert result.rows_erased["tasks"] == 1
    assert result.rows_erased["users"] == 1
    assert result.rows_erased["user_daily_stats"] == 1
    for table in ("tasks", "user_daily_stats", "users"):
        for day in (D1, D2):
            assert "bob" not in _ids(lake.rows(table, day)), (table, day)
    # Only bob's rows left: alice's are the ones published before, value for value.
    assert [r for r in alice_tasks_before if r["user_id"] == "alice"] == sorted(
        lake.rows("tasks", D1), key=lambda r: r["task_id"]
    )
    # Gold without user_id is recomputed from the rewritten silver: bob's tag is gone, and
    # `home` counts alice's two tasks only.
    tags = {row["tag"]: row for row in lake.rows("tag_daily_stats", D1)}
    assert set(tags) == {"home"}
    assert (tags["home"]["tasks_total"], tags["home"]["users"]) == (2, 1)


def test_an_account_with_rows_on_two_days_leaves_both(lake: Lake) -> None:
    # Given bob's task in D1 and D2, and bob no longer an account at D3: one run rewrites both
    # days, each recomputing its gold from its own rewritten silver.
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D3, ALICE, LIVE)

    result = lake.erase()

    assert [day.snapshot_date for day in result.days] == [D1, D2]
    for day in (D1, D2):
        assert "bob" not in _ids(lake.rows("tasks", day)), day
        tags = {row["tag"]: row for row in lake.rows("tag_daily_stats", day)}
        assert set(tags) == {"home"}, day
        assert (tags["home"]["tasks_total"], tags["home"]["users"]) == (2, 1), day


def test_the_day_s_lake_status_row_counts_what_the_erasure_left(lake: Lake) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"], with_status=True)
    publish_day(lake, D2, ALICE, LIVE)
    (before,) = lake.rows("lake_status", D1)

    lake.erase()

    (after,) = lake.rows("lake_status", D1)
    written = dict(after["rows_written"])
    assert written.keys() == dict(before["rows_written"]).keys()
    for table, rows in written.items():
        assert rows == len(lake.rows(table, D1)), table
    assert written["tasks"] == dict(before["rows_written"])["tasks"] - 1
    # Where the day's rows came from is unchanged; when it was last published is the erasure.
    assert [after[key] for key in ("engine", "export_mode", "export_time")] == [
        before[key] for key in ("engine", "export_mode", "export_time")
    ]
    assert after["published_at"] > before["published_at"]


def test_a_lake_status_partition_of_more_than_one_row_is_named_not_unpacked(
    tmp_path: Path,
) -> None:
    """One row a day is what etl.day_publish writes; two would make the restated counts a
    guess, so the erasure stops with the day and the count, not a bare unpacking error."""
    status = tmp_path / "lake_status.parquet"
    pq.write_table(pa.table({"snapshot_date": [D1, D1]}), status)

    class TwoRows:  # what _restated_status reads before it stages anything
        def read(self, table: str, day: date) -> list[Path]:
            assert (table, day) == ("lake_status", D1)
            return [status]

    lake = cast(etl.erasure._Lake, TwoRows())
    with pytest.raises(ValueError, match=r"^lake_status of 2026-11-10 holds 2 rows, not one"):
        etl.erasure._restated_status(lake, D1, {}, "attempt")


def test_rewritten_files_keep_the_glue_types(lake: Lake) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)
    before = lake.stack.read_published("tasks", D1).schema

    lake.erase()

    assert lake.stack.read_published("tasks", D1).schema.field("created_at").type == pa.timestamp(
        "ms"
    )
    assert lake.stack.read_published("tasks", D1).schema.names == before.names


def test_a_rerun_finds_nothing_and_publishes_nothing(lake: Lake) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)
    lake.erase()
    after_first = lake.locations()

    again = lake.erase()

    assert (again.accounts, again.days) == (0, [])
    assert lake.locations() == after_first


def test_the_latest_tables_follow_a_rewritten_newest_day(lake: Lake) -> None:
    # bob deleted after D1's tasks export, before its users export (scan mode's order).
    publish_day(lake, D1, ALICE + BOB, LIVE)

    lake.erase()

    glue = lake.stack.client("glue")
    latest = glue.get_table(DatabaseName=lake.database, Name="tasks_latest")["Table"]
    assert latest["StorageDescriptor"]["Location"] == lake.stack.location("tasks", D1)
    assert "bob" not in _ids(lake.rows("tasks", D1))


def test_replaced_folders_are_tagged_for_the_erased_rows_lifecycle_rule(lake: Lake) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)
    old = lake.stack.location("tasks", D1)

    lake.erase()

    s3 = lake.stack.client("s3")
    for key in lake.stack.objects(old):
        tags = s3.get_object_tagging(Bucket=lake.bucket, Key=key)["TagSet"]
        assert {"Key": ERASED_TAG[0], "Value": ERASED_TAG[1]} in tags


@pytest.mark.parametrize(
    ("users_d2", "message"),
    [
        (None, "older than the newest tasks partition"),
        ([], "is empty"),
    ],
)
def test_doubtful_users_evidence_erases_nothing(
    lake: Lake, users_d2: list[str] | None, message: str
) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, users_d2)
    before = lake.locations()

    with pytest.raises(ErasureBlockedError, match=message):
        lake.erase()

    assert lake.locations() == before


def test_no_users_partition_at_all_erases_nothing(lake: Lake) -> None:
    publish_day(lake, D1, ALICE + BOB, None)
    before = lake.locations()

    with pytest.raises(ErasureBlockedError, match="no published users partition"):
        lake.erase()

    assert lake.locations() == before


def test_erasing_too_many_accounts_at_once_is_refused(lake: Lake) -> None:
    publish_day(lake, D1, ALICE + BOB, ["alice", "bob"])
    publish_day(lake, D2, ALICE, ["alice"])
    before = lake.locations()

    # 1 of 2 accounts seen is 50 %; the default bound is 5 %.
    with pytest.raises(ErasureBlockedError, match=r"1 accounts to erase against 1 live"):
        lake.erase()
    assert lake.locations() == before

    assert lake.erase(max_share=0.5).accounts == 1


def test_readers_see_the_old_day_whole_until_the_flip_then_the_new_one_whole(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)
    old = {table: lake.stack.location(table, D1) for table in ("tasks", "users")}
    old_objects = {table: lake.stack.objects(old[table]) for table in old}
    seen: dict[str, Any] = {}
    real_publish = etl.publish.publish_partitions

    def publish_watched(glue: Any, database: str, staged: Any) -> Any:
        # Everything is staged and validated; readers are still on the old, whole folders.
        seen["staged"] = {p.table: p.location for p in staged}
        seen["before"] = {t: lake.stack.location(t, D1) for t in old}
        seen["bob_before"] = "bob" in _ids(lake.rows("tasks", D1))
        return real_publish(glue, database, staged)

    monkeypatch.setattr(etl.erasure, "publish_partitions", publish_watched)

    lake.erase()

    assert seen["before"] == old
    assert seen["bob_before"] is True
    for table, old_location in old.items():
        assert lake.stack.location(table, D1) == seen["staged"][table] != old_location
        # A query planned before the flip still finds every old file, unchanged.
        assert lake.stack.objects(old_location) == old_objects[table]


def test_a_failed_flip_leaves_every_table_on_its_old_folder_and_a_rerun_finishes(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)
    before = lake.locations()
    real_flip = etl.publish.point_partition
    flips = itertools.count()

    def flip_then_fail(*args: Any, **kwargs: Any) -> None:
        if next(flips) == 2:
            raise RuntimeError("Glue throttled the third table")
        real_flip(*args, **kwargs)

    monkeypatch.setattr(etl.publish, "point_partition", flip_then_fail)
    with pytest.raises(RuntimeError, match="third table"):
        lake.erase()
    assert lake.locations() == before

    monkeypatch.setattr(etl.publish, "point_partition", real_flip)
    assert lake.erase().accounts == 1
    assert "bob" not in _ids(lake.rows("tasks", D1))


def _run_erasure_dag(lake: Lake, monkeypatch: pytest.MonkeyPatch, metrics_log: Path) -> Any:
    """The `lake_erasure` DAG in this process, on the test's own database and bucket."""
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_GLUE_DATABASE", lake.database)
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_LAKE_BUCKET", lake.bucket)
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_METRICS_LOG", str(metrics_log))
    dag = DagBag(dag_folder=str(DAGS)).dags["lake_erasure"]
    return dag.test(logical_date=datetime.now(UTC))


def _sent(metrics_log: Path) -> list[tuple[str, dict[str, str], float]]:
    return [
        (datum["MetricName"], {d["Name"]: d["Value"] for d in datum["Dimensions"]}, datum["Value"])
        for data in read_run_metrics(metrics_log)
        for datum in data
    ]


def test_the_dag_erases_on_the_worker_and_reports_rows_erased(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    publish_day(lake, D1, ALICE + BOB, [*LIVE, "bob"])
    publish_day(lake, D2, ALICE, LIVE)

    run = _run_erasure_dag(lake, monkeypatch, tmp_path / "metrics.jsonl")

    assert run.state == "success"
    assert "bob" not in _ids(lake.rows("tasks", D1))
    sent = _sent(tmp_path / "metrics.jsonl")
    assert ("RowsErased", {"Dag": "lake_erasure", "Table": "tasks"}, 1) in sent
    assert not [name for name, _, _ in sent if name in {"ErasureBlocked", "ErasureFailed"}]


def test_a_refused_erasure_fails_the_run_with_both_metrics(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    publish_day(lake, D1, ALICE + BOB, None)
    before = lake.locations()

    run = _run_erasure_dag(lake, monkeypatch, tmp_path / "metrics.jsonl")

    assert run.state == "failed"
    assert lake.locations() == before
    sent = {(name, value) for name, _, value in _sent(tmp_path / "metrics.jsonl")}
    assert sent == {("ErasureBlocked", 1), ("ErasureFailed", 1)}


def test_a_mass_erasure_is_refused_at_the_first_day_that_passes_the_bound(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each of two days holds an account the newest users partition lacks; one alone is 50 %.
    carol = [task_item("carol", "c1")]
    publish_day(lake, D1, ALICE + BOB, ["alice", "bob"])
    publish_day(lake, D2, ALICE + carol, ["alice", "carol"])
    publish_day(lake, date(2026, 11, 12), ALICE, ["alice"])
    read: list[str] = []
    real_read = etl.erasure._Lake.read

    def counted_read(self: Any, table: str, day: date) -> list[Path]:
        read.append(f"{table} {day}")
        return real_read(self, table, day)

    monkeypatch.setattr(etl.erasure._Lake, "read", counted_read)

    with pytest.raises(ErasureBlockedError, match=r"^1 accounts to erase against 1 live"):
        lake.erase(max_share=0.4)

    # Refused on the first day holding one: the days after it were never read.
    assert f"user_daily_stats {D2}" not in read
    assert f"users {D2}" not in read
