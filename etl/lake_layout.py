"""Where one run's data lives in the lake bucket: the naming rules every step agrees on.

Bronze keeps each run's raw export under its own prefix; published tables keep each run's files
under `run=<run key>/` inside the Hive partition folder, and the Glue partition points at exactly
one of them. Two different runs never write to the same key.
"""

import re
from datetime import date

BRONZE_ROOT = "bronze/dynamodb/tasks"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def run_key(run_id: str) -> str:
    """An Airflow run id spelled so it is safe in an S3 key and a Hive path (no `:` or `+`)."""
    return _UNSAFE.sub("-", run_id).strip("-")


def partition_values(snapshot_date: date) -> list[str]:
    """Values of the year/month/day partition keys, as the strings Glue declares them to be."""
    return [f"{snapshot_date:%Y}", f"{snapshot_date:%m}", f"{snapshot_date:%d}"]


def partition_suffix(snapshot_date: date) -> str:
    year, month, day = partition_values(snapshot_date)
    return f"year={year}/month={month}/day={day}/"


def bronze_run_prefix(snapshot_date: date, run_id: str) -> str:
    """Prefix of every export attempt of one run; each attempt adds `attempt=<n>/`."""
    return f"{BRONZE_ROOT}/snapshot_date={snapshot_date.isoformat()}/run={run_key(run_id)}/"


def bronze_attempt_prefix(snapshot_date: date, run_id: str, attempt: int) -> str:
    return f"{bronze_run_prefix(snapshot_date, run_id)}attempt={attempt}/"
