-- Gold `tag_daily_stats` for the snapshot day ${snapshot_date} from the Silver rows `${tasks}`.
-- Tags are counted case-insensitively (`Work` and `work` are one tag, spelled in lower case here;
-- Silver keeps what users typed); a tag repeated on one task counts once, null tags not at all,
-- and a task without status counts as open. Only GROUP BY, no count(DISTINCT …): with free-form
-- tags the local engine must be able to spill every step to disk (ADR 0016).
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
        tag,
        user_id,
        count(*) AS tasks,
        count(*) FILTER (WHERE status = 'done') AS done,
        count(*) FILTER (WHERE is_overdue) AS overdue
    FROM (
        SELECT lower(tagged.tag) AS tag, tasks.user_id, tasks.task_id, tasks.status,
            tasks.is_overdue
        FROM ${tasks} AS tasks
        CROSS JOIN UNNEST(tasks.tags) AS tagged (tag)
        WHERE tagged.tag IS NOT NULL
        GROUP BY lower(tagged.tag), tasks.user_id, tasks.task_id, tasks.status, tasks.is_overdue
    ) AS task_tags
    GROUP BY tag, user_id
) AS user_tags
GROUP BY tag
