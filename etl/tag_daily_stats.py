"""Gold `tag_daily_stats`: how many tasks and users use each tag, and how many are open or overdue.

Tag popularity is the first question product asks about tags, and answering it from Silver means
unnesting every task's tags on every query; this table is a few hundred rows per day instead.
Counts are computed per batch of users (`tag_counts`) and added up (`tag_daily_stats`), which is
exact because a user's tasks are never split across batches.
"""

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from etl.schemas import TAG_DAILY_STATS

_COUNT_COLUMNS = ["tasks_total", "open_total", "done_total", "overdue", "users"]


def tag_counts(tasks: pa.Table) -> pa.Table:
    """Tag counts over `tasks`, which must hold all the rows of the users it contains."""
    owners = pc.list_parent_indices(tasks["tags"])
    # Integer keys hash far faster than the user id strings.
    user_numbers = pc.dictionary_encode(tasks["user_id"].combine_chunks()).indices
    done = pc.fill_null(pc.equal(tasks["status"], "done"), False)
    tagged = pa.table(
        {
            "tag": pc.list_flatten(tasks["tags"]),
            "task": owners,
            "user": user_numbers.take(owners),
            "done": pc.cast(done.take(owners), pa.int64()),
            "overdue": pc.cast(tasks["is_overdue"].take(owners), pa.int64()),
        }
    )
    # A tag repeated on one task counts once.
    per_task = (
        tagged.filter(tagged["tag"].is_valid())
        .group_by(["tag", "task"], use_threads=False)
        .aggregate([("user", "first"), ("done", "first"), ("overdue", "first")])
    )
    counts = per_task.group_by("tag", use_threads=False).aggregate(
        [
            ("done_first", "count"),
            ("done_first", "sum"),
            ("overdue_first", "sum"),
            ("user_first", "count_distinct"),
        ]
    )
    tasks_total = counts["done_first_count"]
    return pa.Table.from_arrays(
        [
            counts["tag"],
            tasks_total,
            pc.subtract(tasks_total, counts["done_first_sum"]),
            counts["done_first_sum"],
            counts["overdue_first_sum"],
            counts["user_first_count_distinct"],
        ],
        schema=TAG_DAILY_STATS,
    )


def tag_daily_stats(partial_counts: Iterable[pa.Table]) -> pa.Table:
    """Add up `tag_counts` of disjoint sets of users into the final table, sorted by tag."""
    partials = pa.concat_tables([TAG_DAILY_STATS.empty_table(), *partial_counts])
    totals = partials.group_by("tag").aggregate([(column, "sum") for column in _COUNT_COLUMNS])
    return pa.Table.from_arrays(
        [totals["tag"], *(totals[f"{column}_sum"] for column in _COUNT_COLUMNS)],
        schema=TAG_DAILY_STATS,
    ).sort_by("tag")
