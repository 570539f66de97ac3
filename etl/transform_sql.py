"""The lake's one definition: a SELECT per table in etl/sql/, in the Trino dialect of Athena v3.

`tasks.sql` reads a relation (`${bronze}`) with one column `item`, the `Item` of each
DYNAMODB_JSON export line, typed as `BRONZE_ITEM_TYPE`: the attributes the lake uses, each a
struct of the type descriptor it is written with. An absent attribute, an unexpected descriptor or
`{"NULL": true}` reads as null, and any other attribute is ignored. `users.sql` reads the users
table's export the same way (`${users_bronze}`, typed as `USERS_ITEM_TYPE`). The gold tables and
`users` read the silver rows the tasks statement wrote (`${tasks}`), never the export again;
`task_changes` also reads the silver rows of the day it compares with (`${previous_tasks}`,
`${compared_with}`: see `ComparedSnapshot`). `EXPORT_RELATIONS` says which export each bronze
relation is over. Both engines run these
texts (etl/engines/duckdb.py on the worker, etl/athena_transform.py in Athena), in the order of
`TABLES`, each table after the ones it reads.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

from etl.schemas import TABLES

BRONZE_RELATION = "bronze_tasks"
USERS_BRONZE_RELATION = "bronze_users"
SQL_DIR = Path(__file__).with_name("sql")


def _attribute(name: str, descriptor: str, value_type: str = "string") -> str:
    return f"{name}:struct<{descriptor}:{value_type}>"


BRONZE_ITEM_TYPE = "struct<{}>".format(
    ",".join(
        [
            _attribute("user_id", "S"),
            _attribute("task_id", "S"),
            _attribute("status", "S"),
            _attribute("priority", "S"),
            _attribute("due_date", "S"),
            "tags:struct<L:array<struct<S:string>>,SS:array<string>>",
            _attribute("created_at", "S"),
            _attribute("updated_at", "S"),
            _attribute("completed_at", "S"),
            _attribute("version", "N"),
        ]
    )
)
"""Hive type of the `item` column, as the external table over an export declares it."""

USERS_ITEM_TYPE = "struct<{}>".format(
    ",".join(
        [
            _attribute("user_id", "S"),
            _attribute("kind", "S"),
            _attribute("created_at", "S"),
            _attribute("deleting_since", "S"),
            _attribute("enabled", "BOOL", "boolean"),
        ]
    )
)
"""The users (profile) table's attributes the lake keeps: never `email` or `name` (ADR 0005)."""

EXPORT_RELATIONS: dict[str, tuple[str, str]] = {
    "tasks": (BRONZE_RELATION, BRONZE_ITEM_TYPE),
    "users": (USERS_BRONZE_RELATION, USERS_ITEM_TYPE),
}
"""Each DynamoDB table the lake exports daily -> the relation over its export and its item type."""


@dataclass(frozen=True)
class ComparedSnapshot:
    """The silver `tasks` rows `task_changes` compares a snapshot day with.

    `day` is the newest published day before it (the day before, unless that one is missing);
    `relation` holds that day's rows: a view over its files on the worker, its partition of the
    `tasks` table in Athena. None instead of one: the lake has no earlier day.
    """

    day: date
    relation: str


def no_rows_of(relation: str) -> str:
    """A relation with the columns of `relation` and no rows."""
    return f"(SELECT * FROM {relation} WHERE false)"  # noqa: S608 - a relation name of ours


def table_query(
    table: str,
    snapshot_date: date,
    *,
    bronze: str = BRONZE_RELATION,
    tasks: str = "tasks",
    users_bronze: str = USERS_BRONZE_RELATION,
    compared: ComparedSnapshot | None = None,
    tag_slice: str = "TRUE",
) -> str:
    """The SELECT giving `table`'s rows for `snapshot_date` as Trino SQL.

    `bronze` and `users_bronze` name the relations over the two exports (a run's external tables
    in Athena), `tasks` the one holding the run's silver rows (in Athena, the table the
    attempt's tasks CTAS made), and `compared` the earlier day `task_changes` compares them with.
    `tag_slice`, a condition on one lower-cased `tag`, keeps `tag_daily_stats` to those tags.
    """
    if table not in TABLES:
        raise ValueError(f"not a lake table: {table}")
    template = Template((SQL_DIR / f"{table}.sql").read_text())
    return template.substitute(
        snapshot_date=snapshot_date.isoformat(),
        bronze=bronze,
        tasks=tasks,
        users_bronze=users_bronze,
        # Without an earlier day the statement gives no rows; the empty relation keeps it valid.
        previous_tasks=compared.relation if compared else no_rows_of(tasks),
        compared_with=f"'{compared.day.isoformat()}'" if compared else "NULL",
        tag_slice=tag_slice,
    ).strip()
