-- Question: on the latest snapshot day, which tags are used most, by how many users,
-- and how many of their tasks are done?
-- tag_daily_stats_latest holds that day only, so one day is read, not the whole history.
-- Tags are free-form (hundreds of thousands a day): the top 100, tags counted in lower case.
-- Portable Athena (Trino) / DuckDB SQL: see docs/adr/0020-local-development-and-testing.md.
SELECT
    tag,
    tasks_total,
    users,
    open_total,
    round(CAST(done_total AS double) / tasks_total, 4) AS done_share
FROM tag_daily_stats_latest
ORDER BY tasks_total DESC, tag
LIMIT 100
