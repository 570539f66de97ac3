"""The Glue view of the schemas, which the DAG compares with the deployed tables."""

from pathlib import Path

from etl.schemas import PARTITION_KEYS, TABLES, glue_columns
from tests.etl.conftest import column_types, read_partition


def test_tasks_columns_in_glue_terms() -> None:
    assert glue_columns("tasks") == [
        ("user_id", "string"),
        ("task_id", "string"),
        ("status", "string"),
        ("priority", "string"),
        ("due_date", "date"),
        ("tags", "array<string>"),
        ("created_at", "timestamp"),
        ("updated_at", "timestamp"),
        ("completed_at", "timestamp"),
        ("version", "bigint"),
        ("is_overdue", "boolean"),
        ("hours_to_complete", "double"),
        ("snapshot_date", "date"),
    ]


def test_every_table_has_a_glue_spelling_for_each_column() -> None:
    for table in TABLES:
        assert [name for name, _ in glue_columns(table)] == TABLES[table].names


def test_partition_keys_are_strings() -> None:
    assert PARTITION_KEYS == [("year", "string"), ("month", "string"), ("day", "string")]


def test_written_files_match_the_declared_schemas(synthetic_lake: Path) -> None:
    for table, schema in TABLES.items():
        assert column_types(read_partition(synthetic_lake, table).schema) == column_types(schema)
