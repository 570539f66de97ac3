-- Question: on each snapshot day, what share of all existing tasks is done,
-- and how many tasks were created and completed that day? A trend over every day by design:
-- it reads one small gold file per day, never the tasks snapshots.
-- Portable Athena (Trino) / DuckDB SQL: see docs/adr/0020-local-development-and-testing.md.
SELECT
    year,
    month,
    day,
    sum(tasks_total) AS tasks_total,
    sum(done_total) AS done_total,
    sum(tasks_created) AS created_that_day,
    sum(tasks_completed) AS completed_that_day,
    round(CAST(sum(done_total) AS double) / nullif(sum(tasks_total), 0), 4) AS completion_rate
FROM user_daily_stats
GROUP BY year, month, day
ORDER BY year, month, day
