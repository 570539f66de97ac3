"""Which days the lake does not publish, and which of those can no longer be rebuilt.

Freshness looks only at the newest day, so a day skipped in between (MWAA down, the DAG paused,
a run that kept failing) goes unnoticed. This lists, from the day the lake began (a table's first
published partition) to a run's own day, every day some lake table has no published Glue
partition for. Days before a table's first published partition are not gaps: the lake did not
exist yet.

A missing day can be rebuilt while DynamoDB can still export it (its end is not before the
table's earliest restorable time, at most 35 days back) or while bronze still holds an export
of it (`etl.bronze.days_with_bronze`; kept `BRONZE_RETENTION_DAYS`). Any other missing day is
lost for good: counted on its own, with its own alarm.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from etl.publish import published_days

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any


def days_without(published: set[date], last: date) -> list[date]:
    """The days from the first of `published` to `last` (inclusive) that `published` lacks.

    With nothing published there is no lake yet, and so no gap.
    """
    if not published:
        return []
    first = min(published)
    days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return [day for day in days if day not in published]


def missing_partitions(
    glue: GlueClient, database: str, tables: Iterable[str], last: date
) -> dict[str, list[date]]:
    """Per table, the days since its first published partition up to `last` with none."""
    return {table: days_without(published_days(glue, database, table), last) for table in tables}


def missing_days(missing: dict[str, list[date]]) -> list[date]:
    """The days at least one table lacks, oldest first: what a backfill has to rerun."""
    return sorted({day for days in missing.values() for day in days})


def unrebuildable_days(
    missing: Iterable[date], first_exportable: date | None, with_bronze: set[date]
) -> list[date]:
    """The missing days neither DynamoDB nor bronze can give back, oldest first.

    `first_exportable` is the oldest day DynamoDB can still export (None: it can export no
    past day, as with a scan); `with_bronze` the days bronze holds an export of.
    """
    return [
        day
        for day in sorted(missing)
        if day not in with_bronze and (first_exportable is None or day < first_exportable)
    ]


def describe(missing: dict[str, list[date]]) -> str:
    """One log line naming each gap, for the runbook's backfill command."""
    gaps = [
        f"{table}: {', '.join(day.isoformat() for day in days)}"
        for table, days in sorted(missing.items())
        if days
    ]
    return "missing partitions: " + ("; ".join(gaps) if gaps else "none")
