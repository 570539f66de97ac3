"""`python -m etl.transform_cli`: bad input ends with one line on stderr and no partition."""

import gzip
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from etl.partition_output import partition_path
from etl.schemas import TABLES
from etl.synthetic import write_export
from etl.transform_cli import main
from tests.etl.items import task_item


def _published_files(lake: Path) -> list[Path]:
    return [path for path in lake.rglob("*") if path.is_file()] if lake.exists() else []


def test_transforms_an_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_export([task_item("u1", "t1"), task_item("u2", "t2")], tmp_path / "export")

    exit_code = main([str(tmp_path / "export"), str(tmp_path / "lake"), "2026-11-25"])

    assert exit_code == 0
    assert "tasks: 2 rows" in capsys.readouterr().out
    assert len(_published_files(tmp_path / "lake")) == len(TABLES)


def test_transforms_the_users_export_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_export([task_item("u1", "t1")], tmp_path / "export")
    profile = {"user_id": {"S": "u1"}, "kind": {"S": "user"}}
    write_export([profile], tmp_path / "users")

    users = ["--users-export", str(tmp_path / "users")]
    exit_code = main([str(tmp_path / "export"), str(tmp_path / "lake"), "2026-11-25", *users])

    assert exit_code == 0
    assert "users: 1 rows" in capsys.readouterr().out


def test_a_later_day_compares_with_the_lakes_newest_earlier_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_export([task_item("u1", "t1")], tmp_path / "day-1")
    write_export([task_item("u1", "t1"), task_item("u2", "t2")], tmp_path / "day-3")
    lake = tmp_path / "lake"

    assert main([str(tmp_path / "day-1"), str(lake), "2026-11-23"]) == 0
    assert main([str(tmp_path / "day-3"), str(lake), "2026-11-25"]) == 0

    assert "task_changes: 1 rows" in capsys.readouterr().out
    changes = pq.read_table(lake / partition_path("task_changes", date(2026, 11, 25)))
    assert changes.select(["task_id", "change", "compared_with"]).to_pylist() == [
        {"task_id": "t2", "change": "appeared", "compared_with": date(2026, 11, 23)}
    ]


def test_missing_export_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main([str(tmp_path / "nowhere"), str(tmp_path / "lake"), "2026-11-25"])

    assert exit_code == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert _published_files(tmp_path / "lake") == []


def test_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_export([task_item("u1", "t1")], tmp_path / "export")

    exit_code = main([str(tmp_path / "export"), str(tmp_path / "lake"), "2026-02-30"])

    error = capsys.readouterr().err
    assert exit_code == 2
    assert error == "transform failed: not a YYYY-MM-DD date: '2026-02-30'\n"
    assert _published_files(tmp_path / "lake") == []


def test_corrupt_gzip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_export([task_item("u1", "t1"), task_item("u2", "t2")], tmp_path / "export")
    paths[1].write_bytes(paths[1].read_bytes()[:20])

    exit_code = main([str(tmp_path / "export"), str(tmp_path / "lake"), "2026-11-25"])

    assert exit_code == 1
    assert capsys.readouterr().err.startswith("transform failed: ")
    assert _published_files(tmp_path / "lake") == []


def test_corrupt_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_export([task_item("u1", "t1")], tmp_path / "export", file_count=1)
    with gzip.open(paths[0], "at", encoding="utf-8") as export_file:
        export_file.write('{"Item": {"user_id": {"S": "u2"}, "task_id": \n')

    exit_code = main([str(tmp_path / "export"), str(tmp_path / "lake"), "2026-11-25"])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert error.startswith("transform failed: ")
    assert error.count("\n") == 1
    assert _published_files(tmp_path / "lake") == []


def test_line_that_is_not_an_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_export([task_item("u1", "t1"), {"task_id": {"S": "no-user"}}], tmp_path / "export")

    exit_code = main([str(tmp_path / "export"), str(tmp_path / "lake"), "2026-11-25"])

    assert exit_code == 1
    assert "has no Item with a user_id and task_id" in capsys.readouterr().err
    assert _published_files(tmp_path / "lake") == []
