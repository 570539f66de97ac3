"""Benchmark the lake transform against a naive pandas job and DuckDB, on one synthetic export.

    python -m tests.bench.etl_transform --tasks 1000000

Each contender runs in a fresh subprocess so its peak RSS is its own (read with `os.wait4`).
The export is generated once per task count and cached under the work folder.
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from etl.compared_snapshot import PublishedTasks
from etl.dynamodb_export import find_export_files
from etl.partition_output import partition_path
from etl.synthetic import generate_tasks, to_dynamodb_item, write_export
from etl.transform import transform_export
from infra.local.progress import Progress


def run_project(
    export_dir: Path, out_dir: Path, snapshot_date: date, compared: PublishedTasks | None = None
) -> None:
    """The project's transform; `compared` is the day `task_changes` compares with, if any."""
    transform_export(find_export_files(export_dir), out_dir, snapshot_date, compared)


def run_naive_pandas(export_dir: Path, out_dir: Path, snapshot_date: date) -> None:
    """What a first version usually looks like: every item through boto3 into one DataFrame."""
    # Imported here, not at the top, so only this contender's process pays for pandas and boto3.
    import pandas as pd  # type: ignore[import-untyped]  # noqa: PLC0415
    from boto3.dynamodb.types import TypeDeserializer  # type: ignore[import-untyped]  # noqa: PLC0415

    deserializer = TypeDeserializer()
    records: list[dict[str, Any]] = []
    for path in find_export_files(export_dir):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                item = json.loads(line)["Item"]
                records.append(
                    {key: deserializer.deserialize(value) for key, value in item.items()}
                )
    frame = pd.DataFrame.from_records(records)
    tasks = pd.DataFrame(
        {
            "user_id": frame["user_id"],
            "task_id": frame["task_id"],
            "status": frame["status"],
            "priority": frame["priority"],
            "due_date": pd.to_datetime(frame["due_date"]).dt.date,
            "tags": frame["tags"],
            "created_at": pd.to_datetime(frame["created_at"], utc=True),
            "updated_at": pd.to_datetime(frame["updated_at"], utc=True),
            "completed_at": pd.to_datetime(frame["completed_at"], utc=True),
            "version": frame["version"].astype("int64"),
        }
    )
    tasks["year"] = f"{snapshot_date:%Y}"
    tasks["month"] = f"{snapshot_date:%m}"
    tasks["day"] = f"{snapshot_date:%d}"
    tasks.to_parquet(
        out_dir / "tasks", partition_cols=["year", "month", "day"], compression="zstd", index=False
    )


_DUCKDB_ITEM_TYPE = """STRUCT(
    user_id STRUCT(S VARCHAR), task_id STRUCT(S VARCHAR), status STRUCT(S VARCHAR),
    priority STRUCT(S VARCHAR), due_date STRUCT(S VARCHAR), tags STRUCT(L STRUCT(S VARCHAR)[]),
    created_at STRUCT(S VARCHAR), updated_at STRUCT(S VARCHAR), completed_at STRUCT(S VARCHAR),
    version STRUCT(N VARCHAR))"""


def run_duckdb(export_dir: Path, out_dir: Path, snapshot_date: date) -> None:
    """The near-limit reference: same columns, no sort, no gold tables."""
    import duckdb  # noqa: PLC0415 - only this contender's process loads DuckDB

    files = str(export_dir / "data" / "*.json.gz")
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"""
        COPY (
            SELECT
                Item.user_id.S AS user_id,
                Item.task_id.S AS task_id,
                Item.status.S AS status,
                Item.priority.S AS priority,
                CAST(Item.due_date.S AS DATE) AS due_date,
                coalesce(list_transform(Item.tags.L, lambda tag: tag.S), []) AS tags,
                CAST(Item.created_at.S AS TIMESTAMPTZ) AS created_at,
                CAST(Item.updated_at.S AS TIMESTAMPTZ) AS updated_at,
                CAST(Item.completed_at.S AS TIMESTAMPTZ) AS completed_at,
                CAST(Item.version.N AS BIGINT) AS version,
                coalesce(Item.status.S <> 'done' AND CAST(Item.due_date.S AS DATE) < DATE
                    '{snapshot_date}', false) AS is_overdue,
                date_diff('microsecond', CAST(Item.created_at.S AS TIMESTAMPTZ),
                    CAST(Item.completed_at.S AS TIMESTAMPTZ)) / 3600e6 AS hours_to_complete,
                '{snapshot_date:%Y}' AS year, '{snapshot_date:%m}' AS month,
                '{snapshot_date:%d}' AS day
            FROM read_json('{files}', format = 'newline_delimited',
                           columns = {{'Item': '{_DUCKDB_ITEM_TYPE}'}})
        ) TO '{out_dir / "tasks"}'
        (FORMAT parquet, PARTITION_BY (year, month, day), COMPRESSION zstd)
        """)  # noqa: S608 - benchmark over our own synthetic files


def cached_export(workdir: Path, tasks: int, snapshot_date: date, user_ids: str = "uuid") -> Path:
    """The synthetic export of `tasks` tasks under `workdir`, generated on first use."""
    suffix = "" if user_ids == "uuid" else f"-{user_ids}"
    export_dir = workdir / f"export-{tasks}{suffix}"
    if not export_dir.exists():
        print(f"generating {tasks} tasks into {export_dir} …", flush=True)
        partial_dir = export_dir.with_name(export_dir.name + ".partial")
        shutil.rmtree(partial_dir, ignore_errors=True)
        generated = generate_tasks(tasks, snapshot_date, user_ids=user_ids)
        tracked = Progress("generated", tasks).track(generated)
        write_export((to_dynamodb_item(task) for task in tracked), partial_dir)
        partial_dir.rename(export_dir)
    return export_dir


def positive_count(text: str) -> int:
    """An argparse type for `--repeat`: a whole number of 1 or more (0 rounds measure nothing)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return int(text)


CONTENDERS: dict[str, Callable[[Path, Path, date], None]] = {
    "project transform": run_project,
    "naive pandas": run_naive_pandas,
    "duckdb reference": run_duckdb,
}


def parquet_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*.parquet"))


def _measure(
    name: str, export_dir: Path, out_dir: Path, snapshot_date: date
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS bytes of one contender in its own process."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    command = [sys.executable, "-m", "tests.bench.etl_transform", "--run", name]
    command += ["--export", str(export_dir), "--out", str(out_dir), "--date", str(snapshot_date)]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 25))
    parser.add_argument("--workdir", type=Path, default=Path(".local/bench"))
    parser.add_argument("--only", action="append", choices=list(CONTENDERS))
    parser.add_argument(
        "--repeat",
        type=positive_count,
        default=1,
        help="runs per contender; the fastest wall time is shown",
    )
    parser.add_argument("--run", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        CONTENDERS[args.run](args.export, args.out, args.date)
        return

    export_dir = cached_export(args.workdir, args.tasks, args.date)
    gz_bytes = sum(path.stat().st_size for path in find_export_files(export_dir))
    print(f"export: {args.tasks} tasks, {gz_bytes / 1e6:.1f} MB gzipped; {os.cpu_count()} cores")
    names = args.only or list(CONTENDERS)
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in names}
    # Rounds interleave the contenders, so a noisy neighbour slows all of them alike.
    progress = Progress("contender runs", args.repeat * len(names), interval=0)
    for _ in range(args.repeat):
        for name in names:
            runs[name].append(_measure(name, export_dir, _out_dir(args.workdir, name), args.date))
            progress.advance()
    print(f"best of {args.repeat} interleaved round(s); peak RSS is the worst round's")
    header = f"{'contender':<20}{'wall s':>9}{'cpu s':>8}{'peak RSS MiB':>14}"
    print(f"{header}{'parquet MB':>12}{'tasks MB':>10}")
    for name in names:
        out_dir = _out_dir(args.workdir, name)
        elapsed, cpu_seconds, _ = min(runs[name])
        peak_rss = max(rss for _, _, rss in runs[name])
        tasks_dir = out_dir / partition_path("tasks", args.date)
        print(
            f"{name:<20}{elapsed:>9.2f}{cpu_seconds:>8.2f}{peak_rss / 2**20:>14.0f}"
            f"{parquet_bytes(out_dir) / 1e6:>12.2f}{parquet_bytes(tasks_dir) / 1e6:>10.2f}"
        )


def _out_dir(workdir: Path, contender: str) -> Path:
    return workdir / f"out-{contender.split(maxsplit=1)[0]}"


if __name__ == "__main__":
    main()
