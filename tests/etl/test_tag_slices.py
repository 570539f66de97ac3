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
from etl.tag_slices import footer_tag_values, tag_slices
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


TAGS = pa.array([["a", "b"], [], None, [None, "c"], ["d"]], pa.list_(pa.string()))
"""Two tags, none, a null list, a null tag beside one, one tag: 4 non-null tags."""


def _tasks_file(connection: DuckDBPyConnection, folder: Path, writer: str) -> Path:
    """The TAGS as silver: written as the worker writes it (DuckDB), by pyarrow in row groups of
    two rows, or by pyarrow told to write no statistics."""
    path = folder / f"{writer}.parquet"
    if writer == "duckdb":
        bare = _tasks_file(connection, folder, "no-statistics")
        engine.create_parquet_view(connection, "bare", bare)
        engine.copy_to_parquet(connection, "SELECT * FROM bare", path)
    else:
        pq.write_table(
            pa.table({"tags": TAGS}), path, row_group_size=2,
            write_statistics=writer != "no-statistics",
        )  # fmt: skip
    return path


WRITERS = ["duckdb", "row-groups-of-two", "no-statistics"]


@pytest.mark.parametrize("writer", WRITERS)
def test_the_slice_count_follows_the_non_null_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    connection = engine.connect(tmp_path / "spill")
    tasks_file = _tasks_file(connection, tmp_path, writer)
    monkeypatch.setattr(etl.tag_slices, "PAIRS_PER_SLICE", 4)
    assert tag_slices(connection, tasks_file) == ["TRUE"]

    monkeypatch.setattr(etl.tag_slices, "PAIRS_PER_SLICE", 3)

    assert tag_slices(connection, tasks_file) == ["hash(tag) % 2 = 0", "hash(tag) % 2 = 1"]


@pytest.mark.parametrize(("writer", "counted"), [("duckdb", 4), ("row-groups-of-two", 4)])
def test_the_footer_counts_the_tags_without_reading_a_row(
    tmp_path: Path, writer: str, counted: int
) -> None:
    connection = engine.connect(tmp_path / "spill")
    tasks_file = _tasks_file(connection, tmp_path, writer)

    assert footer_tag_values(connection, tasks_file) == counted


def test_a_footer_without_null_counts_is_not_taken_for_no_tags(tmp_path: Path) -> None:
    connection = engine.connect(tmp_path / "spill")
    tasks_file = _tasks_file(connection, tmp_path, "no-statistics")

    assert footer_tag_values(connection, tasks_file) is None


def test_the_footer_names_the_tags_leaf_as_expected(tmp_path: Path) -> None:
    """Pins the leaf's name in parquet_metadata: were a release to rename it, every count would
    fall back to reading the rows (still right, but slow)."""
    connection = engine.connect(tmp_path / "spill")
    tasks_file = _tasks_file(connection, tmp_path, "duckdb")

    leaves = connection.execute(
        "SELECT DISTINCT path_in_schema FROM parquet_metadata(?)", [str(tasks_file)]
    ).fetchall()

    assert leaves == [(etl.tag_slices.TAGS_LEAF,)]
