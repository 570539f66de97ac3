"""Publishing and validation against moto: one partition per date, flipped whole or not at all."""

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import etl.publish
from etl.catalog_repair import main, repair_catalog
from etl.day_publish import publish_day
from etl.lake_layout import (
    bronze_export_try_prefix,
    new_attempt_key,
    partition_suffix,
    partition_values,
)
from etl.lake_status import ExportOrigin
from etl.publish import (
    LiveLocationError,
    PartitionFolder,
    newest_published_day,
    point_partition,
    publish_partitions,
    published_location,
    published_partition,
    stage_partitions,
    table_location,
    tag_superseded,
    unpublished,
    write_pointers,
)
from etl.schemas import TABLES
from etl.validation import (
    FOOTER_READ_BYTES,
    ValidationError,
    check_row_counts,
    check_staged_files,
)
from infra.cfn import INFRA, load_template
from tests.dags.local_stack import LAKE_BUCKET, LocalStack

DAY = date(2026, 10, 1)


def _keys(partitions: list[PartitionFolder]) -> list[str]:
    return [key for partition in partitions for key in partition.keys]


def _write_lake(
    root: Path, rows: int, schema: pa.Schema | None = None, day: date = DAY
) -> list[str]:
    """A transform's output for `day`: one file per table, `rows` rows in each."""
    files = []
    for table, table_schema in TABLES.items():
        relative = f"{table}/{partition_suffix(day)}part-00000.parquet"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        use = schema if schema is not None else table_schema
        pq.write_table(pa.Table.from_pylist([{}] * rows, schema=use), root / relative)
        files.append(relative)
    return files


def _stage_day(
    stack: LocalStack, root: Path, attempt: str, day: date, rows: int = 2
) -> list[PartitionFolder]:
    return stage_partitions(
        stack.client("s3"),
        stack.client("glue"),
        database=stack.database,
        out_root=root,
        files=_write_lake(root, rows, day=day),
        rows=dict.fromkeys(TABLES, rows),
        snapshot_date=day,
        attempt_key=attempt,
    )


def _stage(stack: LocalStack, root: Path, attempt: str, rows: int = 2) -> list[PartitionFolder]:
    return _stage_day(stack, root, attempt, DAY, rows)


def test_staged_files_land_under_the_run_folder_of_each_table(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    attempt = new_attempt_key("manual__2026-10-02T00:00:00+00:00", 1)
    staged = _stage(local_stack, tmp_path, attempt)

    glue = local_stack.client("glue")
    assert attempt.startswith("manual__2026-10-02T00-00-00-00-00.try1.")
    for partition in staged:
        base = table_location(glue, local_stack.database, partition.table)
        assert partition.location == f"{base}year=2026/month=10/day=01/run={attempt}/"
        assert published_location(glue, local_stack.database, partition.table, DAY) == ""


def test_two_attempts_of_the_same_run_and_try_stage_in_different_folders() -> None:
    """`airflow dags test` recreates a run with its id and try 1; clearing keeps the id."""
    run_id = "scheduled__2026-10-01T00:00:00+00:00"

    assert new_attempt_key(run_id, 1) != new_attempt_key(run_id, 1)


def test_staging_into_the_published_folder_is_refused_and_uploads_nothing(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    day = date(2026, 10, 3)
    files = _write_lake(tmp_path, 2, day=day)
    stage = {
        "database": local_stack.database,
        "out_root": tmp_path,
        "files": files,
        "rows": dict.fromkeys(TABLES, 2),
        "snapshot_date": day,
        "attempt_key": "live-attempt",
    }
    published = stage_partitions(s3, glue, **stage)  # type: ignore[arg-type]
    publish_partitions(glue, local_stack.database, published)
    etags = {key: s3.head_object(Bucket=LAKE_BUCKET, Key=key)["ETag"] for key in _keys(published)}

    with pytest.raises(LiveLocationError, match="is published"):
        stage_partitions(s3, glue, **stage)  # type: ignore[arg-type]

    assert {key: s3.head_object(Bucket=LAKE_BUCKET, Key=key)["ETag"] for key in etags} == etags


def test_publishing_twice_leaves_one_partition_at_the_latest_run(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    glue = local_stack.client("glue")
    first = _stage(local_stack, tmp_path / "a", "run-a")
    second = _stage(local_stack, tmp_path / "b", "run-b")

    publish_partitions(glue, local_stack.database, first)
    replaced = publish_partitions(glue, local_stack.database, second)

    for partition in second:
        found = glue.get_partitions(DatabaseName=local_stack.database, TableName=partition.table)
        day_partitions = [p for p in found["Partitions"] if p["Values"] == ["2026", "10", "01"]]
        assert [p["StorageDescriptor"]["Location"] for p in day_partitions] == [partition.location]
    assert sorted((p.location, p.keys) for p in replaced) == sorted(
        (p.location, p.keys) for p in first
    )


def _expiring_rules(key: str, tags: list[dict[str, str]]) -> set[str]:
    """Ids of the lake bucket's enabled rules that expire the current version of `key`."""
    template = load_template(INFRA / "analytics.yaml")
    bucket = template["Resources"]["LakeBucket"]["Properties"]
    tag_set = {(tag["Key"], tag["Value"]) for tag in tags}
    return {
        rule["Id"]
        for rule in bucket["LifecycleConfiguration"]["Rules"]
        if rule["Status"] == "Enabled"
        and "ExpirationInDays" in rule
        and key.startswith(rule.get("Prefix", ""))
        and {(tag["Key"], tag["Value"]) for tag in rule.get("TagFilters", [])} <= tag_set
    }


def test_replaced_folders_are_tagged_for_the_lifecycle_rule_and_nothing_live_is(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue, day = local_stack.client("s3"), local_stack.client("glue"), date(2026, 10, 7)
    first, second = (
        _stage_day(local_stack, tmp_path / run, run, day) for run in ("run-a", "run-b")
    )
    for run in (first, second):
        write_pointers(s3, run)
        tag_superseded(s3, publish_partitions(glue, local_stack.database, run))

    def tags(key: str) -> list[dict[str, str]]:
        tag_set: list[dict[str, str]] = s3.get_object_tagging(Bucket=LAKE_BUCKET, Key=key)["TagSet"]
        return tag_set

    for key in _keys(first):
        assert _expiring_rules(key, tags(key)) == {"expire-superseded-runs"}, key
    for key in _keys(second) + [partition.pointer_key for partition in second]:
        assert _expiring_rules(key, tags(key)) == set(), key
    bronze = bronze_export_try_prefix(day, "run-a", 1) + "data/x.json.gz"
    assert _expiring_rules(bronze, []) == {"expire-bronze"}


def _tags(stack: LocalStack, keys: list[str]) -> dict[str, list[dict[str, str]]]:
    s3 = stack.client("s3")
    return {key: s3.get_object_tagging(Bucket=LAKE_BUCKET, Key=key)["TagSet"] for key in keys}


SUPERSEDED = [{"Key": "tasklake:lake-state", "Value": "superseded"}]


def test_a_retry_after_the_flip_still_tags_the_folders_it_replaced(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    """The flips landed, then the task failed before tagging (pointers, S3): the retry finds
    the partitions already at its folders, and must still tag the folders they replaced."""
    s3, glue, database, day = (
        local_stack.client("s3"),
        local_stack.client("glue"),
        local_stack.database,
        date(2026, 10, 8),
    )
    first, second = (_stage_day(local_stack, tmp_path / run, run, day) for run in ("a", "b"))
    tag_superseded(s3, publish_partitions(glue, database, first))
    publish_partitions(glue, database, second)  # the try that failed after its flips

    retried = publish_partitions(glue, database, second)
    tag_superseded(s3, retried)

    assert sorted(_keys(retried)) == sorted(_keys(first))
    assert list(_tags(local_stack, _keys(first)).values()) == [SUPERSEDED] * len(_keys(first))
    assert list(_tags(local_stack, _keys(second)).values()) == [[]] * len(_keys(second))


def test_a_failed_attempts_staged_folders_are_tagged_and_a_live_one_is_not(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue, database, day = (
        local_stack.client("s3"),
        local_stack.client("glue"),
        local_stack.database,
        date(2026, 10, 10),
    )
    live = _stage_day(local_stack, tmp_path / "live", "live", day)
    publish_partitions(glue, database, live)
    failed = _stage_day(local_stack, tmp_path / "failed", "failed", day)

    tag_superseded(s3, unpublished(glue, database, [*live, *failed]))

    assert list(_tags(local_stack, _keys(failed)).values()) == [SUPERSEDED] * len(_keys(failed))
    assert list(_tags(local_stack, _keys(live)).values()) == [[]] * len(_keys(live))


def test_a_partition_that_cannot_flip_puts_the_others_back(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    glue = local_stack.client("glue")
    database = local_stack.database
    day = date(2026, 10, 2)
    good = [
        PartitionFolder(table, day.isoformat(), f"s3://tasklake-test-lake/x/{table}/run=1/", [], 0)
        for table in ("tag_daily_stats", "tasks")
    ]
    publish_partitions(glue, database, good[:1])
    moved = [
        PartitionFolder(p.table, p.snapshot_date, p.location.replace("run=1", "run=2"), [], 0)
        for p in good
    ]
    missing_table = PartitionFolder("no_such_table", day.isoformat(), "s3://x/", [], 0)

    with pytest.raises(glue.exceptions.EntityNotFoundException):
        publish_partitions(glue, database, [*moved, missing_table])

    assert published_location(glue, database, "tag_daily_stats", day) == good[0].location
    assert published_location(glue, database, "tasks", day) == ""


def _two_tables(day: date, run: str) -> list[PartitionFolder]:
    return [
        PartitionFolder(table, day.isoformat(), f"s3://{LAKE_BUCKET}/x/{table}/run={run}/", [], 0)
        for table in ("tag_daily_stats", "tasks")
    ]


def _locations(stack: LocalStack, day: date) -> dict[str, str]:
    glue = stack.client("glue")
    return {
        t: published_location(glue, stack.database, t, day) for t in ("tag_daily_stats", "tasks")
    }


def test_a_flip_that_lands_but_raises_is_put_back_too(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    glue, day = local_stack.client("glue"), date(2026, 10, 4)
    publish_partitions(glue, local_stack.database, _two_tables(day, "old"))
    before = _locations(local_stack, day)
    real_flip = etl.publish.point_partition

    def flip_then_time_out(
        glue: Any, database: str, partition: PartitionFolder, **kwargs: Any
    ) -> None:
        real_flip(glue, database, partition, **kwargs)
        if partition.table == "tasks" and "run=new" in partition.location:
            raise ConnectionError("injected: the update landed, the response was lost")

    monkeypatch.setattr(etl.publish, "point_partition", flip_then_time_out)

    with pytest.raises(ConnectionError, match="response was lost"):
        publish_partitions(glue, local_stack.database, _two_tables(day, "new"))

    assert _locations(local_stack, day) == before


def test_a_failed_restore_is_logged_and_the_publish_error_is_raised(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    glue, day = local_stack.client("glue"), date(2026, 10, 5)
    publish_partitions(glue, local_stack.database, _two_tables(day, "old"))
    real_flip = etl.publish.point_partition

    def flip_fails_then_restore_fails(
        glue: Any, database: str, partition: Any, **kwargs: Any
    ) -> None:
        if partition.table == "tasks":
            raise ConnectionError("injected: publish")
        if "run=old" in partition.location:
            raise TimeoutError("injected: restore")
        real_flip(glue, database, partition, **kwargs)

    monkeypatch.setattr(etl.publish, "point_partition", flip_fails_then_restore_fails)

    with pytest.raises(ConnectionError, match="injected: publish") as raised:
        publish_partitions(glue, local_stack.database, _two_tables(day, "new"))

    (record,) = [r for r in caplog.records if "could not be restored" in r.getMessage()]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], TimeoutError)
    assert "tag_daily_stats" in record.getMessage()
    assert any("restoring tag_daily_stats failed" in note for note in raised.value.__notes__)


def test_a_restore_leaves_a_partition_another_publish_has_re_pointed(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    glue, database, day = local_stack.client("glue"), local_stack.database, date(2026, 10, 6)
    publish_partitions(glue, database, _two_tables(day, "old"))
    other_run = _two_tables(day, "other")[0]
    real_flip = etl.publish.point_partition

    def other_publish_wins_then_flip_fails(
        glue: Any, database: str, partition: Any, **kwargs: Any
    ) -> None:
        if partition.table == "tasks" and "run=mine" in partition.location:
            real_flip(glue, database, other_run)
            raise ConnectionError("injected")
        real_flip(glue, database, partition, **kwargs)

    monkeypatch.setattr(etl.publish, "point_partition", other_publish_wins_then_flip_fails)

    with pytest.raises(ConnectionError):
        publish_partitions(glue, database, _two_tables(day, "mine"))

    assert _locations(local_stack, day) == {
        "tag_daily_stats": other_run.location,
        "tasks": _two_tables(day, "old")[1].location,
    }


def test_row_counts_must_match_the_export() -> None:
    staged = [PartitionFolder("tasks", "2026-10-01", "s3://b/t/", [], 3)]

    check_row_counts(export_items=3, transformed_items=3, staged=staged)
    with pytest.raises(ValidationError, match="tasks has 3 rows"):
        check_row_counts(export_items=4, transformed_items=4, staged=staged)
    with pytest.raises(ValidationError, match="transform read 2"):
        check_row_counts(export_items=3, transformed_items=2, staged=staged)


def test_staged_files_must_match_the_catalog_columns_and_reported_rows(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    staged = _stage(local_stack, tmp_path / "ok", "run-ok")
    check_staged_files(s3, glue, local_stack.database, staged)

    overcounted = [
        PartitionFolder(p.table, p.snapshot_date, p.location, p.keys, p.rows + 1) for p in staged
    ]
    with pytest.raises(ValidationError, match="files hold 2"):
        check_staged_files(s3, glue, local_stack.database, overcounted)

    drifted_root = tmp_path / "drifted"
    files = _write_lake(drifted_root, 1, schema=pa.schema([("user_id", pa.string())]))
    drifted = stage_partitions(
        s3,
        glue,
        database=local_stack.database,
        out_root=drifted_root,
        files=files,
        rows=dict.fromkeys(TABLES, 1),
        snapshot_date=DAY,
        attempt_key="run-drifted",
    )
    with pytest.raises(ValidationError, match="the Glue table declares"):
        check_staged_files(s3, glue, local_stack.database, drifted)


@pytest.mark.parametrize(
    ("row_group_rows", "ranged_reads"), [(50_000, 1), (20, 2)], ids=["2-KB-footer", "2-MB-footer"]
)
def test_validation_reads_each_footer_with_ranged_reads_of_the_file_end(
    local_stack: LocalStack, tmp_path: Path, row_group_rows: int, ranged_reads: int
) -> None:
    s3, glue = local_stack.client("s3"), local_stack.client("glue")
    rows = 50_000
    relative = f"tasks/{partition_suffix(DAY)}part-00000.parquet"
    (tmp_path / relative).parent.mkdir(parents=True)
    ids = [f"{n:08x}{n * 2654435761 % 2**32:08x}" for n in range(rows)]
    table = pa.Table.from_pylist(
        [{"user_id": i, "task_id": i} for i in ids], schema=TABLES["tasks"]
    )
    pq.write_table(table, tmp_path / relative, row_group_size=row_group_rows)
    staged = stage_partitions(
        s3,
        glue,
        database=local_stack.database,
        out_root=tmp_path,
        files=[relative],
        rows={"tasks": rows},
        snapshot_date=DAY,
        attempt_key=f"footer-{row_group_rows}",
    )
    (key,) = staged[0].keys
    size = s3.head_object(Bucket=LAKE_BUCKET, Key=key)["ContentLength"]
    reads: list[tuple[str, int]] = []

    def record(http_response: Any, parsed: Any, **_: Any) -> None:
        reads.append((parsed.get("ContentRange", ""), int(parsed["ContentLength"])))

    s3.meta.events.register("after-call.s3.GetObject", record)
    check_staged_files(s3, glue, local_stack.database, staged)

    assert all(content_range.startswith("bytes ") for content_range, _ in reads)
    assert len(reads) == ranged_reads
    assert reads[0][1] == FOOTER_READ_BYTES
    assert sum(length for _, length in reads) < size / 2


def test_the_newest_published_day_is_read_from_the_catalog(local_stack: LocalStack) -> None:
    glue = local_stack.client("glue")
    database = "tasklake_newest_day_test"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "tasks",
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in ("year", "month", "day")],
        },
    )
    assert newest_published_day(glue, database, "tasks") is None

    for values in (["2026", "09", "30"], ["2026", "10", "02"], ["2026", "10", "01"]):
        glue.create_partition(
            DatabaseName=database, TableName="tasks", PartitionInput={"Values": values}
        )

    assert newest_published_day(glue, database, "tasks") == date(2026, 10, 2)


def test_repair_points_deleted_and_wrong_partitions_back_at_the_published_folders(
    local_stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, glue, database, day = (
        local_stack.client("s3"),
        local_stack.client("glue"),
        local_stack.database,
        date(2026, 10, 9),
    )
    published = _stage_day(local_stack, tmp_path, "run-live", day)
    publish_partitions(glue, database, published)
    write_pointers(s3, published)
    values = partition_values(day)
    for partition in published[:2]:
        glue.delete_partition(
            DatabaseName=database, TableName=partition.table, PartitionValues=values
        )
    point_partition(glue, database, replace(published[2], location="s3://elsewhere/"))

    assert main(["--database", database]) == 0

    for partition in published:
        assert published_partition(glue, database, partition.table, day) == replace(
            partition, rows=0
        )
    # The two deleted and the one pointing elsewhere; the others were right.
    assert capsys.readouterr().out.count(f" {day.isoformat()} ") == 3
    assert repair_catalog(s3, glue, database) == []


def test_repair_points_a_lost_lake_status_partition_back_at_its_published_row(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3, glue, database, day = (
        local_stack.client("s3"),
        local_stack.client("glue"),
        local_stack.database,
        date(2026, 10, 12),
    )
    staged = _stage_day(local_stack, tmp_path, "run-status", day)
    origin = ExportOrigin("duckdb", "scan", datetime(2026, 10, 13, 1, tzinfo=UTC))
    publish_day(
        s3,
        glue,
        database=database,
        bucket=staged[0].bucket,
        snapshot_date=day,
        staged=staged,
        origin=origin,
        owner="run-status",
    )
    live = published_partition(glue, database, "lake_status", day)
    assert live is not None
    glue.delete_partition(
        DatabaseName=database, TableName="lake_status", PartitionValues=partition_values(day)
    )

    assert main(["--database", database]) == 0

    assert published_partition(glue, database, "lake_status", day) == replace(live, rows=0)
