"""Where one run's data lives in the lake bucket: the naming rules every step agrees on.

Bronze keeps each run's raw export under its own prefix, one `attempt=<n>/` folder per try of
the export task (an export try). Published tables keep each attempt's files under
`run=<attempt key>/` inside the Hive partition folder, and the Glue partition points at exactly
one of them; an attempt is one try of the transform, named by `new_attempt_key`. Two attempts
never write to the same key, even two of the same run id.
"""

import re
import secrets
from datetime import date

BRONZE_ROOT = "bronze/dynamodb/tasks"
"""The tasks table's exports; the users table's are beside them (`bronze_root("users")`)."""
BRONZE_RETENTION_DAYS = 400
"""How long a day's raw export is kept (infra/analytics.yaml, `expire-bronze`): a day is
rebuildable from it for 13 months, long after DynamoDB's 35-day window has passed it."""
POINTER_FOLDER = "_published/"
POINTER_NAME = "pointer.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_data_file(name: str) -> bool:
    """Whether a file in a partition folder is table data, as Athena and Hive decide it.

    Both skip names starting with `_` or `.` (markers, pointers, our mirror's source note) and
    read every other file whatever its suffix: Athena's CTAS writes files with no `.parquet`.
    """
    return not name.startswith(("_", "."))


def run_key(run_id: str) -> str:
    """An Airflow run id spelled so it is safe in an S3 key and a Hive path (no `:` or `+`)."""
    return _UNSAFE.sub("-", run_id).strip("-")


def new_attempt_key(run_id: str, try_number: int) -> str:
    """A staging folder name no other attempt has, and so no published partition points at.

    The run id and try number say where the files came from; they are not unique on their own:
    clearing a run keeps its run id, and `airflow dags test` recreates a run with the same id and
    try 1. The random suffix makes every attempt's folder new.
    """
    return f"{run_key(run_id)}.try{try_number}.{secrets.token_hex(4)}"


def partition_values(snapshot_date: date) -> list[str]:
    """Values of the year/month/day partition keys, as the strings Glue declares them to be."""
    return [f"{snapshot_date:%Y}", f"{snapshot_date:%m}", f"{snapshot_date:%d}"]


def partition_suffix(snapshot_date: date) -> str:
    year, month, day = partition_values(snapshot_date)
    return f"year={year}/month={month}/day={day}/"


def pointer_key(table_prefix: str, snapshot_date: date) -> str:
    """The object naming a partition's published folder: beside the data, outside every partition.

    `table_prefix` is the table location's key prefix (`silver/tasks/`). Athena reads only the
    folders partitions name, and skips names starting with `_`, so the pointer is never data.
    """
    return f"{table_prefix}{POINTER_FOLDER}{partition_suffix(snapshot_date)}{POINTER_NAME}"


def bronze_root(source: str = "tasks") -> str:
    """Where the exports of the DynamoDB table `source` (`tasks`, `users`) are kept."""
    return BRONZE_ROOT if source == "tasks" else f"bronze/dynamodb/{source}"


def bronze_run_prefix(snapshot_date: date, run_id: str, source: str = "tasks") -> str:
    """Prefix of every export try of one run; each try adds `attempt=<n>/`."""
    return f"{bronze_day_prefix(snapshot_date, source)}run={run_key(run_id)}/"


def bronze_day_prefix(snapshot_date: date, source: str = "tasks") -> str:
    """Prefix of every run's exports of one day."""
    return f"{bronze_root(source)}/snapshot_date={snapshot_date.isoformat()}/"


def run_key_of_attempt(attempt_key: str) -> str:
    """The run key a `new_attempt_key` was made from: which run's bronze a folder came from."""
    return attempt_key.rsplit(".try", 1)[0]


def bronze_export_try_prefix(
    snapshot_date: date, run_id: str, try_number: int, source: str = "tasks"
) -> str:
    """Where one try of the export task writes: `attempt=<try number>/` (the folder's name
    predates the word "attempt" naming a transform's staging folder, `new_attempt_key`)."""
    return f"{bronze_run_prefix(snapshot_date, run_id, source)}attempt={try_number}/"
