"""The analyst queries in docs/queries, run through `python -m etl.query` on a generated lake."""

import csv
import glob
import io
import json
import re
import shutil
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from etl.dynamodb_export import find_export_files
from etl.lake_layout import POINTER_NAME
from etl.query import connect_lake, main
from etl.schemas import LATEST_TABLES, TABLES
from etl.synthetic import SyntheticTask, generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from tests.etl.conftest import SNAPSHOT

QUERIES = Path(__file__).parents[2] / "docs" / "queries"
QUERY_FILES = sorted(QUERIES.glob("*.sql"))
# The one query that is a trend over every day by design; it reads one gold file per day.
HISTORY_QUERIES = {"completion_rate_per_day"}
YESTERDAY = SNAPSHOT - timedelta(days=1)

QueryFile = Callable[[str], list[dict[str, str]]]


@pytest.fixture(scope="module")
def yesterdays_tasks(synthetic_tasks: list[SyntheticTask]) -> list[SyntheticTask]:
    return synthetic_tasks[:1000]


@pytest.fixture(scope="module")
def two_day_lake(
    tmp_path_factory: pytest.TempPathFactory,
    synthetic_tasks: list[SyntheticTask],
    yesterdays_tasks: list[SyntheticTask],
) -> Path:
    root = tmp_path_factory.mktemp("two-days")
    for snapshot, tasks in ((YESTERDAY, yesterdays_tasks), (SNAPSHOT, synthetic_tasks)):
        export_dir = root / f"export-{snapshot}"
        write_export((to_dynamodb_item(task) for task in tasks), export_dir)
        transform_export(find_export_files(export_dir), root / "lake", snapshot)
    return root / "lake"


def run_query(
    lake: Path, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, str]]:
    monkeypatch.setenv("LAKE_ROOT", str(lake))
    assert main(args) == 0, capsys.readouterr().err
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


@pytest.fixture
def query(
    two_day_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> QueryFile:
    def run(name: str) -> list[dict[str, str]]:
        return run_query(two_day_lake, ["--file", str(QUERIES / name)], monkeypatch, capsys)

    return run


def _is_overdue(task: SyntheticTask, snapshot: date) -> bool:
    return task.status != "done" and task.due_date is not None and task.due_date < snapshot


def test_completion_rate_per_day(
    query: QueryFile,
    synthetic_tasks: list[SyntheticTask],
    yesterdays_tasks: list[SyntheticTask],
) -> None:
    rows = query("completion_rate_per_day.sql")

    assert [(row["month"], row["day"]) for row in rows] == [("11", "24"), ("11", "25")]
    for row, tasks in zip(rows, (yesterdays_tasks, synthetic_tasks), strict=True):
        done = sum(task.status == "done" for task in tasks)
        assert int(row["tasks_total"]) == len(tasks)
        assert int(row["done_total"]) == done
        assert float(row["completion_rate"]) == pytest.approx(done / len(tasks), abs=1e-4)


def test_overdue_per_user(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    overdue = Counter(task.user_id for task in synthetic_tasks if _is_overdue(task, SNAPSHOT))
    expected = sorted(overdue.items(), key=lambda pair: (-pair[1], pair[0]))[:20]

    rows = query("overdue_per_user.sql")

    assert [(row["user_id"], int(row["overdue"])) for row in rows] == expected


def test_median_time_to_complete(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    hours_by_day: dict[str, list[float]] = {}
    for task in synthetic_tasks:
        if task.completed_at is not None:
            hours = (task.completed_at - task.created_at).total_seconds() / 3600
            hours_by_day.setdefault(task.completed_at.date().isoformat(), []).append(hours)

    rows = query("median_time_to_complete.sql")

    assert {row["completed_on"] for row in rows} == set(hours_by_day)
    for row in rows:
        day_hours = hours_by_day[row["completed_on"]]
        assert int(row["completions"]) == len(day_hours)
        expected = statistics.median(day_hours)
        assert float(row["median_hours_to_complete"]) == pytest.approx(expected, abs=1e-4)


def test_tasks_created_per_day(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    created = Counter(task.created_at.date().isoformat() for task in synthetic_tasks)

    rows = query("tasks_created_per_day.sql")

    assert {row["created_on"]: int(row["tasks_created"]) for row in rows} == created
    assert [row["created_on"] for row in rows] == sorted(created)


def test_tag_popularity(query: QueryFile, synthetic_tasks: list[SyntheticTask]) -> None:
    per_tag = Counter(tag.lower() for task in synthetic_tasks for tag in set(task.tags or []))

    rows = query("tag_popularity.sql")

    assert [(row["tag"], int(row["tasks_total"])) for row in rows] == sorted(
        per_tag.items(), key=lambda pair: (-pair[1], pair[0])
    )


def test_tag_popularity_returns_the_top_hundred_of_free_form_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = list(generate_tasks(2000, SNAPSHOT, seed=3, tags="freeform"))
    write_export((to_dynamodb_item(task) for task in tasks), tmp_path / "export")
    transform_export(find_export_files(tmp_path / "export"), tmp_path / "lake", SNAPSHOT)
    per_tag = Counter(tag.lower() for task in tasks for tag in {t.lower() for t in task.tags or []})
    assert len(per_tag) > 1000, "a day of free-form tags"

    rows = run_query(
        tmp_path / "lake", ["--file", str(QUERIES / "tag_popularity.sql")], monkeypatch, capsys
    )

    assert len(rows) == 100
    assert [int(row["tasks_total"]) for row in rows] == sorted(per_tag.values(), reverse=True)[:100]


def test_tables_carry_string_partition_keys(
    two_day_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT typeof(year) AS t, count(DISTINCT day) AS days FROM tasks GROUP BY 1"

    assert run_query(two_day_lake, [sql], monkeypatch, capsys) == [{"t": "VARCHAR", "days": "2"}]


def test_bad_sql_is_one_line_on_stderr(
    two_day_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(two_day_lake))

    exit_code = main(["SELEC oops FROM tasks"])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert error.startswith("query failed: ")
    assert error.count("\n") == 1


def partitions_read(lake: Path, sql: str, tmp_path: Path) -> set[str]:
    """The `<table>/year=/month=/day=` folders DuckDB reads to answer `sql`, from its profile."""
    connection = connect_lake(str(lake))
    profile = tmp_path / "profile.json"
    connection.execute("PRAGMA enable_profiling = 'json'")
    connection.execute(f"PRAGMA profiling_output = '{profile}'")
    connection.execute(sql).fetchall()
    connection.execute("PRAGMA disable_profiling")

    def scanned(operator: dict[str, Any]) -> list[str]:
        # A scan names the files it read, comma-separated, or their glob; a plan may scan one
        # file twice (late materialization), so what counts is the set of partition folders.
        info = operator.get("extra_info", {})
        own = info["Filename(s)"].split(", ") if info.get("Function") == "READ_PARQUET" else []
        return own + [name for child in operator.get("children", []) for name in scanned(child)]

    patterns = [name for op in json.loads(profile.read_text())["operator"] for name in scanned(op)]
    files = {file for pattern in patterns for file in glob.glob(pattern)}
    return {str(Path(file).parent.relative_to(lake)) for file in files}


@pytest.mark.parametrize("path", QUERY_FILES, ids=[path.stem for path in QUERY_FILES])
def test_each_latest_day_query_reads_one_day(
    path: Path, two_day_lake: Path, tmp_path: Path
) -> None:
    read = partitions_read(two_day_lake, path.read_text(), tmp_path)

    if path.stem in HISTORY_QUERIES:
        assert {folder.split("/", 1)[1] for folder in read} == {
            "year=2026/month=11/day=24",
            "year=2026/month=11/day=25",
        }
    else:
        assert len(read) == 1
        assert read.pop().endswith("/year=2026/month=11/day=25")


def test_the_old_max_subquery_read_every_day(two_day_lake: Path, tmp_path: Path) -> None:
    newest = "(SELECT max(year || month || day) FROM tasks)"
    sql = f"SELECT count(*) FROM tasks WHERE year || month || day = {newest}"  # noqa: S608

    assert len(partitions_read(two_day_lake, sql, tmp_path)) == 2


def test_latest_views_hold_the_newest_day_without_partition_columns(
    two_day_lake: Path, synthetic_tasks: list[SyntheticTask]
) -> None:
    connection = connect_lake(str(two_day_lake))

    (rows,) = connection.execute("SELECT count(*) FROM tasks_latest").fetchone() or (0,)
    columns = [row[0] for row in connection.execute("DESCRIBE tasks_latest").fetchall()]

    assert rows == len(synthetic_tasks)
    assert columns == TABLES["tasks"].names


def athena_form(sql: str) -> str:
    """`sql` parsed and written back in Athena's dialect (Trino) by sqlglot."""
    (written,) = sqlglot.transpile(
        sql, read="trino", write="trino", error_level=sqlglot.ErrorLevel.RAISE
    )
    # sqlglot writes `x IS NOT NULL` as `NOT x IS NULL`: the same SQL in both dialects.
    return re.sub(r"NOT (\S+) IS NULL", r"\1 IS NOT NULL", written)


def athena_problems(sql: str) -> list[str]:
    """What in `sql` is not Athena SQL: syntax sqlglot had to rewrite, unknown functions, tables."""
    (tree,) = sqlglot.parse(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert tree is not None
    tokens = [
        [(t.token_type, t.text.lower()) for t in sqlglot.tokenize(text, read="trino")]
        for text in (sql, athena_form(sql))
    ]
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    catalog = set(TABLES) | set(LATEST_TABLES) | ctes
    return [
        *(["written differently in Trino: " + athena_form(sql)] if tokens[0] != tokens[1] else []),
        *(f"unknown function {node.name}" for node in tree.find_all(exp.Anonymous)),
        *(
            f"not a Glue table: {t.sql()}"
            for t in tree.find_all(exp.Table)
            if t.name not in catalog
        ),
    ]


@pytest.mark.parametrize("path", QUERY_FILES, ids=[path.stem for path in QUERY_FILES])
def test_each_query_is_athena_sql(path: Path) -> None:
    assert athena_problems(path.read_text()) == []


@pytest.mark.parametrize(
    "duckdb_only",
    [
        "SELECT status::varchar FROM tasks_latest",
        "SELECT * EXCLUDE (tags) FROM tasks_latest",
        "FROM tasks_latest SELECT status",
        "SELECT [1, 2] AS pair FROM tasks_latest",
        "SELECT list_sort(tags) FROM tasks_latest",
        "SELECT status FROM read_parquet('lake/tasks/*/*/*/*.parquet')",
        "SELECT status FROM tasks_latest QUALIFY row_number() OVER () = 1",
    ],
)
def test_duckdb_only_sql_is_caught(duckdb_only: str) -> None:
    try:
        problems = athena_problems(duckdb_only)
    except sqlglot.errors.ParseError:
        return
    assert problems


def _count(lake: Path, table: str) -> int:
    sql = f"SELECT count(*) FROM {table}"  # noqa: S608 - names from etl.schemas
    (rows,) = connect_lake(str(lake)).execute(sql).fetchone() or (0,)
    return int(rows)


def test_data_files_are_read_whatever_their_suffix(two_day_lake: Path, tmp_path: Path) -> None:
    """Athena's CTAS names files without `.parquet`; names starting `_` or `.` are not data."""
    copy = tmp_path / "ctas-lake"
    shutil.copytree(two_day_lake, copy)
    for file in copy.glob("*/*/*/*/*.parquet"):
        file.rename(file.with_name("20261125_120000_00001_abcde_" + file.stem))
        (file.parent / "_SUCCESS").write_text("")
        (file.parent / ".published-from").write_text("s3://lake/somewhere/")

    assert _count(copy, "tasks") == _count(two_day_lake, "tasks")
    assert _count(copy, "tasks_latest") == _count(two_day_lake, "tasks_latest")


def test_a_copy_of_the_bucket_reads_only_the_run_each_pointer_serves(
    two_day_lake: Path, tmp_path: Path
) -> None:
    """The bucket keeps every attempt's `run=` folder; `_published/…/pointer.json` names one."""
    bucket = tmp_path / "bucket-copy"
    for day in ("24", "25"):
        partition = f"year=2026/month=11/day={day}"
        served, stale = f"{partition}/run=b.try2", f"{partition}/run=a.try1"
        shutil.copytree(two_day_lake / "tasks" / partition, bucket / "tasks" / served)
        shutil.copytree(two_day_lake / "tasks" / partition, bucket / "tasks" / stale)
        pointer = bucket / "tasks" / "_published" / partition / POINTER_NAME
        pointer.parent.mkdir(parents=True)
        pointer.write_text(json.dumps({"location": f"s3://lake/silver/tasks/{served}/"}))

    connection = connect_lake(str(bucket))
    columns = [row[0] for row in connection.execute("DESCRIBE tasks").fetchall()]

    assert _count(bucket, "tasks") == _count(two_day_lake, "tasks")
    assert _count(bucket, "tasks_latest") == _count(two_day_lake, "tasks_latest")
    assert columns[-3:] == ["year", "month", "day"]
    assert "run" not in columns
