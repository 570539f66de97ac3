"""Erasure: a deleted account's rows leave every published partition of the lake.

An account is deleted when a `user_id` appears in a published partition but not in the newest
published `users` partition (one row per account that existed at the snapshot). The job finds
the days that hold such ids and republishes each of them without those rows, by the daily run's
own publish (etl/publish.py): new folders, validated, then one Glue flip per table under the
day's lock, `<table>_latest` and the pointers following, the replaced folders tagged `erased`
for the lifecycle to delete within days (infra/analytics.yaml, `expire-erased-runs`).

What each table needs:
- tables with a `user_id` column (`tasks`, `user_daily_stats`, `users`, `task_changes`, …): the
  deleted ids' rows filtered out; the small ones are read whole to find them, `tasks` (the one
  large table) through `user_daily_stats` of the same day, which has a row for exactly the
  users with a task in it (gold is computed from that silver in the same run);
- gold computed from `tasks` (`RECOMPUTED_FROM_TASKS`) is recomputed by its etl/sql/ statement
  from the rewritten tasks: `tag_daily_stats` has no user_id, but its tags are text users typed
  (a tag only the deleted account used would stay, with `users = 1`) and its counts would no
  longer be those of the silver rows beside it.

The two snapshots must be of one moment, or taken tasks first (scan mode exports `tasks` before
`users`): an account created between them is then in `users` and never looks deleted, while one
deleted between them is deleted. It never erases on doubtful evidence: no `users` partition, an
empty one, one older than the newest `tasks` partition, or more than `max_share` of the accounts
to erase at once stop it with `ErasureBlockedError` before anything changes. Rerunning is safe:
a day with nothing to erase is left alone, so a second run finds nothing and publishes nothing.
"""

import logging
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from etl.engines import duckdb as engine
from etl.lake_layout import new_attempt_key, run_key_of_attempt
from etl.lake_status import LAKE_STATUS_TABLE, ExportOrigin, stage_status, status_row
from etl.latest_snapshot import LATEST_OF, point_latest_tables
from etl.partition_download import download_data_files
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.publish import (
    PartitionFolder,
    newest_published_day,
    publish_partitions,
    published_days,
    published_partition,
    stage_partitions,
    tag_superseded,
    write_pointers,
)
from etl.publish_lock import day_lock
from etl.schemas import TABLES
from etl.tag_slices import copy_table
from etl.validation import ITEM_TABLE, check_staged_files

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any

log = logging.getLogger(__name__)

USERS_TABLE = "users"
TASKS_INDEX = "user_daily_stats"
"""Has a row for exactly the users with a task in `tasks` of the same day."""
RECOMPUTED_FROM_TASKS = ("user_daily_stats", "tag_daily_stats")
"""Gold computed from the silver `tasks` by etl/sql/, recomputed from the rewritten tasks."""
MAX_ERASED_SHARE = 0.05
"""Of the accounts seen (still live plus to erase), the most one run erases: more means the
`users` snapshot is wrong (a partial export), not that 5 % of accounts left since the last run."""
ERASED_TAG = ("tasklake:lake-state", "erased")
"""Expired within days by the lake bucket's `expire-erased-runs` rule (infra/analytics.yaml)."""
ERASED_FOLDER_DAYS = 1
"""That rule's expiration, and its noncurrent versions' (the bucket is versioned)."""
ERASURE_DELAY_DAYS = 2
"""Rows of an account deleted on day D leave every published partition by D+2: the `users`
partition of D is published by D+1 08:00 UTC (the publish SLA), `lake_erasure` runs at 10:00,
and a day later if that publish was late (docs/analysts.md, Retention and erasure)."""


class ErasureBlockedError(RuntimeError):
    """The evidence of which accounts are deleted is missing or implausible: nothing erased."""


@dataclass(frozen=True)
class ErasedDay:
    snapshot_date: date
    rows_erased: dict[str, int]
    """Rows each rewritten table lost (a recomputed gold table: rows it no longer has)."""


@dataclass(frozen=True)
class ErasureResult:
    accounts: int
    """Deleted accounts whose rows were found in some published partition."""
    days: list[ErasedDay] = field(default_factory=list)

    @property
    def rows_erased(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for day in self.days:
            for table, rows in day.rows_erased.items():
                totals[table] += rows
        return dict(sorted(totals.items()))


def per_user_tables(glue: GlueClient, database: str) -> list[str]:
    """The lake tables whose Glue columns include `user_id`: every table erasure filters.

    The lake's tables are `etl.schemas.TABLES` (and `users`, which the daily run publishes);
    the catalog says which hold a user_id, so a table added later is erased without a change here.
    """
    tables = []
    for name in sorted(set(TABLES) | {USERS_TABLE}):
        try:
            table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            continue
        columns = table.get("StorageDescriptor", {}).get("Columns", [])
        if any(column["Name"] == "user_id" for column in columns):
            tables.append(name)
    return tables


def _newest(glue: GlueClient, database: str, table: str) -> date | None:
    try:
        return newest_published_day(glue, database, table)
    except glue.exceptions.EntityNotFoundException:
        return None


def _parquet(files: Iterable[Path]) -> str:
    paths = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    return f"read_parquet([{paths}])"


class _Lake:
    """One erasure run's handles: the catalog, the bucket, a bounded DuckDB and a work folder."""

    def __init__(
        self, s3: S3Client, glue: GlueClient, database: str, connection: Any, workdir: Path
    ) -> None:
        self.s3, self.glue, self.database = s3, glue, database
        self.connection: duckdb.DuckDBPyConnection = connection
        self.workdir = workdir

    def partition(self, table: str, day: date) -> PartitionFolder | None:
        return published_partition(self.glue, self.database, table, day)

    def read(self, table: str, day: date) -> list[Path]:
        partition = self.partition(table, day)
        if partition is None:
            return []
        return download_data_files(
            self.s3, partition, self.workdir / "read" / table / day.isoformat()
        )

    def deleted_in(self, files: list[Path]) -> set[str]:
        """The ids in `files` that the newest users partition (table `live`) does not have."""
        if not files:
            return set()
        rows = self.connection.execute(
            f"SELECT DISTINCT user_id FROM {_parquet(files)} AS t "  # noqa: S608 - our paths
            "WHERE user_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM live WHERE live.user_id = t.user_id)"
        ).fetchall()
        return {row[0] for row in rows}

    def rows(self, files: list[Path]) -> int:
        if not files:
            return 0
        (count,) = self.connection.execute(
            f"SELECT count(*) FROM {_parquet(files)}"  # noqa: S608 - our paths
        ).fetchone() or (0,)
        return int(count)


def _load_live(lake: _Lake, users_day: date) -> int:
    files = lake.read(USERS_TABLE, users_day)
    if not files:
        raise ErasureBlockedError(f"the newest users partition ({users_day}) has no files")
    lake.connection.execute(
        f"CREATE OR REPLACE TABLE live AS SELECT DISTINCT user_id FROM {_parquet(files)} "  # noqa: S608
        "WHERE user_id IS NOT NULL"
    )
    (live,) = lake.connection.execute("SELECT count(*) FROM live").fetchone() or (0,)
    return int(live)


def _check_evidence(glue: GlueClient, database: str) -> date:
    """The newest users day, if it can say who is deleted; else ErasureBlockedError."""
    users_day = _newest(glue, database, USERS_TABLE)
    tasks_day = _newest(glue, database, ITEM_TABLE)
    if users_day is None:
        raise ErasureBlockedError(
            f"no published {USERS_TABLE} partition: cannot tell deleted accounts from live ones"
        )
    if tasks_day is not None and users_day < tasks_day:
        raise ErasureBlockedError(
            f"the newest {USERS_TABLE} partition ({users_day}) is older than the newest "
            f"{ITEM_TABLE} partition ({tasks_day}): accounts created since would look deleted"
        )
    return users_day


def plan_erasure(lake: _Lake, max_share: float) -> tuple[set[str], dict[date, set[str]]]:
    """The deleted ids found in the lake, and per day the tables holding some of them."""
    users_day = _check_evidence(lake.glue, lake.database)
    live = _load_live(lake, users_day)
    if live == 0:
        raise ErasureBlockedError(f"the newest {USERS_TABLE} partition ({users_day}) is empty")
    deleted: set[str] = set()
    affected: dict[date, set[str]] = defaultdict(set)
    tables = per_user_tables(lake.glue, lake.database)
    index_days = (
        published_days(lake.glue, lake.database, TASKS_INDEX) if TASKS_INDEX in tables else set()
    )
    for table in tables:
        for day in sorted(published_days(lake.glue, lake.database, table)):
            if table == ITEM_TABLE and day in index_days:
                continue  # decided by its index, user_daily_stats of the same day
            found = lake.deleted_in(lake.read(table, day))
            shutil.rmtree(lake.workdir / "read", ignore_errors=True)
            if found:
                deleted |= found
                affected[day].add(table)
                if table == TASKS_INDEX and ITEM_TABLE in tables:
                    affected[day].add(ITEM_TABLE)
                # At once, not after every day: a wrong users partition makes everyone deleted.
                _check_share(len(deleted), live, max_share, users_day)
    return deleted, dict(affected)


def _check_share(deleted: int, live: int, max_share: float, users_day: date) -> None:
    share = deleted / (deleted + live)
    if share > max_share:
        raise ErasureBlockedError(
            f"{deleted} accounts to erase against {live} live ({share:.1%}) is over the "
            f"{max_share:.1%} bound: check the {USERS_TABLE} partition of {users_day}"
        )


def _select_list(glue: GlueClient, database: str, table: str) -> str:
    """The Glue columns, timestamps cast to `timestamp(3)` as the transform writes them."""
    columns = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"][
        "Columns"
    ]
    return ", ".join(
        f'CAST("{c["Name"]}" AS timestamp(3)) AS "{c["Name"]}"'
        if c["Type"] == "timestamp"
        else f'"{c["Name"]}"'
        for c in columns
    )


def _rewrite_day(
    lake: _Lake, day: date, tables: set[str], out_root: Path
) -> tuple[dict[str, int], dict[str, int]]:
    """Write the day's partitions without the erased ids (table `erased`) under `out_root`.

    Returns the rows each new partition has, and the rows each lost.
    """
    recomputed = {t for t in RECOMPUTED_FROM_TASKS if lake.partition(t, day)}
    if ITEM_TABLE not in tables:
        recomputed = set()
    # Silver first: the recomputed gold reads the rewritten tasks.
    order = sorted(tables - recomputed) + sorted(recomputed)
    rows: dict[str, int] = {}
    lost: dict[str, int] = {}
    targets = {t: out_root / str(partition_path(t, day)) / PARQUET_FILE_NAME for t in order}
    for table in order:
        files = lake.read(table, day)
        target = targets[table]
        if table in recomputed:
            rows[table] = copy_table(
                lake.connection, table, day, target,
                tasks="erased_tasks", tasks_file=targets[ITEM_TABLE],
            )  # fmt: skip
        else:
            query = (
                f"SELECT {_select_list(lake.glue, lake.database, table)} "  # noqa: S608
                f"FROM {_parquet(files)} AS t WHERE NOT EXISTS "
                "(SELECT 1 FROM erased WHERE erased.user_id = t.user_id)"
            )
            rows[table] = engine.copy_to_parquet(lake.connection, query, target)
        lost[table] = lake.rows(files) - rows[table]
        if table == ITEM_TABLE:
            engine.create_parquet_view(lake.connection, "erased_tasks", target)
    return rows, lost


def _restated_status(
    lake: _Lake, day: date, rows: dict[str, int], attempt_key: str
) -> list[PartitionFolder]:
    """The day's `lake_status` row with the rewritten tables' counts, staged to flip with them.

    Its engine and export stay the day's own; `published_at` becomes now. A day published
    before `lake_status` existed has no row, and gets none here.
    """
    files = lake.read(LAKE_STATUS_TABLE, day)
    if not files:
        return []
    found = pa.concat_tables(pq.read_table(file) for file in files).to_pylist()
    if len(found) != 1:
        # One row a day (etl.day_publish); restating counts from several would be a guess.
        raise ValueError(f"{LAKE_STATUS_TABLE} of {day} holds {len(found)} rows, not one")
    (old,) = found
    # Parquet keeps the UTC wall time without its zone (etl.lake_status._utc_millis).
    exported = old["export_time"].replace(tzinfo=UTC)
    origin = ExportOrigin(old["engine"], old["export_mode"], exported)
    row = status_row(day, datetime.now(UTC), dict(old["rows_written"]) | rows, origin)
    staged = stage_status(
        lake.s3, lake.glue, database=lake.database, row=row, snapshot_date=day,
        attempt_key=attempt_key,
    )  # fmt: skip
    return [staged]


def erase_day(
    lake: _Lake, bucket: str, day: date, tables: set[str], *, owner: str
) -> ErasedDay | None:
    """Republish `day`'s `tables` without the erased ids, atomically; None if none were there.

    Read, rewritten and flipped under the day's publish lock, so a daily publish of the same day
    cannot slip in between: what is rewritten is what readers are being served.
    """
    with day_lock(lake.s3, bucket, day, owner=owner):
        out_root = lake.workdir / "out" / day.isoformat()
        rows, lost = _rewrite_day(lake, day, tables, out_root)
        if not any(lost.values()):
            return None
        tasks = lake.partition(ITEM_TABLE, day)
        source = tasks.location.rstrip("/").rsplit("/run=", 1)[-1] if tasks else owner
        # The run key stays the one the day was built from: a rebuild from bronze finds its export.
        attempt_key = new_attempt_key(run_key_of_attempt(source), 0)
        staged = stage_partitions(
            lake.s3,
            lake.glue,
            database=lake.database,
            out_root=out_root,
            files=[str(partition_path(t, day) / PARQUET_FILE_NAME) for t in sorted(rows)],
            rows=rows,
            snapshot_date=day,
            attempt_key=attempt_key,
        )
        staged += _restated_status(lake, day, rows, attempt_key)
        check_staged_files(lake.s3, lake.glue, lake.database, staged)
        replaced = publish_partitions(lake.glue, lake.database, staged)
        # Every table that has a `<table>_latest` (etl.schemas.LATEST_TABLES) follows.
        point_latest_tables(
            lake.glue, lake.database, [p.table for p in staged if p.table in LATEST_OF]
        )
        write_pointers(lake.s3, staged)
    tag_superseded(lake.s3, replaced, tag=ERASED_TAG)
    shutil.rmtree(lake.workdir / "read", ignore_errors=True)
    shutil.rmtree(out_root, ignore_errors=True)
    return ErasedDay(day, {table: count for table, count in lost.items() if count})


def erase_deleted_accounts(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    bucket: str,
    workdir: Path,
    owner: str,
    max_share: float = MAX_ERASED_SHARE,
) -> ErasureResult:
    """Republish every day that holds rows of a deleted account without them."""
    connection = engine.connect(workdir / "spill")
    try:
        lake = _Lake(s3, glue, database, connection, workdir)
        deleted, affected = plan_erasure(lake, max_share)
        connection.register(
            "erased_ids", pa.table({"user_id": pa.array(sorted(deleted), pa.string())})
        )
        connection.execute("CREATE OR REPLACE TABLE erased AS SELECT user_id FROM erased_ids")
        days = [
            erased
            for day in sorted(affected)
            if (erased := erase_day(lake, bucket, day, affected[day], owner=owner))
        ]
    finally:
        connection.close()
    result = ErasureResult(len(deleted), days)
    log.info("erased %d accounts from %d days: %s", result.accounts, len(days), result.rows_erased)
    return result
