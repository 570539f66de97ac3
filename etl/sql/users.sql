-- `users` for the snapshot day ${snapshot_date}: one row per account, that is per profile item
-- (kind = 'user') of `${users_bronze}`, the users table's export of the same moment as the
-- tasks export, with its task counts from the day's Silver rows `${tasks}` (0 for an account
-- without tasks). Pseudonymous: the Cognito sub, never the email or the name (ADR 0005).
-- Status: `deleting` once the API has set deleting_since (it sets it first, then removes the
-- account), else `disabled` when enabled is false; an absent flag is the API's default, enabled.
SELECT
    profiles.user_id,
    -- The UTC day of the sign-up moment, built from whole milliseconds as etl/sql/tasks.sql does
    -- (never a cast from a zoned timestamp).
    CAST(
        date_add('millisecond', CAST(profiles.signed_up_ms AS bigint), CAST('1970-01-01 00:00:00.000' AS timestamp(3)))
        AS date
    ) AS signed_up_on,
    CASE
        WHEN profiles.deleting THEN 'deleting'
        WHEN profiles.enabled = false THEN 'disabled'
        ELSE 'active'
    END AS status,
    coalesce(counts.tasks_total, CAST(0 AS bigint)) AS tasks_total,
    coalesce(counts.tasks_total - counts.done_total, CAST(0 AS bigint)) AS open_total,
    coalesce(counts.done_total, CAST(0 AS bigint)) AS done_total,
    CAST('${snapshot_date}' AS date) AS snapshot_date
FROM (
    SELECT
        item.user_id.s AS user_id,
        date_diff(
            'millisecond',
            from_iso8601_timestamp('1970-01-01T00:00:00Z'),
            from_iso8601_timestamp(item.created_at.s)
        ) AS signed_up_ms,
        item.deleting_since.s IS NOT NULL AS deleting,
        item.enabled.bool AS enabled
    FROM ${users_bronze}
    WHERE item.kind.s = 'user'
) AS profiles
LEFT JOIN (
    SELECT
        user_id,
        count(*) AS tasks_total,
        count(*) FILTER (WHERE status = 'done') AS done_total
    FROM ${tasks}
    GROUP BY user_id
) AS counts
    ON counts.user_id = profiles.user_id
