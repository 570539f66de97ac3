"""The statements the Athena engine runs for one attempt, as SQL strings (no AWS calls here).

Per attempt: an external table over each export's data folder (the tasks table's and the users
table's, `EXPORT_RELATIONS`), one `CREATE TABLE AS` per lake
table writing Parquet (zstd) into the attempt's staging folder, the folder etl/publish.py stages
the worker's files into, and a DROP of every table made, which leaves the files in place. Each
CTAS runs the table's statement from etl/sql/ as written; the gold ones and `users` read the
table the attempt's `tasks` CTAS made, so they run after it, and `task_changes` also reads the
compared day's partition of the published `tasks` table.
The DDL is Hive's dialect (backticks), the CTAS Trino's (double quotes), as Athena requires.
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from etl.engines import ZSTD_LEVEL
from etl.lake_layout import partition_suffix, partition_values
from etl.schemas import PARTITION_KEYS, TABLES
from etl.transform_sql import BRONZE_ITEM_TYPE, EXPORT_RELATIONS, ComparedSnapshot, table_query
from etl.validation import ITEM_TABLE

JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
BRONZE_TABLE_PREFIX = "tasks_daily_bronze"
OUTPUT_TABLE_SUFFIX = "_ctas"
"""Per-attempt tables are named `tasks_daily_bronze_<attempt>` (the users export's
`tasks_daily_bronze_users_<attempt>`) and `<lake table>_ctas_<attempt>`; the MWAA role may
create and delete only tables named so (infra/orchestration.yaml)."""


def bronze_table_prefix(source: str) -> str:
    """The external table's name prefix for the export of `source` (a key of EXPORT_RELATIONS)."""
    return BRONZE_TABLE_PREFIX if source == "tasks" else f"{BRONZE_TABLE_PREFIX}_{source}"


def run_table_name(prefix: str, attempt_key: str) -> str:
    """A Glue table name unique to the attempt: lower-case letters, digits and underscores."""
    return f"{prefix}_{re.sub(r'[^a-z0-9]+', '_', attempt_key.lower()).strip('_')}"


def staging_location(table_location: str, snapshot_date: date, attempt_key: str) -> str:
    """`<table location>year=…/month=…/day=…/run=<attempt key>/`, as publish stages it."""
    return f"{table_location.rstrip('/')}/{partition_suffix(snapshot_date)}run={attempt_key}/"


def create_bronze_table(
    database: str, name: str, data_location: str, item_type: str = BRONZE_ITEM_TYPE
) -> str:
    """An external table over the DYNAMODB_JSON files in `data_location` (their folder only)."""
    return (
        f"CREATE EXTERNAL TABLE `{database}`.`{name}` (`item` {item_type})\n"
        f"ROW FORMAT SERDE '{JSON_SERDE}'\n"
        f"LOCATION '{data_location.rstrip('/')}/'"
    )


def published_day(database: str, table: str, day: date) -> str:
    """The rows of one published day of a lake table, chosen by partition keys: Athena reads only
    that partition's folder, where a predicate on `snapshot_date` would open every day's."""
    keys = " AND ".join(
        f"\"{key}\" = '{value}'"
        for (key, _), value in zip(PARTITION_KEYS, partition_values(day), strict=True)
    )
    return f'(SELECT * FROM "{database}"."{table}" WHERE {keys})'  # noqa: S608 - our names


def create_table_as(
    database: str,
    name: str,
    *,
    table: str,
    snapshot_date: date,
    bronze: str,
    tasks: str,
    location: str,
    users_bronze: str = "",
    compared_with: date | None = None,
) -> str:
    """CTAS writing `table`'s rows for `snapshot_date` to `location`, from the `bronze` table
    (silver), the attempt's `tasks` table (gold) or both it and `users_bronze` (users);
    `task_changes` also from the published `tasks` of `compared_with` (None: the lake has no
    earlier day)."""
    compared = (
        ComparedSnapshot(compared_with, published_day(database, ITEM_TABLE, compared_with))
        if compared_with is not None
        else None
    )
    query = table_query(
        table,
        snapshot_date,
        bronze=f'"{database}"."{bronze}"',
        tasks=f'"{database}"."{tasks}"',
        users_bronze=f'"{database}"."{users_bronze}"',
        compared=compared,
    )
    return (
        f'CREATE TABLE "{database}"."{name}"\n'
        "WITH (format = 'PARQUET', write_compression = 'ZSTD', "
        f"compression_level = {ZSTD_LEVEL}, external_location = '{location}')\n"
        f"AS\n{query}"
    )


def drop_table(database: str, name: str) -> str:
    return f"DROP TABLE IF EXISTS `{database}`.`{name}`"


def attempt_statements(
    database: str,
    *,
    attempt_key: str,
    data_location: str,
    locations: Mapping[str, str],
    snapshot_date: date,
    users_data_location: str,
    compared_with: date | None = None,
) -> dict[str, Any]:
    """Every statement of one attempt, keyed as the DAG's Athena tasks take them.

    `create_bronze` makes the attempt's external table over the tasks export's `data_location`,
    `create_users_bronze` the one over the users export's; each lake table's name keys its CTAS
    into `locations[table]` (its staging folder); `drops` removes every table the attempt made,
    the external ones last. `compared_with` is the published day `task_changes` compares with
    (etl/compared_snapshot.py).
    """
    data_locations = {"tasks": data_location, "users": users_data_location}
    bronze = {
        source: run_table_name(bronze_table_prefix(source), attempt_key)
        for source in EXPORT_RELATIONS
    }
    outputs = {
        table: run_table_name(f"{table}{OUTPUT_TABLE_SUFFIX}", attempt_key) for table in TABLES
    }
    statements: dict[str, Any] = {
        create_bronze_key(source): create_bronze_table(
            database, bronze[source], data_locations[source], item_type
        )
        for source, (_, item_type) in EXPORT_RELATIONS.items()
    }
    for table, name in outputs.items():
        statements[table] = create_table_as(
            database,
            name,
            table=table,
            snapshot_date=snapshot_date,
            bronze=bronze["tasks"],
            tasks=outputs["tasks"],
            location=locations[table],
            users_bronze=bronze["users"],
            compared_with=compared_with,
        )
    made = [*outputs.values(), *bronze.values()]
    statements["drops"] = [drop_table(database, name) for name in made]
    return statements


def create_bronze_key(source: str) -> str:
    """The statement key (and the DAG's `athena_<key>` task) of an export's external table."""
    return "create_bronze" if source == "tasks" else f"create_{source}_bronze"
