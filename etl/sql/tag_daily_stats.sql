-- Gold `tag_daily_stats` for the snapshot day ${snapshot_date} from the Silver rows `tasks`, as
-- etl/tag_daily_stats.py computes it: a tag repeated on one task counts once, null tags not at all,
-- and a task without status counts as open.
SELECT
    tag,
    count(*) AS tasks_total,
    count(*) - count(*) FILTER (WHERE status = 'done') AS open_total,
    count(*) FILTER (WHERE status = 'done') AS done_total,
    count(*) FILTER (WHERE is_overdue) AS overdue,
    count(DISTINCT user_id) AS users
FROM (
    SELECT DISTINCT tasks.user_id, tasks.task_id, tasks.status, tasks.is_overdue, tagged.tag
    FROM tasks
    CROSS JOIN UNNEST(tasks.tags) AS tagged (tag)
    WHERE tagged.tag IS NOT NULL
) AS task_tags
GROUP BY tag
