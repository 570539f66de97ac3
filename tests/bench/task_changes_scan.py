"""Bytes the analysts' task_changes queries scan on a week of the benchmark's lake.

    python -m tests.bench.task_changes_scan --tasks 1000000

Builds a lake of `--tasks` synthetic tasks (25,000 users per million) over eight days, the
first day generated and each later one the day before with a day's churn (below), each day
transformed as the DAG does: compared with the day before. Then, for each SQL block of
docs/analysts.md that reads `task_changes`, sums the compressed column chunks it names in the
seven partitions its `day BETWEEN` predicate reads, from DuckDB's `parquet_metadata`, as
docs/analysts.md measures every query. Athena adds the Parquet footers and bills 10 MB at least.
"""

import argparse
import random
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from etl.compared_snapshot import local_compared_snapshot
from etl.dynamodb_export import find_export_files
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.schemas import TASK_CHANGES
from etl.synthetic import (
    PRIORITIES,
    TAGS,
    SyntheticTask,
    generate_tasks,
    to_dynamodb_item,
    write_export,
)
from etl.transform import transform_export
from tests.docs.markdown import ROOT, fences

FIRST_DAY = date(2026, 11, 18)
DAYS = 8
# A day's churn, as shares of the day before's tasks: completed (of the open ones), reopened (of
# the done ones), edited, deleted, and new tasks (one in ten done by the end of the day).
COMPLETED, REOPENED, EDITED, DELETED, CREATED = 0.015, 0.002, 0.02, 0.004, 0.012


def _churned(
    task: SyntheticTask, roll: float, moment: Callable[[], datetime], rng: random.Random
) -> SyntheticTask:
    """`task` completed, reopened, edited or left as it was, by where `roll` falls."""
    if task.status != "done" and roll < DELETED + COMPLETED:
        at = moment()
        return replace(
            task, status="done", completed_at=at, updated_at=at, version=task.version + 1
        )
    if task.status == "done" and roll < DELETED + REOPENED:
        return replace(
            task, status="todo", completed_at=None, updated_at=moment(), version=task.version + 1
        )
    if DELETED + COMPLETED <= roll < DELETED + COMPLETED + EDITED:
        return replace(
            task,
            priority=rng.choice(PRIORITIES),
            tags=rng.sample(TAGS, 2),
            updated_at=moment(),
            version=task.version + 1,
        )
    return task


def next_day(tasks: list[SyntheticTask], day: date, rng: random.Random) -> list[SyntheticTask]:
    """The tasks at the end of `day`, from those at the end of the day before."""
    start = datetime.combine(day, time(), tzinfo=UTC)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.random() * 86_399)

    changed: list[SyntheticTask] = []
    for task in tasks:
        roll = rng.random()
        if roll >= DELETED:
            changed.append(_churned(task, roll, moment, rng))
    users = sorted({task.user_id for task in tasks})
    for n in range(int(len(tasks) * CREATED)):
        created = moment()
        done = rng.random() < 0.1
        changed.append(
            SyntheticTask(
                user_id=rng.choice(users),
                task_id=f"{day:%Y%m%d}-{n:07d}",
                title="New task",
                description=None,
                status="done" if done else "todo",
                priority=rng.choice(PRIORITIES),
                due_date=None,
                tags=None,
                created_at=created,
                updated_at=created,
                completed_at=created + timedelta(minutes=rng.randint(1, 60)) if done else None,
                version=1,
            )
        )
    return changed


def build_lake(tasks_count: int, work: Path) -> Path:
    lake = work / "lake"
    rng = random.Random(3)
    tasks = list(generate_tasks(tasks_count, FIRST_DAY, seed=1))
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        if offset:
            tasks = next_day(tasks, day, rng)
        export = work / f"export-{day}"
        write_export((to_dynamodb_item(task) for task in tasks), export)
        transform_export(find_export_files(export), lake, day, local_compared_snapshot(lake, day))
        print(f"{day}: {len(tasks)} tasks", flush=True)
    return lake


def task_changes_queries() -> list[str]:
    text = (ROOT / "docs" / "analysts.md").read_text()
    return [fence.text for fence in fences(text) if fence.language == "sql"
            and re.search(r"\bFROM task_changes\b", fence.text)]  # fmt: skip


def scanned_bytes(lake: Path, sql: str) -> int:
    tree = sqlglot.parse_one(sql, read="trino")
    columns = {column.name for column in tree.find_all(exp.Column)} & set(TASK_CHANGES.names)
    days = [FIRST_DAY + timedelta(days=offset) for offset in range(1, DAYS)]
    files = [str(lake / partition_path("task_changes", day) / PARQUET_FILE_NAME) for day in days]
    (total,) = duckdb.execute(
        "SELECT sum(total_compressed_size) FROM parquet_metadata(?) "
        "WHERE path_in_schema IN (SELECT unnest(?))",
        [files, sorted(columns)],
    ).fetchone() or (0,)
    return int(total or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path(".local/bench-task-changes"))
    args = parser.parse_args()
    lake = build_lake(args.tasks, args.work)
    for sql in task_changes_queries():
        first_line = next(line for line in sql.splitlines() if line.strip())
        print(f"{scanned_bytes(lake, sql) / 1e6:.2f} MB: {first_line}")


if __name__ == "__main__":
    main()
