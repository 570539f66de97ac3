"""`tag_daily_stats` in slices of the tag space: the rows of one pass, one file, no leftovers."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from duckdb import DuckDBPyConnection

import etl.tag_slices
from etl.dynamodb_export import find_export_files
from etl.engines import duckdb as engine
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.synthetic import generate_tasks, to_dynamodb_item, write_export
from etl.tag_slices import tag_slices
from etl.transform import transform_export
from tests.etl.conftest import SNAPSHOT, read_partition

TASKS = 400


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Free-form tags, some repeated in another case on one task: the shape slices are for."""
    root = tmp_path_factory.mktemp("freeform") / "export"
    tasks = generate_tasks(TASKS, SNAPSHOT, seed=3, tags="freeform", giant_user_share=0.25)
    write_export((to_dynamodb_item(task) for task in tasks), root)
    return root


def _tag_rows(export: Path, lake: Path) -> list[dict[str, object]]:
    transform_export(find_export_files(export), lake, SNAPSHOT)
    rows: list[dict[str, object]] = read_partition(lake, "tag_daily_stats").to_pylist()
    return sorted(rows, key=lambda row: str(row["tag"]))


def test_slices_give_exactly_the_rows_of_one_pass(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _tag_rows(export, tmp_path / "whole")
    monkeypatch.setattr(etl.tag_slices, "PAIRS_PER_SLICE", 100)

    sliced = _tag_rows(export, tmp_path / "sliced")

    assert len(whole) > 100
    assert sliced == whole
    # One file a partition, as publish expects: the slices' own files are gone.
    folder = tmp_path / "sliced" / partition_path("tag_daily_stats", SNAPSHOT)
    assert [path.name for path in folder.iterdir()] == [PARQUET_FILE_NAME]


def _tasks_file(connection: DuckDBPyConnection, folder: Path, *, statistics: bool) -> Path:
    """Silver-shaped tags: two tags, none, a null list, a null tag beside one, one tag. With
    statistics, written as the worker writes silver (DuckDB); without, by pyarrow told not to."""
    tags = pa.array([["a", "b"], [], None, [None, "c"], ["d"]], pa.list_(pa.string()))
    bare = folder / "bare.parquet"
    pq.write_table(pa.table({"tags": tags}), bare, write_statistics=False)
    if not statistics:
        return bare
    engine.create_parquet_view(connection, "bare", bare)
    engine.copy_to_parquet(connection, "SELECT * FROM bare", folder / "tasks.parquet")
    return folder / "tasks.parquet"


@pytest.mark.parametrize("statistics", [True, False], ids=["from-footer", "row-by-row"])
def test_the_slice_count_follows_the_non_null_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statistics: bool
) -> None:
    connection = engine.connect(tmp_path / "spill")
    tasks_file = _tasks_file(connection, tmp_path, statistics=statistics)
    monkeypatch.setattr(etl.tag_slices, "PAIRS_PER_SLICE", 4)
    assert tag_slices(connection, tasks_file) == ["TRUE"]

    monkeypatch.setattr(etl.tag_slices, "PAIRS_PER_SLICE", 3)

    assert tag_slices(connection, tasks_file) == ["hash(tag) % 2 = 0", "hash(tag) % 2 = 1"]


def test_the_footer_names_the_tags_leaf_as_expected(tmp_path: Path) -> None:
    """Pins the leaf's name in parquet_metadata: were a release to rename it, every count would
    fall back to reading the rows (still right, but slow)."""
    connection = engine.connect(tmp_path / "spill")
    tasks_file = _tasks_file(connection, tmp_path, statistics=True)

    leaves = connection.execute(
        "SELECT path_in_schema, num_values, stats_null_count FROM parquet_metadata(?)",
        [str(tasks_file)],
    ).fetchall()

    assert leaves == [(etl.tag_slices.TAGS_LEAF, 7, 3)]
