-- Gold `tag_daily_stats` for the snapshot day ${snapshot_date} from the Silver rows `${tasks}`.
-- Tags are counted case-insensitively (`Work` and `work` are one tag, spelled in lower case here;
-- Silver keeps what users typed); a tag repeated on one task counts once, null tags not at all,
-- and a task without status counts as open. Only GROUP BY, no count(DISTINCT …): with free-form
-- tags the local engine must be able to spill every step to disk (ADR 0016).
-- Each task's tags are lower-cased, stripped of nulls and de-duplicated in its own array, before
-- the UNNEST: no GROUP BY over one row per (task, tag) is needed, and no filter applies to the
-- unnested column. DuckDB plans such a filter as a join that holds the whole table in memory
-- (out of memory at 10M tasks under the worker's limit); a bare UNNEST streams.
-- `${tag_slice}` keeps a share of the tags (TRUE: all). The worker runs the statement once per
-- slice when one GROUP BY over every (tag, user) would not fit its memory (etl/tag_slices.py).
SELECT
    tag,
    -- Cast: a sum of bigints is bigint in Athena, a 128-bit integer in DuckDB.
    CAST(sum(tasks) AS bigint) AS tasks_total,
    CAST(sum(tasks) - sum(done) AS bigint) AS open_total,
    CAST(sum(done) AS bigint) AS done_total,
    CAST(sum(overdue) AS bigint) AS overdue,
    count(*) AS users,
    CAST('${snapshot_date}' AS date) AS snapshot_date
FROM (
    SELECT
        tagged.tag,
        tasks.user_key,
        count(*) AS tasks,
        count(*) FILTER (WHERE tasks.status = 'done') AS done,
        count(*) FILTER (WHERE tasks.is_overdue) AS overdue
    FROM (
        SELECT
            user_key,
            status,
            is_overdue,
            -- Most tasks have one tag or none: nothing to de-duplicate.
            CASE WHEN cardinality(tags) < 2 THEN tags ELSE array_distinct(tags) END AS tags
        FROM (
            SELECT
                user_keys.user_key,
                tasks.status,
                tasks.is_overdue,
                filter(
                    transform(tasks.tags, tag -> lower(tag)),
                    tag -> tag IS NOT NULL AND ${tag_slice}
                ) AS tags
            FROM ${tasks} AS tasks
            -- A number per user to group by: a group keyed by a short tag and a bigint is a
            -- fraction of one keyed by two strings (a user_id is 36 characters), so more of them
            -- fit before a slice is needed. LEFT: a row without user_id would still count, as one
            -- user.
            LEFT JOIN (
                SELECT user_id, row_number() OVER () AS user_key
                FROM (SELECT DISTINCT user_id FROM ${tasks}) AS user_ids
            ) AS user_keys
                ON user_keys.user_id = tasks.user_id
        ) AS tagged_tasks
    ) AS tasks
    CROSS JOIN UNNEST(tasks.tags) AS tagged (tag)
    GROUP BY tagged.tag, tasks.user_key
) AS user_tags
GROUP BY tag
