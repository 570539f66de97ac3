-- Question: on the latest snapshot day, which users have the most overdue tasks
-- (not done, due before that day), and what share of their open tasks is overdue?
-- user_daily_stats_latest holds that day only, so one day is read, not the whole history.
-- Portable Athena (Trino) / DuckDB SQL: see docs/adr/0020-local-development-and-testing.md.
SELECT
    user_id,
    overdue,
    open_todo + open_in_progress AS open_total,
    round(CAST(overdue AS double) / nullif(open_todo + open_in_progress, 0), 4) AS overdue_share
FROM user_daily_stats_latest
WHERE overdue > 0
ORDER BY overdue DESC, user_id
LIMIT 20
