-- Silver `tasks` for the snapshot day ${snapshot_date}: one row per exported item, in the columns
-- and types of etl/schemas.py TASKS, with the same derivations as etl/tasks_table.py.
-- Reads `bronze_tasks`, whose one column `item` is the export line's typed attribute map.
-- Athena (Trino) SQL; tests/etl/test_sql_transform.py runs it on DuckDB via sqlglot.
SELECT
    user_id,
    task_id,
    status,
    priority,
    due_date,
    tags,
    -- Glue timestamps have no zone: the UTC wall time, as the Parquet files hold it.
    CAST(created_at AT TIME ZONE 'UTC' AS timestamp(6)) AS created_at,
    CAST(updated_at AT TIME ZONE 'UTC' AS timestamp(6)) AS updated_at,
    CAST(completed_at AT TIME ZONE 'UTC' AS timestamp(6)) AS completed_at,
    version,
    coalesce(
        coalesce(status <> 'done', true) AND due_date < CAST('${snapshot_date}' AS date), false
    ) AS is_overdue,
    -- Whole microseconds between the two moments, in hours: exactly the pyarrow arithmetic.
    (round(to_unixtime(completed_at) * 1e6) - round(to_unixtime(created_at) * 1e6)) / 3.6e9
        AS hours_to_complete,
    CAST('${snapshot_date}' AS date) AS snapshot_date
FROM (
    SELECT
        item.user_id.s AS user_id,
        item.task_id.s AS task_id,
        item.status.s AS status,
        item.priority.s AS priority,
        CAST(item.due_date.s AS date) AS due_date,
        -- A list of strings or a string set; no tags (or NULL) is an empty list, never null.
        coalesce(
            transform(item.tags.l, tag -> tag.s),
            item.tags.ss,
            CAST(ARRAY[] AS array(varchar))
        ) AS tags,
        from_iso8601_timestamp_nanos(item.created_at.s) AS created_at,
        from_iso8601_timestamp_nanos(item.updated_at.s) AS updated_at,
        from_iso8601_timestamp_nanos(item.completed_at.s) AS completed_at,
        CAST(item.version.n AS bigint) AS version
    FROM ${bronze}
) AS items
