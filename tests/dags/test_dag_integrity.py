"""The DAG file loads cleanly, cheaply, and says what the pipeline does."""

import asyncio
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pendulum
import pytest
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import sync_bag_to_db
from airflow.models import DagBag, DagModel
from airflow.providers.amazon.aws.hooks.athena import AthenaHook
from airflow.serialization.encoders import coerce_to_core_timetable
from airflow.utils.dag_cycle_tester import check_cycle

from etl.schemas import TABLES as LAKE_TABLES
from infra.local.airflow_local import logical_date_for

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag_bag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def dag(dag_bag: DagBag):  # type: ignore[no-untyped-def]
    return dag_bag.dags["tasks_daily"]


def test_dags_folder_imports_without_errors(dag_bag: DagBag) -> None:
    assert dag_bag.import_errors == {}
    assert set(dag_bag.dag_ids) == {"tasks_daily", "lake_erasure"}


ATHENA_TASKS = (
    "athena_create_bronze",
    "athena_create_users_bronze",
    *(f"athena_{table}" for table in LAKE_TABLES),
)


def test_report_reads_the_query_id_of_every_athena_query_task(dag) -> None:  # type: ignore[no-untyped-def]
    """`report` sums bytes scanned over the XComs of ATHENA_QUERY_TASKS: exactly the queries."""
    dag_module = sys.modules[dag.get_task("report").python_callable.__module__]

    assert dag_module.ATHENA_QUERY_TASKS == ATHENA_TASKS
    assert {task.task_id for task in dag.tasks if task.task_type == "AthenaOperator"} == set(
        ATHENA_TASKS
    )


def test_pipeline_runs_export_transform_validate_publish_report_without_cycles(dag) -> None:  # type: ignore[no-untyped-def]
    check_cycle(dag)
    upstream = {task.task_id: set(task.upstream_task_ids) for task in dag.tasks}
    ctas = {f"athena_{table}" for table in LAKE_TABLES}
    gold = ctas - {"athena_tasks"}
    assert upstream == {
        "heal_missing_days": set(),
        "choose_export_mode": {"heal_missing_days"},
        "wait_until_exportable": {"choose_export_mode"},
        "export_native": {"wait_until_exportable"},
        "wait_for_export": {"export_native"},
        "export_scan": {"choose_export_mode"},
        # The users table after the tasks table: see EXPORTED_TABLES.
        "export_users_scan": {"export_scan"},
        "choose_transform_engine": {"choose_export_mode", "wait_for_export", "export_users_scan"},
        "transform": {"choose_transform_engine"},
        "plan_athena": {"choose_transform_engine"},
        "athena_create_bronze": {"plan_athena"},
        "athena_create_users_bronze": {"plan_athena", "athena_create_bronze"},
        "athena_tasks": {"plan_athena", "athena_create_users_bronze"},
        # Gold from silver: the gold CTAS (and users) read the table the tasks CTAS made.
        **{task_id: {"plan_athena", "athena_tasks"} for task_id in gold},
        "stage_athena_output": {"plan_athena", *gold},
        "drop_athena_tables": {
            "plan_athena",
            "athena_create_bronze",
            "athena_create_users_bronze",
            *ctas,
        },
        "validate": {"transform", "stage_athena_output"},
        "publish": {"validate"},
        "report": {"publish"},
        "tag_unpublished": {"publish"},
        "sweep_orphans": {"publish"},
    }
    assert dag.get_task("report").trigger_rule == "all_done"
    # The run's own day goes ahead whatever became of the earlier days it tried to heal.
    assert dag.get_task("choose_export_mode").trigger_rule == "all_done"


def test_engines_join_at_validate_whichever_one_ran(dag) -> None:  # type: ignore[no-untyped-def]
    """The branch skips the other engine's first task; validate runs after either."""
    assert dag.get_task("choose_transform_engine").downstream_task_ids == {
        "transform",
        "plan_athena",
    }
    assert dag.get_task("validate").trigger_rule == "none_failed_min_one_success"


def test_athena_queries_wait_in_the_triggerer_in_the_stage_workgroup(dag) -> None:  # type: ignore[no-untyped-def]
    for task_id in ATHENA_TASKS:
        operator = dag.get_task(task_id)
        assert operator.deferrable, task_id
        assert operator.workgroup == "{{ setting('athena_workgroup') }}", task_id
        assert operator.output_location is None, task_id  # the workgroup's


def test_the_triggerer_can_open_the_async_athena_client(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A deferred Athena wait polls through aiobotocore, which the provider installs only with
    its `aiobotocore` extra: dags/requirements.txt must ask for it, or MWAA's triggerer fails at
    the first wait. No request is sent; building the client is the part that needs the library."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    hook = AthenaHook(aws_conn_id=None, region_name="us-east-1")

    async def service_name() -> str:
        async with await hook.get_async_conn() as client:  # type: ignore[no-untyped-call]
            return str(client.meta.service_model.service_name)

    assert asyncio.run(service_name()) == "athena"


def test_athena_tables_are_dropped_even_when_a_query_fails(dag) -> None:  # type: ignore[no-untyped-def]
    drop = dag.get_task("drop_athena_tables")

    assert drop.is_teardown
    assert drop.trigger_rule == "all_done_setup_success"
    assert dag.get_task("athena_create_bronze").is_setup


def test_native_export_waits_without_holding_a_worker(dag) -> None:  # type: ignore[no-untyped-def]
    """DynamoDB's restore lag and the export itself are waited out in reschedule mode."""
    for task_id in ("wait_until_exportable", "wait_for_export"):
        sensor = dag.get_task(task_id)
        assert sensor.mode == "reschedule", task_id
        assert sensor.timeout <= 3 * 3600, task_id


def test_every_task_retries_with_exponential_backoff(dag) -> None:  # type: ignore[no-untyped-def]
    """Except the Athena queries: a CTAS retried would write into the folder it half wrote.

    Clearing `plan_athena` is their retry: a new attempt key, new tables and folders.
    """
    for task_id in ATHENA_TASKS:
        assert dag.get_task(task_id).retries == 0, task_id
    for task in (task for task in dag.tasks if task.task_id not in ATHENA_TASKS):
        assert task.retries >= 1, task.task_id
        assert float(task.retry_exponential_backoff) >= 2.0, task.task_id
        assert task.max_retry_delay is not None, task.task_id


def test_publish_runs_one_instance_at_a_time_across_runs(dag) -> None:  # type: ignore[no-untyped-def]
    assert dag.get_task("publish").max_active_tis_per_dag == 1


def test_one_transform_at_a_time_so_a_catchup_fits_one_worker(dag) -> None:  # type: ignore[no-untyped-def]
    """Runs may overlap (an export wait beside a transform), their transforms may not."""
    assert dag.get_task("transform").max_active_tis_per_dag == 1
    assert dag.get_task("heal_missing_days").max_active_tis_per_dag == 1
    assert 1 <= dag.max_active_runs <= 2


def test_catchup_reaches_back_to_the_day_after_the_last_run_however_long_ago(dag) -> None:  # type: ignore[no-untyped-def]
    """After an outage the scheduler creates every missed day's run; days DynamoDB can no longer
    export then skip at once (test_native_export_runs.py)."""
    timetable = coerce_to_core_timetable(dag.timetable)
    outage_start = pendulum.datetime(2026, 11, 3, tz="UTC")
    restriction = type(
        "Restriction", (), {"earliest": dag.start_date, "latest": None, "catchup": dag.catchup}
    )()

    first = timetable.next_dagrun_info(
        last_automated_data_interval=type(
            "Interval", (), {"start": outage_start.subtract(days=1), "end": outage_start}
        )(),
        restriction=restriction,
    )

    assert dag.catchup is True
    assert first is not None
    assert first.data_interval.start.date() == date(2026, 11, 3)


def test_the_dag_has_a_static_start_date(dag) -> None:  # type: ignore[no-untyped-def]
    """A start computed from today moves every parse, which Airflow's docs warn against."""
    reparsed = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]

    assert dag.start_date == reparsed.start_date == pendulum.datetime(2026, 11, 1, tz="UTC")


def test_every_task_and_the_run_have_a_time_limit(dag) -> None:  # type: ignore[no-untyped-def]
    """A hung call fails its task (and retries) instead of holding a worker slot for ever."""
    for task in dag.tasks:
        assert task.execution_timeout is not None, task.task_id
    longest_path = (
        dag.get_task("heal_missing_days").execution_timeout.total_seconds()
        + dag.get_task("wait_until_exportable").timeout
        + dag.get_task("wait_for_export").timeout
        + dag.get_task("transform").execution_timeout.total_seconds()
    )
    assert dag.dagrun_timeout.total_seconds() > longest_path


def test_the_athena_wait_in_the_triggerer_ends_with_the_task_timeout(dag) -> None:  # type: ignore[no-untyped-def]
    for task_id in ATHENA_TASKS:
        operator = dag.get_task(task_id)
        waited = operator.max_polling_attempts * operator.sleep_time
        assert 0 < waited <= operator.execution_timeout.total_seconds(), task_id


def test_the_dag_is_created_unpaused(local_stack) -> None:  # type: ignore[no-untyped-def]
    """Recorded as the DAG processor records a DAG it sees for the first time: on MWAA, nobody
    has to unpause it. Under a fresh id, as other tests' runs already created `tasks_daily`."""
    bag = DagBag(dag_folder=str(DAGS))
    new_id = f"tasks_daily_{uuid.uuid4().hex[:8]}"
    bag.dags = {new_id: bag.dags["tasks_daily"]}
    bag.dags[new_id].dag_id = new_id
    DagBundlesManager().sync_bundles_to_db()  # type: ignore[no-untyped-call]
    sync_bag_to_db(bag, "dags-folder", None)

    created = DagModel.get_dagmodel(new_id)
    assert created is not None
    assert created.is_paused is False


@pytest.mark.parametrize("snapshot_date", [date(2026, 11, 25), date(2024, 2, 29)])
def test_each_run_owns_exactly_one_utc_day(dag, snapshot_date: date) -> None:  # type: ignore[no-untyped-def]
    start = pendulum.datetime(snapshot_date.year, snapshot_date.month, snapshot_date.day, tz="UTC")

    # The scheduler works on the core form of the DAG's timetable, as serialized from the file.
    timetable = coerce_to_core_timetable(dag.timetable)

    manual = timetable.infer_manual_data_interval(
        run_after=pendulum.parse(logical_date_for(snapshot_date))
    )
    scheduled = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=type("Restriction", (), {"earliest": start, "latest": None, "catchup": True})(),
    )

    assert (manual.start, manual.end) == (start, start.add(days=1))
    assert scheduled is not None
    assert (scheduled.data_interval.start, scheduled.data_interval.end) == (
        start,
        start.add(days=1),
    )


def test_parsing_the_dag_file_is_cheap_and_makes_no_aws_client() -> None:
    """Parse it the way the DAG processor does, with AWS clients forbidden, and time it."""
    probe = f"""
import runpy, sys, time
import airflow.sdk, airflow.providers.amazon.aws.transfers.dynamodb_to_s3  # warm, as in Airflow
import botocore.session
def forbidden(*args, **kwargs):
    raise AssertionError("AWS client created while parsing the DAG file")
botocore.session.Session.create_client = forbidden
started = time.perf_counter()
runpy.run_path({str(DAGS / "tasks_daily.py")!r})
print(time.perf_counter() - started, "pyarrow" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    seconds, imported_pyarrow = result.stdout.split()[-2:]
    assert float(seconds) < 1.0
    assert imported_pyarrow == "False"


def test_each_athena_query_is_the_statement_planned_for_it(dag) -> None:  # type: ignore[no-untyped-def]
    keys = {"athena_create_bronze": "create_bronze"} | {
        f"athena_{table}": table for table in LAKE_TABLES
    }
    for task_id, key in keys.items():
        query = dag.get_task(task_id).query
        assert (query.operator.task_id, query.key) == ("plan_athena", key), task_id
