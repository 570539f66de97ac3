"""Every failed run of tasks_daily sends RunFailed once, whatever stopped it.

`report` sends the run's other metrics; RunFailed comes from the DAG's failure callback, which
the scheduler calls for any failed run: a task that failed, `report` itself, or a run stopped at
`dagrun_timeout` with its tasks killed. `dag.test` calls the callback as the scheduler does.
"""

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from airflow.models import DagBag

import etl.missing_partitions
from infra.local.airflow_local import logical_date_for
from tests.dags.local_stack import LocalStack, task_item

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_a_failed_report_task_still_reports_run_failed(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2026, 11, 18)
    stack.put_tasks(task_item("alice", "t1"))

    def unreachable(*_: Any) -> Any:
        raise ConnectionError("injected: Glue unreachable while reporting")

    monkeypatch.setattr(etl.missing_partitions, "missing_partitions", unreachable)
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    since = datetime.now(UTC).replace(microsecond=0)

    run = dag.test(logical_date=datetime.fromisoformat(logical_date_for(day)))

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert (run.state, states["publish"], states["report"]) == ("failed", "success", "failed")
    assert stack.etl_metric("RunFailed", since) == (1, 1)
    assert stack.etl_metric("RunSucceeded", since) == (0, 0)


def test_a_run_stopped_at_its_timeout_reports_run_failed(stack: LocalStack) -> None:
    """The scheduler kills a timed-out run's tasks, `report` included, and calls the DAG's
    failure callback with reason `timed_out` and no task instance (the DAG processor's
    context for a run-level failure: airflow/dag_processing/processor.py)."""
    dag = DagBag(dag_folder=str(DAGS)).dags["tasks_daily"]
    since = datetime.now(UTC).replace(microsecond=0)

    callback = dag.on_failure_callback
    assert callable(callback), "tasks_daily has no DAG-level failure callback"
    # Its own Dag value, so the other tests' RunFailed datapoints of this second are not counted.
    timed_out = SimpleNamespace(dag_id="tasks_daily_timed_out")
    # A stand-in Dag in the context: the callback reads only its dag_id.
    context = {"dag": timed_out, "run_id": "scheduled__2026-11-19T00:00:00", "reason": "timed_out"}
    callback(cast(Any, context))

    assert stack.etl_metric("RunFailed", since, Dag="tasks_daily_timed_out") == (1, 1)


def test_a_failed_task_reports_run_failed_once(stack: LocalStack) -> None:
    day = date(2026, 11, 19)
    stack.put_tasks(task_item("alice", "t1"))
    since = datetime.now(UTC).replace(microsecond=0)
    # Another test's failed run may have reported within the same second: count what this adds.
    before, before_sum = stack.etl_metric("RunFailed", since)

    result = stack.run_dag(day, AIRFLOW_VAR_TASKLAKE_EXPORT_MODE="firehose")

    assert result.returncode != 0
    after, after_sum = stack.etl_metric("RunFailed", since)
    assert (after - before, after_sum - before_sum) == (1, 1)
    # `report` still sent the run's other metrics.
    assert stack.etl_metric("RunDurationSeconds", since)[0] == 1
