-- Silver `tasks` for the snapshot day ${snapshot_date}: one row per exported item, in the columns
-- and types of etl/schemas.py TASKS. Reads `${bronze}`, whose one column `item` is the export
-- line's typed attribute map. Athena engine v3 (Trino) SQL, checked offline by
-- etl/athena_rules.py and run as written on the worker by etl/engines/duckdb.py.
SELECT
    user_id,
    task_id,
    status,
    priority,
    due_date,
    tags,
    -- Athena writes Hive-table timestamps in milliseconds, without a zone: the UTC wall time,
    -- built from whole milliseconds since the epoch (never a cast from a zoned timestamp).
    CAST(
        date_add('millisecond', CAST(created_ms AS bigint), CAST('1970-01-01 00:00:00.000' AS timestamp(3)))
        AS timestamp(3)
    ) AS created_at,
    CAST(
        date_add('millisecond', CAST(updated_ms AS bigint), CAST('1970-01-01 00:00:00.000' AS timestamp(3)))
        AS timestamp(3)
    ) AS updated_at,
    CAST(
        date_add('millisecond', CAST(completed_ms AS bigint), CAST('1970-01-01 00:00:00.000' AS timestamp(3)))
        AS timestamp(3)
    ) AS completed_at,
    version,
    coalesce(
        coalesce(status <> 'done', true) AND due_date < CAST('${snapshot_date}' AS date), false
    ) AS is_overdue,
    -- Whole milliseconds between the two stored moments, in hours.
    (completed_ms - created_ms) / 3.6e6 AS hours_to_complete,
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
        -- Milliseconds since the epoch of each ISO 8601 moment, whatever its offset.
        date_diff(
            'millisecond',
            from_iso8601_timestamp('1970-01-01T00:00:00Z'),
            from_iso8601_timestamp(item.created_at.s)
        ) AS created_ms,
        date_diff(
            'millisecond',
            from_iso8601_timestamp('1970-01-01T00:00:00Z'),
            from_iso8601_timestamp(item.updated_at.s)
        ) AS updated_ms,
        date_diff(
            'millisecond',
            from_iso8601_timestamp('1970-01-01T00:00:00Z'),
            from_iso8601_timestamp(item.completed_at.s)
        ) AS completed_ms,
        CAST(item.version.n AS bigint) AS version
    FROM ${bronze}
) AS items
