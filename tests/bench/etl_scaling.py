"""How the project transform scales with the export on one worker, per shape of the export.

    python -m tests.bench.etl_scaling --tasks 1000000 --tasks 4000000 \\
        --case uuid --case sequential --case freeform-tags --case giant-user

A case is a shape of the same synthetic export (CASES): random or counted-up user ids, free-form
tags (nearly one tag row per tagged task), or one user owning half the tasks. Each run is a fresh
subprocess, so peaks do not mix: peak RSS comes from `os.wait4` for that process alone, and the
spill's largest size is polled from its folder every 0.1 s while it runs. Exports are generated
once per size and case and cached under the work folder.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from etl.dynamodb_export import find_export_files
from etl.synthetic import generate_tasks, to_dynamodb_item, write_export
from infra.local.progress import Progress
from tests.bench.etl_transform import cached_export, parquet_bytes, run_project

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ExportShape:
    user_ids: str = "uuid"
    tags: str = "fixed"
    giant_user_share: float = 0.0


CASES: dict[str, ExportShape] = {
    "uuid": ExportShape(),
    "sequential": ExportShape(user_ids="sequential"),
    "skewed": ExportShape(user_ids="skewed"),
    "freeform-tags": ExportShape(tags="freeform"),
    "giant-user": ExportShape(giant_user_share=0.5),
}


@dataclass(frozen=True)
class ScalingRun:
    tasks: int
    case: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    peak_spill_bytes: int
    output_bytes: int
    load_average: float  # of the machine, over the minute before the run: others share it


def _spill_bytes(out_dir: Path) -> int:
    """Bytes of the spill files the running transform has under `out_dir` right now."""
    total = 0
    for spill_dir in out_dir.glob(".staging-*/spill"):
        for folder, _, files in os.walk(spill_dir):
            for name in files:
                try:
                    total += os.stat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue  # a bucket read back and deleted since it was listed
    return total


def _case_export(workdir: Path, tasks: int, snapshot_date: date, case: str) -> Path:
    """The case's export, generated on first use; the id-only cases share `make bench-etl`'s."""
    shape = CASES[case]
    if shape.tags == "fixed" and not shape.giant_user_share:
        return cached_export(workdir, tasks, snapshot_date, shape.user_ids)
    export_dir = workdir / f"export-{tasks}-{case}"
    if not export_dir.exists():
        print(f"generating {tasks} tasks into {export_dir} …", flush=True)
        partial_dir = export_dir.with_name(export_dir.name + ".partial")
        shutil.rmtree(partial_dir, ignore_errors=True)
        generated = generate_tasks(
            tasks, snapshot_date, user_ids=shape.user_ids, tags=shape.tags,
            giant_user_share=shape.giant_user_share,
        )  # fmt: skip
        tracked = Progress("generated", tasks).track(generated)
        write_export((to_dynamodb_item(task) for task in tracked), partial_dir)
        partial_dir.rename(export_dir)
    return export_dir


def _measure(tasks: int, case: str, workdir: Path, snapshot_date: date) -> ScalingRun:
    export_dir = _case_export(workdir, tasks, snapshot_date, case)
    out_dir = workdir / "out-scaling"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    command = [sys.executable, "-m", "tests.bench.etl_scaling", "--run"]
    command += ["--export", str(export_dir), "--out", str(out_dir), "--date", str(snapshot_date)]
    load_average = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    peak_spill = 0
    while True:
        # wait4, not Popen.poll: only wait4 returns the child's own resource usage.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_spill = max(peak_spill, _spill_bytes(out_dir))
        time.sleep(POLL_SECONDS)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"transform of {export_dir} failed")
    return ScalingRun(
        tasks=tasks,
        case=case,
        wall_seconds=elapsed,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,
        peak_spill_bytes=peak_spill,
        output_bytes=parquet_bytes(out_dir),
        load_average=load_average,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, action="append", help="repeat for several sizes")
    parser.add_argument("--case", action="append", choices=CASES, help="repeat for several")
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 25))
    parser.add_argument("--workdir", type=Path, default=Path(".local/bench"))
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_project(args.export, args.out, args.date)
        return

    sizes = args.tasks or [1_000_000, 4_000_000, 10_000_000]
    cases = args.case or list(CASES)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    runs = [_measure(tasks, case, args.workdir, args.date) for tasks in sizes for case in cases]
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    header = f"{'tasks':>11} {'case':<14}{'wall s':>8}{'cpu s':>8}{'s per M':>9}"
    print(
        f"{header}{'peak RSS MiB':>14}{'peak spill MB':>15}{'export MB':>11}{'output MB':>11}"
        f"{'load':>6}"
    )
    for run in runs:
        export_dir = _case_export(args.workdir, run.tasks, args.date, run.case)
        export_bytes = sum(path.stat().st_size for path in find_export_files(export_dir))
        print(
            f"{run.tasks:>11,} {run.case:<14}{run.wall_seconds:>8.1f}{run.cpu_seconds:>8.1f}"
            f"{run.wall_seconds / run.tasks * 1e6:>9.2f}{run.peak_rss_bytes / 2**20:>14.0f}"
            f"{run.peak_spill_bytes / 1e6:>15.0f}{export_bytes / 1e6:>11.0f}"
            f"{run.output_bytes / 1e6:>11.1f}{run.load_average:>6.1f}"
        )


if __name__ == "__main__":
    main()
