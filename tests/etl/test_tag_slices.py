"""`tag_daily_stats` in slices of the tag space: the rows of one pass, one file, no leftovers."""

from pathlib import Path

import pytest

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


def test_the_slice_count_follows_the_task_tag_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = engine.connect(tmp_path / "spill")
    connection.execute(
        "CREATE TABLE tasks AS SELECT * FROM (VALUES (['a', 'b']), (['c']), (NULL)) AS t(tags)"
    )
    assert tag_slices(connection, "tasks") == ["TRUE"]

    monkeypatch.setattr(etl.tag_slices, "PAIRS_PER_SLICE", 2)

    assert tag_slices(connection, "tasks") == ["hash(tag) % 2 = 0", "hash(tag) % 2 = 1"]
