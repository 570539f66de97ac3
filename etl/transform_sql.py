"""The transform as SQL: each lake table defined once, in the Trino dialect Athena v3 speaks.

The statements in `etl/sql/` read a relation `bronze_tasks` with one column `item`, the `Item` of
each DYNAMODB_JSON export line, typed as `BRONZE_ITEM_TYPE`: the attributes the lake uses, each a
struct of the type descriptor it is written with. Like etl/dynamodb_export.py's reader, an absent
attribute, an unexpected descriptor or `{"NULL": true}` reads as null, and any other attribute is
ignored. The gold tables read the silver rows as `tasks`, given to them as a common table
expression, so all three are computed from the export alone. tests/etl/test_sql_transform.py
proves them equal to the pyarrow transform by running them on DuckDB.
"""

from datetime import date
from pathlib import Path
from string import Template

from etl.schemas import TABLES

BRONZE_RELATION = "bronze_tasks"
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


def _statement(table: str, snapshot_date: date, bronze: str) -> str:
    template = Template((SQL_DIR / f"{table}.sql").read_text())
    return template.substitute(snapshot_date=snapshot_date.isoformat(), bronze=bronze).strip()


def table_query(table: str, snapshot_date: date, bronze: str = BRONZE_RELATION) -> str:
    """The SELECT giving `table`'s rows for `snapshot_date` as Trino SQL.

    `bronze` names the relation over the export (a run's external table in Athena).
    """
    if table not in TABLES:
        raise ValueError(f"not a lake table: {table}")
    tasks = _statement("tasks", snapshot_date, bronze)
    if table == "tasks":
        return tasks
    return f"WITH tasks AS (\n{tasks}\n)\n{_statement(table, snapshot_date, bronze)}"
