"""Gold `user_daily_stats`: one row per user with their task counts as of the snapshot day.

A user whose tasks come in several parts (too many for one batch) gets one row from the rows of
the parts: the counts add up, and the median is taken again over every part's completion hours.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from etl.schemas import USER_DAILY_STATS, UTC_MICROS

_COUNT_COLUMNS = USER_DAILY_STATS.names[1:-1]


def _on_day(timestamps: pa.ChunkedArray, day: date) -> pa.ChunkedArray:
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    on_day = pc.and_(
        pc.greater_equal(timestamps, pa.scalar(start, UTC_MICROS)),
        pc.less(timestamps, pa.scalar(end, UTC_MICROS)),
    )
    return pc.fill_null(on_day, False)


def _exact_medians(user_ids: pa.ChunkedArray, values: pa.ChunkedArray) -> pa.Table:
    """Exact median of `values` per user (mean of the two middle values for an even count).

    Arrow only offers an approximate (t-digest) median, and analysts compare this number with the
    exact median Athena/DuckDB compute from Silver, so it is computed from sorted runs.
    """
    ordered = pa.table({"user_id": user_ids, "value": values}).sort_by(
        [("user_id", "ascending"), ("value", "ascending")]
    )
    # Each user's values are one run of the sorted table. (group_by does not promise to keep the
    # users in that order, even without threads: past a few dozen users it does not.)
    runs = pc.run_end_encode(ordered["user_id"].combine_chunks(), run_end_type=pa.int64())
    run_ends = runs.run_ends
    run_starts = pa.concat_arrays([pa.array([0], pa.int64()), run_ends])[:-1]
    run_lengths = pc.subtract(run_ends, run_starts)
    lower = pc.add(run_starts, pc.divide(pc.subtract(run_lengths, 1), 2))
    upper = pc.add(run_starts, pc.divide(run_lengths, 2))
    sorted_values = ordered["value"]
    median = pc.divide(pc.add(sorted_values.take(lower), sorted_values.take(upper)), pa.scalar(2.0))
    return pa.table({"user_id": runs.values, "median_hours_to_complete": median})


def _completed_on_day(tasks: pa.Table, snapshot_date: date) -> pa.Table:
    """The tasks completed on the snapshot day with a known duration: the median's input."""
    completed_today = _on_day(tasks["completed_at"], snapshot_date)
    return tasks.filter(pc.and_(completed_today, tasks["hours_to_complete"].is_valid()))


def completed_hours(tasks: pa.Table, snapshot_date: date) -> pa.ChunkedArray:
    """`hours_to_complete` of the tasks completed on the snapshot day, for `merge_user_parts`."""
    return _completed_on_day(tasks, snapshot_date)["hours_to_complete"]


def merge_user_parts(
    part_stats: Sequence[pa.Table], part_hours: Sequence[pa.ChunkedArray]
) -> pa.Table:
    """One user's row from `user_daily_stats` and `completed_hours` of disjoint parts of their
    tasks: the same row as from all their tasks at once."""
    stats = pa.concat_tables(part_stats)
    hours = pa.chunked_array([chunk for part in part_hours for chunk in part.chunks], pa.float64())
    ordered = hours.sort()
    count = len(ordered)
    median = None
    if count:
        # As `_exact_medians`: the mean of the two middle values, computed the same way.
        lower, upper = ordered[(count - 1) // 2], ordered[count // 2]
        median = pc.divide(pc.add(lower, upper), pa.scalar(2.0)).as_py()
    row = {
        "user_id": stats["user_id"][0].as_py(),
        **{column: pc.sum(stats[column]).as_py() for column in _COUNT_COLUMNS},
        "median_hours_to_complete": median,
    }
    return pa.Table.from_pylist([row], schema=USER_DAILY_STATS)


def user_daily_stats(tasks: pa.Table, snapshot_date: date) -> pa.Table:
    """Stats of every user present in `tasks` (all of that user's rows), sorted by user_id."""
    status = tasks["status"]
    completed_today = _on_day(tasks["completed_at"], snapshot_date)
    flags = pa.table(
        {
            "user_id": tasks["user_id"],
            "created": pc.cast(_on_day(tasks["created_at"], snapshot_date), pa.int64()),
            "completed": pc.cast(completed_today, pa.int64()),
            "todo": pc.cast(pc.fill_null(pc.equal(status, "todo"), False), pa.int64()),
            "in_progress": pc.cast(
                pc.fill_null(pc.equal(status, "in_progress"), False), pa.int64()
            ),
            "done": pc.cast(pc.fill_null(pc.equal(status, "done"), False), pa.int64()),
            "overdue": pc.cast(tasks["is_overdue"], pa.int64()),
        }
    )
    counts = flags.group_by("user_id").aggregate(
        [
            ("created", "count"),
            ("created", "sum"),
            ("completed", "sum"),
            ("todo", "sum"),
            ("in_progress", "sum"),
            ("done", "sum"),
            ("overdue", "sum"),
        ]
    )
    completed = _completed_on_day(tasks, snapshot_date)
    medians = _exact_medians(completed["user_id"], completed["hours_to_complete"])
    stats = counts.join(medians, "user_id", join_type="left outer")
    return pa.Table.from_arrays(
        [
            stats["user_id"],
            stats["created_count"],
            stats["created_sum"],
            stats["completed_sum"],
            stats["todo_sum"],
            stats["in_progress_sum"],
            stats["done_sum"],
            stats["overdue_sum"],
            stats["median_hours_to_complete"],
        ],
        schema=USER_DAILY_STATS,
    ).sort_by("user_id")
