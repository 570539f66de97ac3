from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.dynamodb_export import find_export_files
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.synthetic import SyntheticTask, generate_tasks, to_dynamodb_item, write_export
from etl.transform import TransformResult, transform_export
from tests.etl.items import Item

SNAPSHOT = date(2026, 11, 25)
SYNTHETIC_TASKS = 3000

RunTransform = Callable[[Iterable[Item]], TransformResult]


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def run_transform(tmp_path: Path, lake: Path) -> RunTransform:
    """Write the given items as an export and transform it into `lake` for SNAPSHOT."""
    runs = 0

    def run(items: Iterable[Item]) -> TransformResult:
        nonlocal runs
        runs += 1
        export_dir = tmp_path / f"export-{runs}"
        write_export(items, export_dir, file_count=2)
        return transform_export(find_export_files(export_dir), lake, SNAPSHOT)

    return run


def read_partition(lake: Path, table: str, snapshot: date = SNAPSHOT) -> pa.Table:
    return pq.read_table(lake / partition_path(table, snapshot) / PARQUET_FILE_NAME)


def column_types(schema: pa.Schema) -> list[tuple[str, pa.DataType]]:
    """Names and types in order: what Glue declares, which has no notion of a required column."""
    return [(field.name, field.type) for field in schema]


@pytest.fixture(scope="session")
def synthetic_tasks() -> list[SyntheticTask]:
    return list(generate_tasks(SYNTHETIC_TASKS, SNAPSHOT, seed=7))


@pytest.fixture(scope="session")
def synthetic_lake(
    tmp_path_factory: pytest.TempPathFactory, synthetic_tasks: list[SyntheticTask]
) -> Path:
    """A lake transformed from an export of `synthetic_tasks`, shared by read-only tests."""
    root = tmp_path_factory.mktemp("synthetic")
    write_export((to_dynamodb_item(task) for task in synthetic_tasks), root / "export")
    transform_export(find_export_files(root / "export"), root / "lake", SNAPSHOT)
    return root / "lake"
