-- Gold `task_changes` for the snapshot day ${snapshot_date}: one row per task that differs between
-- the Silver rows `${previous_tasks}` of the compared day (${compared_with}, the newest published
-- day before ${snapshot_date}) and the Silver rows `${tasks}` of ${snapshot_date}. Kinds, one per
-- task, first match wins (docs/analysts.md, `task_changes`):
--   appeared     in the snapshot, not in the compared one (created in between)
--   disappeared  in the compared snapshot, not in this one (deleted in between)
--   completed    in both, status not done before (null counts as not done), done now
--   reopened     in both, status done before, not done now
--   changed      in both, a compared field or the edit counter (`version`) differs
-- Unchanged tasks have no row. With no compared day (the lake's first day) there are no rows.
-- A task created and deleted between the two snapshots is never seen.
SELECT
    user_id,
    task_id,
    CAST(change AS varchar) AS change,
    changed_fields,
    old_status,
    new_status,
    priority,
    hours_to_complete,
    CAST(${compared_with} AS date) AS compared_with,
    CAST('${snapshot_date}' AS date) AS snapshot_date
FROM (
    SELECT
        user_id,
        task_id,
        CASE
            WHEN in_earlier IS NULL THEN 'appeared'
            WHEN in_later IS NULL THEN 'disappeared'
            WHEN NOT was_done AND is_done THEN 'completed'
            WHEN was_done AND NOT is_done THEN 'reopened'
            WHEN version_changed OR cardinality(changed_fields) > 0 THEN 'changed'
        END AS change,
        changed_fields,
        old_status,
        new_status,
        priority,
        hours_to_complete
    FROM (
        SELECT
            coalesce(later.user_id, earlier.user_id) AS user_id,
            coalesce(later.task_id, earlier.task_id) AS task_id,
            earlier.task_id AS in_earlier,
            later.task_id AS in_later,
            earlier.done AS was_done,
            later.done AS is_done,
            earlier.version IS DISTINCT FROM later.version AS version_changed,
            -- The compared fields that differ, in this order; empty unless the task is in both.
            CAST(
                CASE
                    WHEN earlier.task_id IS NULL OR later.task_id IS NULL THEN ARRAY[]
                    ELSE filter(
                        ARRAY[
                            CASE WHEN earlier.status IS DISTINCT FROM later.status THEN 'status' END,
                            CASE
                                WHEN earlier.priority IS DISTINCT FROM later.priority THEN 'priority'
                            END,
                            CASE
                                WHEN earlier.due_date IS DISTINCT FROM later.due_date THEN 'due_date'
                            END,
                            CASE WHEN earlier.tags IS DISTINCT FROM later.tags THEN 'tags' END,
                            CASE
                                WHEN earlier.completed_at IS DISTINCT FROM later.completed_at
                                    THEN 'completed_at'
                            END
                        ],
                        field -> field IS NOT NULL
                    )
                END
                AS array(varchar)
            ) AS changed_fields,
            earlier.status AS old_status,
            later.status AS new_status,
            -- As of the snapshot day, or of the compared day for a task that disappeared.
            CASE WHEN later.task_id IS NULL THEN earlier.priority ELSE later.priority END
                AS priority,
            CASE
                WHEN later.task_id IS NULL THEN earlier.hours_to_complete
                ELSE later.hours_to_complete
            END AS hours_to_complete
        FROM (
            SELECT
                user_id, task_id, status, priority, due_date, tags, completed_at, version,
                hours_to_complete, coalesce(status = 'done', false) AS done
            FROM ${previous_tasks} AS earlier_rows
        ) AS earlier
        FULL OUTER JOIN (
            SELECT
                user_id, task_id, status, priority, due_date, tags, completed_at, version,
                hours_to_complete, coalesce(status = 'done', false) AS done
            FROM ${tasks} AS later_rows
        ) AS later
            ON later.user_id = earlier.user_id AND later.task_id = earlier.task_id
    ) AS compared
) AS changes
WHERE change IS NOT NULL AND ${compared_with} IS NOT NULL
