"""lake_erasure: deleted accounts' rows leave every published partition of the lake, daily.

One task: find the user_ids the lake's published partitions hold that the newest `users`
partition does not (deleted accounts), and republish each day holding some without them, by
the daily run's atomic publish (etl/erasure.py). On doubtful evidence (no, an empty or a stale
`users` partition; too many accounts at once) it erases nothing, sends `ErasureBlocked` and
fails. Any failed run sends `ErasureFailed` (the DAG's failure callback), which alarms.

Its own DAG, not a task of tasks_daily: it is about the lake's state, not about one data
interval (each run covers every day, so catchup has nothing to catch); its refusal must not mark
a day's publish failed or hold up the next days; and it runs after the day's publish by the
clock, once `users` of the day before is published (`PUBLISH_SLA`). It waits for no other
run: the day lock (etl/publish_lock.py) keeps it and tasks_daily from flipping one day at once.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.sdk import CronTriggerTimetable, Variable, dag, get_current_context, task

DAG_ID = "lake_erasure"
SCHEDULE = "0 10 * * *"
"""10:00 UTC: the 8 h publish SLA after the day's end (etl/run_metrics.py) and two hours more.
Rows of an account deleted on day D leave the lake at D+1 10:00 UTC, or a day later when D's
publish was late: within `ERASURE_DELAY_DAYS` (etl/erasure.py)."""
ERASURE_TIMEOUT = timedelta(hours=2)
"""It reads the small per-user partitions of every day, and rewrites a handful of days."""
SETTINGS_DEFAULTS = {
    "lake_bucket": "tasklake-dev-lake",
    "glue_database": "tasklake_dev",
    "metrics_log": "",
    # The largest share of accounts one run may erase (etl/erasure.py MAX_ERASED_SHARE); raise
    # it for one run after checking the users partition, then delete the Variable again.
    "erasure_max_share": "0.05",
}


def setting(name: str) -> str:
    """A pipeline setting from the Airflow Variable `tasklake_<name>` (as in tasks_daily)."""
    value: str = Variable.get(f"tasklake_{name}", default=SETTINGS_DEFAULTS[name])
    return value


def _send_metrics(data: list[dict[str, Any]]) -> None:
    from etl.run_metrics import append_run_metrics, put_run_metrics

    put_run_metrics(AwsBaseHook(client_type="cloudwatch").get_conn(), data)
    if metrics_log := setting("metrics_log"):
        append_run_metrics(Path(metrics_log), data)


@task(retries=2, retry_delay=timedelta(minutes=5), execution_timeout=ERASURE_TIMEOUT)
def erase_deleted_accounts() -> dict[str, int]:
    """Republish the days that hold deleted accounts' rows without them; rows erased per table."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.erasure import ErasureBlockedError
    from etl.erasure import erase_deleted_accounts as erase
    from etl.run_metrics import erasure_blocked_data, erasure_metric_data

    context = get_current_context()
    with tempfile.TemporaryDirectory(prefix="lake_erasure-") as workdir:
        try:
            result = erase(
                S3Hook().get_conn(),
                GlueCatalogHook().get_conn(),
                database=setting("glue_database"),
                bucket=setting("lake_bucket"),
                workdir=Path(workdir),
                owner=context["run_id"],
                max_share=float(setting("erasure_max_share")),
            )
        except ErasureBlockedError as error:
            _send_metrics(erasure_blocked_data(DAG_ID))
            # The evidence does not change between tries: fail now, loudly.
            raise AirflowFailException(f"erasure refused, nothing erased: {error}") from error
    days = ", ".join(day.snapshot_date.isoformat() for day in result.days) or "none"
    print(f"erased {result.accounts} deleted accounts; days: {days}; rows: {result.rows_erased}")
    _send_metrics(erasure_metric_data(DAG_ID, result.rows_erased))
    return result.rows_erased


def report_failed_run(context: Any) -> None:
    """ErasureFailed for every failed run, whatever ended it (the alarm's metric)."""
    from etl.run_metrics import erasure_failed_data

    print(f"{DAG_ID} run {context.get('run_id')} failed: {context.get('reason', 'no reason')}")
    _send_metrics(erasure_failed_data(DAG_ID))


@dag(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable(SCHEDULE, timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=ERASURE_TIMEOUT + timedelta(hours=1),
    on_failure_callback=report_failed_run,
    is_paused_upon_creation=False,
    default_args={"owner": "data-platform"},
    tags=["tasklake", "data-lake"],
    doc_md=__doc__,
)
def lake_erasure() -> None:
    erase_deleted_accounts()


lake_erasure()
