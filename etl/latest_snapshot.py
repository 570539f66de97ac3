"""`<table>_latest`: each lake table's newest snapshot day as an unpartitioned Glue table.

"The latest day" picked with `WHERE year || month || day = (SELECT max(...))` makes Athena read
every day's snapshot: it prunes partitions only on literal predicates, not on a subquery. So the
publish step also points `<table>_latest` at the folder the table's newest partition names; a
query of it reads that one folder. It is re-pointed from the catalog, not from the run, so a
backfill of an older day leaves it on the newest day, and any publish repairs it.
"""

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from etl.publish import newest_published_day, published_location
from etl.schemas import LATEST_TABLES

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

SNAPSHOT_DATE_PARAMETER = "snapshot_date"
# What GetTable returns that UpdateTable's TableInput also accepts.
_TABLE_INPUT_KEYS = {"Name", "Description", "Owner", "Retention", "TableType", "Parameters"}
_ATTEMPTS = 5

LATEST_OF = {table: latest for latest, table in LATEST_TABLES.items()}


def _newest(glue: GlueClient, database: str, table: str) -> tuple[date, str] | None:
    day = newest_published_day(glue, database, table)
    return None if day is None else (day, published_location(glue, database, table, day))


def _point(glue: GlueClient, database: str, latest: str, day: date, location: str) -> None:
    table = glue.get_table(DatabaseName=database, Name=latest)["Table"]
    if table["StorageDescriptor"]["Location"] == location:
        return
    table_input: Any = {key: value for key, value in table.items() if key in _TABLE_INPUT_KEYS}
    table_input["StorageDescriptor"] = {**table["StorageDescriptor"], "Location": location}
    table_input["Parameters"] = {
        **table.get("Parameters", {}),
        SNAPSHOT_DATE_PARAMETER: day.isoformat(),
    }
    # SkipArchive: a daily re-point is not a schema change worth a table version.
    glue.update_table(DatabaseName=database, TableInput=table_input, SkipArchive=True)


def point_latest_table(glue: GlueClient, database: str, table: str) -> str:
    """Point `<table>_latest` at `table`'s newest published partition; returns that location.

    Runs of two dates may publish at once (max_active_runs > 1): after re-pointing, the newest
    partition is read again, and the pointer moved again if another run changed it meanwhile.
    """
    newest = _newest(glue, database, table)
    for _ in range(_ATTEMPTS):
        if newest is None:
            return ""
        _point(glue, database, LATEST_OF[table], *newest)
        now_newest = _newest(glue, database, table)
        if now_newest == newest:
            return newest[1]
        newest = now_newest
    raise RuntimeError(f"{table}'s newest partition kept changing; {LATEST_OF[table]} is behind")


def point_latest_tables(glue: GlueClient, database: str, tables: Iterable[str]) -> dict[str, str]:
    """`point_latest_table` for each table a run published; returns location per latest table."""
    return {LATEST_OF[table]: point_latest_table(glue, database, table) for table in tables}
