-- Question: how many tasks were created on each day? (Counted in the latest snapshot,
-- so tasks deleted since are not counted; user_daily_stats.tasks_created keeps each
-- day's count as it was seen that day.) tasks_latest holds the latest snapshot only.
-- Portable Athena (Trino) / DuckDB SQL: see docs/adr/0020-local-development-and-testing.md.
SELECT
    CAST(created_at AS date) AS created_on,
    count(*) AS tasks_created
FROM tasks_latest
GROUP BY CAST(created_at AS date)
ORDER BY created_on
