"""Which recent days the lake does not publish: the gaps catchup could not fill.

Freshness looks only at the newest day, so a day skipped in between (MWAA down, the DAG paused,
a run that kept failing) goes unnoticed until its export is out of DynamoDB's point-in-time
window and it can never be rebuilt. This lists, for a window of days ending at a run's own day,
every day some lake table has no published Glue partition for. Days before a table's first
published partition are not gaps: the lake did not exist yet.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from etl.publish import published_days

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

WINDOW_DAYS = 35
"""DynamoDB's point-in-time window: a gap older than this can no longer be exported."""


def days_without(published: set[date], last: date, window_days: int = WINDOW_DAYS) -> list[date]:
    """The days of the `window_days` ending at `last` (inclusive) that `published` lacks.

    The window starts no earlier than the first published day; with nothing published there is
    no lake yet, and so no gap.
    """
    if not published:
        return []
    first = max(min(published), last - timedelta(days=window_days - 1))
    days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return [day for day in days if day not in published]


def missing_partitions(
    glue: GlueClient, database: str, tables: Iterable[str], last: date
) -> dict[str, list[date]]:
    """Per table, the days of the window ending at `last` with no published partition."""
    return {table: days_without(published_days(glue, database, table), last) for table in tables}


def missing_days(missing: dict[str, list[date]]) -> list[date]:
    """The days at least one table lacks, oldest first: what a backfill has to rerun."""
    return sorted({day for days in missing.values() for day in days})


def describe(missing: dict[str, list[date]]) -> str:
    """One log line naming each gap, for the runbook's backfill command."""
    gaps = [
        f"{table}: {', '.join(day.isoformat() for day in days)}"
        for table, days in sorted(missing.items())
        if days
    ]
    return "missing partitions: " + ("; ".join(gaps) if gaps else "none")
