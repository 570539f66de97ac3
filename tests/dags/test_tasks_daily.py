"""tasks_daily end to end on the local engines: DynamoDB Local -> moto S3 -> Parquet -> moto Glue.

Each test owns its snapshot dates, so the session's shared catalog never mixes their partitions.
"""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from airflow.models import DagBag
from airflow.providers.amazon.aws.operators.athena import AthenaOperator

import etl.athena_output
import etl.athena_transform
import etl.bronze
import etl.day_publish
import etl.publish
import etl.validation
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.publish import PartitionFolder, newest_published_day, point_partition
from etl.run_metrics import AthenaQuery
from etl.schemas import TABLES as LAKE_TABLES
from etl.transform import transform_export
from infra.local.airflow_local import logical_date_for
from tests.dags.local_stack import LAKE_BUCKET, LocalStack, task_item

DAGS = Path(__file__).resolve().parents[2] / "dags"
TABLES = tuple(LAKE_TABLES)
EARLIER_DAY = date(2026, 10, 31)


def _assert_succeeded(result: Any) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _metric_names(stack: LocalStack) -> set[str]:
    metrics = stack.client("cloudwatch").list_metrics(Namespace="Tasklake/ETL")["Metrics"]
    return {metric["MetricName"] for metric in metrics}


def test_run_publishes_every_table_for_its_day(stack: LocalStack) -> None:
    day = date(2026, 11, 2)
    stack.put_tasks(
        task_item("alice", "t1"),
        task_item("alice", "t2", status="done", completed_at="2026-11-01T10:00:00Z"),
        task_item("bob", "t3", tags=["work", "home"]),
    )

    _assert_succeeded(stack.run_dag(day))

    for table in TABLES:
        location = stack.location(table, day)
        assert "/year=2026/month=11/day=02/run=manual__" in location
    tasks = stack.read_published("tasks", day)
    assert sorted(tasks.column("task_id").to_pylist()) == ["t1", "t2", "t3"]
    users = stack.read_published("user_daily_stats", day)
    assert sorted(users.column("user_id").to_pylist()) == ["alice", "bob"]
    glue = stack.client("glue")
    for table in TABLES:
        newest = newest_published_day(glue, stack.database, table)
        assert newest is not None
        latest = glue.get_table(DatabaseName=stack.database, Name=f"{table}_latest")["Table"]
        assert latest["StorageDescriptor"]["Location"] == stack.location(table, newest)
    assert {"RunSucceeded", "RunDurationSeconds", "RowsWritten"} <= _metric_names(stack)


def test_rerunning_a_date_replaces_it_with_the_same_rows(stack: LocalStack) -> None:
    day = date(2026, 11, 3)
    stack.put_tasks(task_item("alice", "t1"), task_item("bob", "t2"))

    _assert_succeeded(stack.run_dag(day))
    first_location = stack.location("tasks", day)
    first_rows = stack.read_published("tasks", day).sort_by("task_id")
    _assert_succeeded(stack.run_dag(day))

    for table in TABLES:
        assert len(stack.partitions(table, day)) == 1
    assert stack.location("tasks", day) != first_location
    second_rows = stack.read_published("tasks", day).sort_by("task_id")
    assert second_rows.num_rows == 2
    assert second_rows.equals(first_rows)


def test_each_publish_writes_the_day_s_lake_status_row_with_its_tables(stack: LocalStack) -> None:
    """One row per day, in the same attempt folder (and flip) as the tables; a rerun replaces it.

    `rows_written` is a Parquet map, Glue `map<string,bigint>`, which Athena reads as its `map`
    type (https://docs.aws.amazon.com/athena/latest/ug/data-types.html); `element_at` returns
    null for a key a day lacks where `[]` fails (https://trino.io/docs/current/functions/map.html).
    """
    day = date(2026, 11, 18)
    stack.put_tasks(task_item("alice", "t1"), task_item("bob", "t2", tags=["work"]))
    started = datetime.now(UTC).replace(microsecond=0, tzinfo=None)

    _assert_succeeded(stack.run_dag(day))
    first = stack.read_published("lake_status", day).to_pylist()
    _assert_succeeded(stack.run_dag(day))

    assert len(stack.partitions("lake_status", day)) == 1
    (row,) = stack.read_published("lake_status", day).to_pylist()
    assert row["snapshot_date"] == day
    written = dict(row["rows_written"])
    assert written.keys() == set(TABLES)
    assert [written[table] for table in ("tasks", "user_daily_stats", "tag_daily_stats")] == [2] * 3
    # task_changes and users depend on what other tests left in the shared tables and catalog:
    # each must still equal what its published partition holds.
    for table in ("task_changes", "users"):
        assert written[table] == stack.read_published(table, day).num_rows, table
    assert (row["engine"], row["export_mode"]) == ("duckdb", "scan")
    # A scan reads the table when it runs: its time is the run's, after the day's end.
    assert started <= row["export_time"] <= row["published_at"]
    assert row["published_at"] > first[0]["published_at"]
    attempt = stack.location("tasks", day).rsplit("/run=", 1)[1]
    assert stack.location("lake_status", day).endswith(f"/run={attempt}")


def test_deleted_task_is_gone_from_the_next_snapshot(stack: LocalStack) -> None:
    stack.put_tasks(task_item("alice", "t1"), task_item("alice", "t2"))
    _assert_succeeded(stack.run_dag(date(2026, 11, 4)))

    stack.tasks.delete_item(Key={"user_id": "alice", "task_id": "t2"})
    _assert_succeeded(stack.run_dag(date(2026, 11, 5)))

    assert stack.read_published("tasks", date(2026, 11, 4)).column("task_id").to_pylist() == [
        "t1",
        "t2",
    ]
    assert stack.read_published("tasks", date(2026, 11, 5)).column("task_id").to_pylist() == ["t1"]


def test_a_new_task_attribute_does_not_break_the_run(stack: LocalStack) -> None:
    day = date(2026, 11, 6)
    stack.put_tasks(
        task_item("alice", "t1"),
        task_item("alice", "t2", estimate_minutes=30, checklist={"steps": ["a", "b"]}),
    )

    _assert_succeeded(stack.run_dag(day))

    tasks = stack.read_published("tasks", day)
    assert sorted(tasks.column("task_id").to_pylist()) == ["t1", "t2"]
    assert "estimate_minutes" not in tasks.column_names
    assert "checklist" not in tasks.column_names


def test_a_failed_run_publishes_nothing_and_reports_run_failed(stack: LocalStack) -> None:
    day = date(2026, 11, 7)
    # Some earlier day is published whichever tests ran before, so freshness has a value.
    earlier = f"s3://{LAKE_BUCKET}/tasks/year=2026/month=10/day=31/run=earlier/"
    earlier_partition = PartitionFolder("tasks", EARLIER_DAY.isoformat(), earlier, [], 0)
    point_partition(stack.client("glue"), stack.database, earlier_partition)
    stack.put_tasks(task_item("alice", "t1"))
    since = datetime.now(UTC).replace(microsecond=0)

    result = stack.run_dag(day, AIRFLOW_VAR_TASKLAKE_EXPORT_MODE="firehose")

    assert result.returncode != 0
    assert "state=failed" in result.stdout + result.stderr
    for table in TABLES:
        assert stack.partitions(table, day) == []
    assert stack.etl_metric("RunFailed", since) == (1, 1)
    assert stack.etl_metric("RunSucceeded", since) == (0, 0)
    assert stack.etl_metric("RowsWritten", since, Table="tasks") == (0, 0)
    assert stack.etl_metric("PartitionsPublished", since) == (0, 0)
    newest = newest_published_day(stack.client("glue"), stack.database, "tasks")
    assert newest is not None
    assert newest >= EARLIER_DAY
    end_of_newest = datetime.combine(newest + timedelta(days=1), time(), tzinfo=UTC)
    count, freshness = stack.etl_metric("DataFreshnessSeconds", since)
    assert count == 1
    assert freshness >= (since - end_of_newest).total_seconds()


def test_failure_mid_publish_heals_on_retry_with_nothing_partial_visible(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second table's flip fails once; readers keep the previous run until the retry."""
    day = date(2026, 11, 8)
    stack.put_tasks(task_item("alice", "t1"))
    _assert_succeeded(stack.run_dag(day))
    before = {table: stack.location(table, day) for table in TABLES}
    stack.put_tasks(task_item("bob", "t2"))

    point_partition, publish_partitions = (
        etl.publish.point_partition,
        etl.publish.publish_partitions,
    )
    visible_when_publish_started: list[dict[str, str]] = []
    failed: list[str] = []

    def flaky_point_partition(glue: Any, database: str, partition: Any, **kwargs: Any) -> None:
        if partition.table == "user_daily_stats" and not failed:
            failed.append(partition.table)
            raise ConnectionError("injected: Glue unreachable")
        point_partition(glue, database, partition, **kwargs)

    def observed_publish_partitions(glue: Any, database: str, partitions: Any) -> Any:
        visible_when_publish_started.append({table: stack.location(table, day) for table in TABLES})
        return publish_partitions(glue, database, partitions)

    monkeypatch.setattr(etl.publish, "point_partition", flaky_point_partition)
    monkeypatch.setattr(etl.day_publish, "publish_partitions", observed_publish_partitions)
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]

    run = dag.test(logical_date=datetime.fromisoformat(logical_date_for(day)))

    assert run.state == "success"
    assert failed == ["user_daily_stats"]
    # The attempt that failed half-way flipped one table, then put it back before failing.
    assert visible_when_publish_started == [before, before]
    after = {table: stack.location(table, day) for table in TABLES}
    assert all(after[table] != before[table] for table in TABLES)
    assert len({location.rsplit("/run=", 1)[1] for location in after.values()}) == 1
    assert sorted(stack.read_published("tasks", day).column("task_id").to_pylist()) == [
        "t1",
        "t2",
    ]


def _forget_bronze(stack: LocalStack, day: date) -> None:
    """Drop the day's exports: `dag.test` restarts try numbers, so a rerun's scan export would
    land in the first run's `attempt=1/` folder beside its files (a scheduler's clear gives the
    rerun attempt 2; a native export there fails on two manifests)."""
    s3 = stack.client("s3")
    prefix = f"bronze/dynamodb/tasks/snapshot_date={day.isoformat()}/"
    for key in stack.objects(f"s3://{LAKE_BUCKET}/{prefix}"):
        s3.delete_object(Bucket=LAKE_BUCKET, Key=key)


def test_rerun_under_the_same_run_id_leaves_readers_on_the_old_data_until_it_validates(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clear + rerun keeps the run id; a reader holding the published partition must not notice.

    `dag.test` clears the date's task instances and recreates the run; with a fixed `run_after`
    it reuses the run id, and even the try number restarts at 1.
    """
    day = date(2026, 11, 10)
    logical_date = datetime.fromisoformat(logical_date_for(day))
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    stack.put_tasks(task_item("alice", "t1"))
    first_run_id = dag.test(logical_date=logical_date, run_after=logical_date).run_id
    # A reader plans a query: it knows the locations and the objects it is going to read.
    held = {table: stack.location(table, day) for table in TABLES}
    held_objects = {table: stack.objects(location) for table, location in held.items()}
    stack.put_tasks(task_item("bob", "t2"))
    _forget_bronze(stack, day)

    seen_when_validating: list[tuple[dict[str, str], list[str]]] = []

    def failing_check(s3: Any, glue: Any, database: str, staged: list[Any]) -> None:
        visible = {table: stack.location(table, day) for table in TABLES}
        seen_when_validating.append((visible, [partition.location for partition in staged]))
        raise etl.validation.ValidationError("injected: staged files do not match")

    monkeypatch.setattr(etl.validation, "check_staged_files", failing_check)
    failed = dag.test(logical_date=logical_date, run_after=logical_date)

    assert (failed.run_id, failed.state) == (first_run_id, "failed")
    # A mismatch is deterministic: validate fails on its first try, without spending retries.
    assert len(seen_when_validating) == 1, "validate retried a ValidationError"
    for visible, staged_at in seen_when_validating:
        assert visible == held
        assert not set(staged_at) & set(held.values())
    assert {table: stack.location(table, day) for table in TABLES} == held
    assert {table: stack.objects(location) for table, location in held.items()} == held_objects
    assert stack.read_published("tasks", day).column("task_id").to_pylist() == ["t1"]
    # The failed attempt's folders are tagged for expiry; the live ones are not.
    s3 = stack.client("s3")
    (_, failed_folders), *_ = seen_when_validating
    for folder in failed_folders:
        for key in stack.objects(folder):
            tags = s3.get_object_tagging(Bucket=LAKE_BUCKET, Key=key)["TagSet"]
            assert tags == [{"Key": "tasklake:lake-state", "Value": "superseded"}], key
    for objects in held_objects.values():
        for key in objects:
            assert s3.get_object_tagging(Bucket=LAKE_BUCKET, Key=key)["TagSet"] == [], key

    monkeypatch.undo()
    _forget_bronze(stack, day)
    healed = dag.test(logical_date=logical_date, run_after=logical_date)

    assert (healed.run_id, healed.state) == (first_run_id, "success")
    assert all(stack.location(table, day) != held[table] for table in TABLES)
    assert sorted(stack.read_published("tasks", day).column("task_id").to_pylist()) == ["t1", "t2"]
    # The reader that planned against the old folders can still finish: nothing was rewritten.
    assert {table: stack.objects(location) for table, location in held.items()} == held_objects
    for objects in held_objects.values():
        for key in objects:
            tags = s3.get_object_tagging(Bucket=LAKE_BUCKET, Key=key)["TagSet"]
            assert tags == [{"Key": "tasklake:lake-state", "Value": "superseded"}]


def test_a_big_export_goes_to_athena_with_statements_for_this_attempt(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`auto` sends an export above the threshold to the Athena path, planned for this attempt.

    moto cannot execute Athena queries, so the Athena tasks and everything after them are marked
    successful without running: this checks the branch on a stubbed item count and the statements
    planned for the operators, not Athena (the SQL itself is proven on DuckDB in tests/etl).
    """
    day = date(2026, 11, 11)
    stack.put_tasks(task_item("alice", "t1"))
    monkeypatch.setattr(etl.bronze, "export_item_count", lambda *_: 10_000_001)
    planned: list[dict[str, Any]] = []
    attempt_statements = etl.athena_transform.attempt_statements

    def observed_attempt_statements(*args: Any, **kwargs: Any) -> dict[str, Any]:
        planned.append(attempt_statements(*args, **kwargs))
        return planned[-1]

    monkeypatch.setattr(etl.athena_transform, "attempt_statements", observed_attempt_statements)
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]

    run = dag.test(
        logical_date=datetime.fromisoformat(logical_date_for(day)),
        mark_success_pattern=r"^(athena_.*|stage_athena_output|drop_athena_tables|validate|"
        r"publish|report)$",
    )

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["plan_athena"] == "success"
    assert states["transform"] == "skipped"
    (statements,) = planned
    bronze = f"s3://{LAKE_BUCKET}/bronze/dynamodb/tasks/snapshot_date=2026-11-11/"
    assert re.search(rf"LOCATION '{bronze}run=[^/]+/attempt=1/data/'", statements["create_bronze"])
    users_bronze = f"s3://{LAKE_BUCKET}/bronze/dynamodb/users/snapshot_date=2026-11-11/"
    assert re.search(
        rf"LOCATION '{users_bronze}run=[^/]+/attempt=1/data/'", statements["create_users_bronze"]
    )
    for table in TABLES:
        match = re.search(r"external_location = '([^']+)'", statements[table])
        assert match is not None
        assert "/year=2026/month=11/day=11/run=" in match.group(1)
    assert len(statements["drops"]) == len(TABLES) + 2
    for table in TABLES:
        assert stack.partitions(table, day) == []


def test_the_engine_setting_forces_the_worker_for_a_big_export(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 11, 12)
    stack.put_tasks(task_item("alice", "t1"))
    monkeypatch.setattr(etl.bronze, "export_item_count", lambda *_: 10_000_001)
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_TRANSFORM_ENGINE", "duckdb")
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]

    run = dag.test(
        logical_date=datetime.fromisoformat(logical_date_for(day)),
        mark_success_pattern=r"^(transform|validate|publish|report)$",
    )

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["plan_athena"] == "skipped"
    assert states["drop_athena_tables"] == "skipped"


def test_an_athena_run_publishes_and_reports_its_query_ids_and_bytes_scanned(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Athena engine end to end on moto, then its report read back from moto's CloudWatch.

    moto's Athena records each query and answers SUCCEEDED, but executes none and reports 0 bytes
    scanned. So two things are stood in for: the CTAS output, by the pyarrow transform's files of
    the same export put where each CTAS writes (the two are proven equal in tests/etl), and each
    query's `DataScannedInBytes`. The queries are waited for in the task instead of the
    triggerer, which would need aiobotocore. Everything else is the DAG's own code.
    """
    day = date(2026, 11, 13)
    stack.put_tasks(
        task_item("alice", "t1"),
        task_item("alice", "t2", status="done", completed_at="2026-11-13T10:00:00Z"),
        task_item("bob", "t3", tags=["work", "home"]),
    )
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_TRANSFORM_ENGINE", "athena")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", stack.env["AWS_ENDPOINT_URL_S3"])
    monkeypatch.setenv("AIRFLOW_VAR_TASKLAKE_ATHENA_WORKGROUP", "tasklake-test")
    athena = stack.client("athena")
    if "tasklake-test" not in {group["Name"] for group in athena.list_work_groups()["WorkGroups"]}:
        athena.create_work_group(
            Name="tasklake-test",
            Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/tasklake/"}},
        )
    staged_ctas_partitions = etl.athena_output.staged_ctas_partitions
    query_statistics = etl.athena_output.query_statistics
    scanned: dict[str, int] = {}

    def downloaded(s3: Any, source: str, snapshot: date) -> list[Path]:
        bronze = f"bronze/dynamodb/{source}/snapshot_date={snapshot.isoformat()}/"
        keys = stack.objects(f"s3://{LAKE_BUCKET}/{bronze}")
        files = []
        for n, key in enumerate(sorted(keys)):
            path = tmp_path / source / f"{n:05d}.json.gz"
            path.parent.mkdir(exist_ok=True)
            s3.download_file(LAKE_BUCKET, key, str(path))
            files.append(path)
        return files

    def ctas_output_then_staged(s3: Any, locations: dict[str, str], snapshot: date) -> Any:
        transform_export(
            downloaded(s3, "tasks", snapshot),
            tmp_path / "lake",
            snapshot,
            users_files=downloaded(s3, "users", snapshot),
        )
        for table, location in locations.items():
            parsed = urlparse(location)
            written = tmp_path / "lake" / partition_path(table, snapshot) / PARQUET_FILE_NAME
            s3.upload_file(str(written), parsed.netloc, parsed.path.lstrip("/") + "20261113_0")
        return staged_ctas_partitions(s3, locations, snapshot)

    def with_bytes_scanned(athena: Any, query_ids: list[str]) -> list[AthenaQuery]:
        statistics = query_statistics(athena, query_ids)
        for n, query in enumerate(statistics):
            scanned[query.query_id] = n * 1_000_003
        return [replace(query, bytes_scanned=scanned[query.query_id]) for query in statistics]

    monkeypatch.setattr(etl.athena_output, "staged_ctas_partitions", ctas_output_then_staged)
    monkeypatch.setattr(etl.athena_output, "query_statistics", with_bytes_scanned)
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    for task in dag.tasks:
        if isinstance(task, AthenaOperator):
            task.deferrable, task.sleep_time = False, 0
    since = datetime.now(UTC).replace(microsecond=0)

    run = dag.test(logical_date=datetime.fromisoformat(logical_date_for(day)))

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert states["transform"] == "skipped"
    assert sorted(stack.read_published("tasks", day).column("task_id").to_pylist()) == [
        "t1",
        "t2",
        "t3",
    ]
    query_ids = {
        ti.task_id: ti.xcom_pull(task_ids=ti.task_id)
        for ti in run.get_task_instances()
        if ti.task_id.startswith("athena_")
    }
    assert sorted(query_ids.values()) == sorted(scanned)
    assert stack.etl_metric("AthenaBytesScanned", since) == (1, sum(scanned.values()))
    assert stack.etl_metric("RunSucceeded", since) == (1, 1)
    (status,) = stack.read_published("lake_status", day).to_pylist()
    assert status["engine"] == "athena"
    assert dict(status["rows_written"])["tasks"] == 3
