-- Question: for tasks completed on each day, what is the exact median time from creation
-- to completion, in hours? (Latest snapshot, tasks_latest; deleted tasks are not in it.)
-- Athena has only approx_percentile and DuckDB has no approx_percentile, so the exact median
-- is picked with window functions both engines share. "/ 2.0" + floor keeps the middle
-- positions integral in both (DuckDB's "/" on integers is not integer division).
WITH latest AS (
    SELECT completed_at, hours_to_complete
    FROM tasks_latest
    WHERE completed_at IS NOT NULL
        AND hours_to_complete IS NOT NULL
),
ranked AS (
    SELECT
        CAST(completed_at AS date) AS completed_on,
        hours_to_complete,
        row_number() OVER (
            PARTITION BY CAST(completed_at AS date) ORDER BY hours_to_complete
        ) AS position,
        count(*) OVER (PARTITION BY CAST(completed_at AS date)) AS completions
    FROM latest
)
SELECT
    completed_on,
    max(completions) AS completions,
    round(avg(hours_to_complete), 4) AS median_hours_to_complete
FROM ranked
WHERE position IN (floor((completions + 1) / 2.0), floor((completions + 2) / 2.0))
GROUP BY completed_on
ORDER BY completed_on
