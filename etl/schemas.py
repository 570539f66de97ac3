"""Arrow schemas of the lake tables: the single source of truth for the Glue table definitions."""

import pyarrow as pa

TIMESTAMP_MILLIS = pa.timestamp("ms")
"""Athena's `timestamp(3)`: Hive-table timestamps are written in milliseconds, without a zone
(the UTC wall time). The worker's engine writes exactly this type (etl/sql/tasks.sql)."""

TASKS = pa.schema(
    [
        pa.field("user_id", pa.string()),
        pa.field("task_id", pa.string()),
        pa.field("status", pa.string()),
        pa.field("priority", pa.string()),
        pa.field("due_date", pa.date32()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("created_at", TIMESTAMP_MILLIS),
        pa.field("updated_at", TIMESTAMP_MILLIS),
        pa.field("completed_at", TIMESTAMP_MILLIS),
        pa.field("version", pa.int64()),
        # Derived as of the snapshot date: analysts need no date arithmetic for the usual questions.
        pa.field("is_overdue", pa.bool_()),
        pa.field("hours_to_complete", pa.float64()),
        # The partition's day as a column, on every table: `<table>_latest` has no year/month/day
        # to say which day it is.
        pa.field("snapshot_date", pa.date32()),
    ]
)

USER_DAILY_STATS = pa.schema(
    [
        pa.field("user_id", pa.string()),
        pa.field("tasks_total", pa.int64()),
        pa.field("tasks_created", pa.int64()),
        pa.field("tasks_completed", pa.int64()),
        pa.field("open_todo", pa.int64()),
        pa.field("open_in_progress", pa.int64()),
        pa.field("done_total", pa.int64()),
        pa.field("overdue", pa.int64()),
        pa.field("median_hours_to_complete", pa.float64()),
        pa.field("snapshot_date", pa.date32()),
    ]
)

TAG_DAILY_STATS = pa.schema(
    [
        pa.field("tag", pa.string()),
        pa.field("tasks_total", pa.int64()),
        pa.field("open_total", pa.int64()),
        pa.field("done_total", pa.int64()),
        pa.field("overdue", pa.int64()),
        pa.field("users", pa.int64()),
        pa.field("snapshot_date", pa.date32()),
    ]
)

# One row per account, with no email or name (ADR 0005): the dimension user_id joins to.
USERS = pa.schema(
    [
        pa.field("user_id", pa.string()),
        pa.field("signed_up_on", pa.date32()),
        pa.field("status", pa.string()),
        pa.field("tasks_total", pa.int64()),
        pa.field("open_total", pa.int64()),
        pa.field("done_total", pa.int64()),
        pa.field("snapshot_date", pa.date32()),
    ]
)

TASK_CHANGES = pa.schema(
    [
        pa.field("user_id", pa.string()),
        pa.field("task_id", pa.string()),
        # appeared, changed, completed, reopened or disappeared (etl/sql/task_changes.sql).
        pa.field("change", pa.string()),
        pa.field("changed_fields", pa.list_(pa.string())),
        pa.field("old_status", pa.string()),
        pa.field("new_status", pa.string()),
        pa.field("priority", pa.string()),
        pa.field("hours_to_complete", pa.float64()),
        # The day the snapshot was compared with: the day before, unless that day is missing.
        pa.field("compared_with", pa.date32()),
        pa.field("snapshot_date", pa.date32()),
    ]
)

# In the order the engines write them: each table after the ones its statement reads.
TABLES: dict[str, pa.Schema] = {
    "tasks": TASKS,
    "user_daily_stats": USER_DAILY_STATS,
    "tag_daily_stats": TAG_DAILY_STATS,
    "task_changes": TASK_CHANGES,
    "users": USERS,
}

EMPTY_DAY_TABLES = frozenset({"task_changes"})
"""Tables whose day may rightly hold no rows: `task_changes` on the lake's first day (nothing to
compare with) or a day nothing changed. Every other table has a row per task, user or tag."""

LAKE_STATUS = pa.schema(
    [
        pa.field("snapshot_date", pa.date32()),
        pa.field("published_at", TIMESTAMP_MILLIS),
        # A map, not a column per table: a table added to the lake needs no new column here.
        pa.field("rows_written", pa.map_(pa.string(), pa.int64())),
        pa.field("engine", pa.string()),
        pa.field("export_mode", pa.string()),
        pa.field("export_time", TIMESTAMP_MILLIS),
    ]
)

STATUS_TABLES: dict[str, pa.Schema] = {"lake_status": LAKE_STATUS}
"""Tables about the lake itself, one row per published day: written by the publish step
(etl/lake_status.py), not computed from the export by etl/sql/."""

CATALOG_TABLES: dict[str, pa.Schema] = {**TABLES, **STATUS_TABLES}
"""Every partitioned Glue table of the lake (infra/analytics.yaml)."""

# Each table's newest snapshot day as an unpartitioned table of the same columns, which publish
# points at the newest partition's folder (etl.latest_snapshot): `<table>_latest` -> `<table>`.
LATEST_TABLES: dict[str, str] = {f"{table}_latest": table for table in TABLES}

# Hive partition keys: in the path only, never inside the files; Glue declares them as strings.
PARTITION_KEYS: list[tuple[str, str]] = [("year", "string"), ("month", "string"), ("day", "string")]

_GLUE_SCALAR_TYPES: dict[pa.DataType, str] = {
    pa.string(): "string",
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.date32(): "date",
}


def glue_type(arrow_type: pa.DataType) -> str:
    """Spell an Arrow type the way a Glue table column declares it."""
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_list(arrow_type):
        return f"array<{glue_type(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return f"map<{glue_type(arrow_type.key_type)},{glue_type(arrow_type.item_type)}>"
    try:
        return _GLUE_SCALAR_TYPES[arrow_type]
    except KeyError:
        raise ValueError(f"no Glue type for Arrow type {arrow_type}") from None


def glue_columns(table: str) -> list[tuple[str, str]]:
    """Data columns of a lake table as (name, Glue type) pairs, partition keys excluded."""
    return [(field.name, glue_type(field.type)) for field in CATALOG_TABLES[table]]
