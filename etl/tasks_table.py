"""Turn exported DynamoDB items into rows of the Silver `tasks` table."""

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from etl.schemas import TASKS

_MICROS_PER_HOUR = 3_600_000_000


def _value(items: pa.StructArray, attribute: str, descriptor: str) -> pa.Array:
    return pc.struct_field(items, [attribute, descriptor])


def _tags(items: pa.StructArray) -> pa.Array:
    """Tags as list<string>, from a list of strings or a string set; no tags → empty list.

    An empty list instead of null lets analysts count and unnest tags without null checks.
    """
    as_list = pc.struct_field(items, ["tags", "L"])
    from_list = pa.ListArray.from_arrays(
        as_list.offsets, pc.struct_field(as_list.values, "S"), mask=as_list.is_null()
    )
    as_set = pc.struct_field(items, ["tags", "SS"])
    tags = pc.coalesce(from_list, as_set)
    return pc.if_else(tags.is_null(), pa.scalar([], pa.list_(pa.string())), tags)


def to_tasks_rows(items: pa.StructArray, snapshot_date: date) -> pa.Table:
    """Typed `tasks` rows for one batch of items, with the columns derived as of the snapshot."""
    status = _value(items, "status", "S")
    due_date = pc.cast(_value(items, "due_date", "S"), pa.date32())
    created_at = _value(items, "created_at", "S")
    completed_at = _value(items, "completed_at", "S")
    not_done = pc.fill_null(pc.not_equal(status, "done"), True)
    due_before_snapshot = pc.less(due_date, pa.scalar(snapshot_date, pa.date32()))
    is_overdue = pc.fill_null(pc.and_(not_done, due_before_snapshot), False)
    micros_to_complete = pc.cast(pc.subtract(completed_at, created_at), pa.int64())
    hours_to_complete = pc.divide(pc.cast(micros_to_complete, pa.float64()), _MICROS_PER_HOUR)
    return pa.Table.from_arrays(
        [
            _value(items, "user_id", "S"),
            _value(items, "task_id", "S"),
            status,
            _value(items, "priority", "S"),
            due_date,
            _tags(items),
            created_at,
            _value(items, "updated_at", "S"),
            completed_at,
            pc.cast(_value(items, "version", "N"), pa.int64()),
            is_overdue,
            hours_to_complete,
            pa.repeat(pa.scalar(snapshot_date, pa.date32()), len(items)),
        ],
        schema=TASKS,
    )
