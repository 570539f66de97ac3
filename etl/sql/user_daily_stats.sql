-- Gold `user_daily_stats` for the snapshot day ${snapshot_date} from the Silver rows `${tasks}`:
-- counts per user, and the exact median hours to complete over the tasks completed that day
-- (mean of the two middle values for an even count; Athena has no exact median function).
-- Every division has a decimal divisor: Athena's integer division truncates (etl/athena_rules.py).
SELECT
    counts.user_id,
    counts.tasks_total,
    counts.tasks_created,
    counts.tasks_completed,
    counts.open_todo,
    counts.open_in_progress,
    counts.done_total,
    counts.overdue,
    medians.median_hours_to_complete,
    CAST('${snapshot_date}' AS date) AS snapshot_date
FROM (
    SELECT
        user_id,
        count(*) AS tasks_total,
        count(*) FILTER (
            WHERE CAST(created_at AS date) = CAST('${snapshot_date}' AS date)
        ) AS tasks_created,
        count(*) FILTER (
            WHERE CAST(completed_at AS date) = CAST('${snapshot_date}' AS date)
        ) AS tasks_completed,
        count(*) FILTER (WHERE status = 'todo') AS open_todo,
        count(*) FILTER (WHERE status = 'in_progress') AS open_in_progress,
        count(*) FILTER (WHERE status = 'done') AS done_total,
        count(*) FILTER (WHERE is_overdue) AS overdue
    FROM ${tasks}
    GROUP BY user_id
) AS counts
LEFT JOIN (
    SELECT
        user_id,
        (min(hours_to_complete) + max(hours_to_complete)) / 2.0 AS median_hours_to_complete
    FROM (
        SELECT
            user_id,
            hours_to_complete,
            row_number() OVER (PARTITION BY user_id ORDER BY hours_to_complete) AS position,
            count(*) OVER (PARTITION BY user_id) AS completions
        FROM ${tasks}
        WHERE CAST(completed_at AS date) = CAST('${snapshot_date}' AS date)
            AND hours_to_complete IS NOT NULL
    ) AS ranked
    WHERE position IN (floor((completions + 1) / 2.0), floor((completions + 2) / 2.0))
    GROUP BY user_id
) AS medians
    ON medians.user_id = counts.user_id
