-- Question: on the latest snapshot day, which tags are used most, by how many users,
-- and how many of their tasks are done?
-- Portable Athena (Trino) / DuckDB SQL: see docs/adr/0006-local-athena-stand-in.md.
SELECT
    tag,
    tasks_total,
    users,
    open_total,
    round(CAST(done_total AS double) / tasks_total, 4) AS done_share
FROM tag_daily_stats
WHERE year || month || day = (SELECT max(year || month || day) FROM tag_daily_stats)
ORDER BY tasks_total DESC, tag
