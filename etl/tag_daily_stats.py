"""Gold `tag_daily_stats`: how many tasks and users use each tag, and how many are open or overdue.

Tag popularity is the first question product asks about tags, and answering it from Silver means
unnesting every task's tags on every query; this table is a few hundred rows per day instead.
Counts are computed per batch of tasks (`tag_counts`) and added up per tag (`tag_daily_stats`).
That is exact for the task counts, as every task is in one batch, and for `users` as long as a
batch holds every task of its users. A user with too many tasks for one batch is the exception:
their partial rows carry `split_user`, so that they count once per tag whatever the batches.
"""

import pyarrow as pa
import pyarrow.compute as pc

from etl.schemas import TAG_DAILY_STATS

_TASK_COUNT_COLUMNS = ["tasks_total", "open_total", "done_total", "overdue"]
_COUNT_COLUMNS = [*_TASK_COUNT_COLUMNS, "users"]
# The partial counts of a batch of tasks: `split_user` is the one user whose tasks the batch
# holds only some of, or null when it holds all the tasks of each of its users.
PARTIAL_TAG_COUNTS = TAG_DAILY_STATS.append(pa.field("split_user", pa.string()))


def tag_counts(tasks: pa.Table, split_user: str | None = None) -> pa.Table:
    """Partial tag counts over `tasks`: all the rows of its users, or some of `split_user`'s."""
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
            pa.repeat(pa.scalar(split_user, pa.string()), counts.num_rows),
        ],
        schema=PARTIAL_TAG_COUNTS,
    )


def tag_daily_stats(partial_counts: pa.Table) -> pa.Table:
    """Add up `tag_counts` rows into the final table, sorted by tag.

    `partial_counts` must hold every partial row of the tags it contains.
    """
    split = partial_counts.filter(partial_counts["split_user"].is_valid())
    # A split user counts once per tag, however many of their batches used it.
    split_users = split.group_by(["tag", "split_user"], use_threads=False).aggregate(
        [(column, "sum") for column in _TASK_COUNT_COLUMNS] + [("users", "max")]
    )
    whole_users = partial_counts.filter(partial_counts["split_user"].is_null())
    partials = pa.concat_tables(
        [
            whole_users.select(["tag", *_COUNT_COLUMNS]),
            pa.Table.from_arrays(
                [split_users["tag"]]
                + [split_users[f"{column}_sum"] for column in _TASK_COUNT_COLUMNS]
                + [split_users["users_max"]],
                names=["tag", *_COUNT_COLUMNS],
            ),
        ]
    )
    totals = partials.group_by("tag").aggregate([(column, "sum") for column in _COUNT_COLUMNS])
    return pa.Table.from_arrays(
        [totals["tag"], *(totals[f"{column}_sum"] for column in _COUNT_COLUMNS)],
        schema=TAG_DAILY_STATS,
    ).sort_by("tag")
