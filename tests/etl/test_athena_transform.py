"""The Athena engine's per-attempt statements: parsed, not run (moto cannot execute Athena queries;
the SELECTs they wrap are etl/sql/'s, run on DuckDB by the worker's tests and checked against
Athena's rules in test_athena_rules.py)."""

import re
from datetime import date

import sqlglot
from sqlglot import exp

from etl.athena_rules import violations
from etl.athena_transform import (
    attempt_statements,
    create_bronze_table,
    create_table_as,
    drop_table,
    run_table_name,
    staging_location,
)
from etl.lake_layout import new_attempt_key
from etl.schemas import TABLES

DATABASE = "tasklake_dev"
SNAPSHOT = date(2026, 11, 25)
ATTEMPT = "scheduled__2026-11-25T00:00:00+00:00.try2.0a1b2c3d"


def test_run_tables_have_glue_names_unique_to_the_attempt() -> None:
    names = {run_table_name("bronze_tasks", new_attempt_key("manual__x", 1)) for _ in range(20)}

    assert len(names) == 20
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in names)


def test_staging_location_is_the_attempt_folder_of_the_partition() -> None:
    assert staging_location("s3://lake/silver/tasks/", SNAPSHOT, ATTEMPT) == (
        f"s3://lake/silver/tasks/year=2026/month=11/day=25/run={ATTEMPT}/"
    )


def test_bronze_table_reads_the_export_folder_as_json_lines() -> None:
    ddl = create_bronze_table(DATABASE, "bronze_tasks_run", "s3://lake/bronze/run/data")

    tree = sqlglot.parse_one(ddl, read="hive")

    assert isinstance(tree, exp.Create)
    assert tree.kind == "TABLE"
    assert "org.openx.data.jsonserde.JsonSerDe" in ddl
    assert ddl.endswith("LOCATION 's3://lake/bronze/run/data/'")


def test_gold_ctas_writes_zstd_parquet_from_the_attempts_silver_table_only() -> None:
    location = staging_location("s3://lake/gold/user_daily_stats/", SNAPSHOT, ATTEMPT)

    sql = create_table_as(
        DATABASE,
        "user_daily_stats_run",
        table="user_daily_stats",
        snapshot_date=SNAPSHOT,
        bronze="bronze_tasks_run",
        tasks="tasks_ctas_run",
        location=location,
    )

    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    file_format = tree.find(exp.FileFormatProperty)
    properties = {
        prop.name.lower(): prop.text("value") for prop in tree.find_all(exp.Property) if prop.name
    }
    assert file_format is not None
    assert file_format.text("this").upper() == "PARQUET"
    assert {key: value for key, value in properties.items() if key != "parquet"} == {
        "write_compression": "ZSTD",
        "compression_level": "1",
        "external_location": location,
    }
    read = {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table)}
    # The table it creates, and the silver rows of the attempt: never the export again.
    assert read == {f"{DATABASE}.user_daily_stats_run", f"{DATABASE}.tasks_ctas_run"}
    assert [node.name for node in tree.find_all(exp.Anonymous)] == []


def test_drop_leaves_a_missing_table_alone() -> None:
    assert drop_table(DATABASE, "t") == f"DROP TABLE IF EXISTS `{DATABASE}`.`t`"


def test_an_attempt_creates_one_table_per_output_and_drops_all_it_made() -> None:
    locations = {
        table: staging_location(f"s3://lake/{table}/", SNAPSHOT, ATTEMPT) for table in TABLES
    }

    statements = attempt_statements(
        DATABASE,
        attempt_key=ATTEMPT,
        data_location="s3://lake/bronze/run/data/",
        locations=locations,
        snapshot_date=SNAPSHOT,
        users_data_location="s3://lake/bronze/users-run/data/",
    )

    external = [statements["create_bronze"], statements["create_users_bronze"]]
    created = [*external, *(statements[table] for table in TABLES)]
    made = [sqlglot.parse_one(sql, read="hive").find(exp.Table) for sql in created[:2]] + [
        sqlglot.parse_one(sql, read="trino").find(exp.Table) for sql in created[2:]
    ]
    names = [table.name for table in made if table is not None]
    dropped = [sqlglot.parse_one(sql, read="hive").find(exp.Table) for sql in statements["drops"]]
    assert sorted(names) == sorted(table.name for table in dropped if table is not None)
    # The role may create only these names.
    assert names[0].startswith("tasks_daily_bronze_")
    assert names[1].startswith("tasks_daily_bronze_users_")
    assert external[1].endswith("LOCATION 's3://lake/bronze/users-run/data/'")
    for name, table in zip(names[2:], TABLES, strict=True):
        assert name.startswith(f"{table}_ctas_")
    # The external tables last.
    assert [drop.rsplit(".", 1)[1] for drop in statements["drops"][-2:]] == [
        f"`{names[0]}`",
        f"`{names[1]}`",
    ]
    for table in TABLES:
        assert f"external_location = '{locations[table]}'" in statements[table]
    # users reads the users export and the attempt's silver rows.
    users_reads = {
        t.name for t in sqlglot.parse_one(statements["users"], read="trino").find_all(exp.Table)
    }
    assert users_reads == {names[1], names[2 + list(TABLES).index("users")], names[2]}


def _task_changes_ctas(compared_with: date | None) -> str:
    return create_table_as(
        DATABASE,
        "task_changes_run",
        table="task_changes",
        snapshot_date=SNAPSHOT,
        bronze="bronze_tasks_run",
        tasks="tasks_ctas_run",
        location=staging_location("s3://lake/gold/task_changes/", SNAPSHOT, ATTEMPT),
        compared_with=compared_with,
    )


def test_task_changes_reads_the_compared_day_as_one_partition_of_the_tasks_table() -> None:
    """Athena reads the compared day's folder only: the predicates are on the partition keys,
    literal strings, as docs/analysts.md ("Cheap queries") says a partition predicate must be."""
    sql = _task_changes_ctas(date(2026, 11, 23))

    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)

    read = {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table)}
    assert read == {
        f"{DATABASE}.task_changes_run",
        f"{DATABASE}.tasks_ctas_run",
        f"{DATABASE}.tasks",
    }
    (published,) = (t for t in tree.find_all(exp.Table) if t.name == "tasks")
    select = published.find_ancestor(exp.Select)
    assert select is not None
    where = select.args["where"]
    assert {(eq.this.name, eq.expression.name) for eq in where.find_all(exp.EQ)} == {
        ("year", "2026"),
        ("month", "11"),
        ("day", "23"),
    }
    assert "CAST('2026-11-23' AS date) AS compared_with" in sql
    assert [str(v) for v in violations(sql.split("AS\n", 1)[1])] == []


def test_task_changes_on_the_lakes_first_day_reads_no_published_day() -> None:
    sql = _task_changes_ctas(None)

    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)

    read = {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table)}
    assert read == {f"{DATABASE}.task_changes_run", f"{DATABASE}.tasks_ctas_run"}
    assert "CAST(NULL AS date) AS compared_with" in sql
