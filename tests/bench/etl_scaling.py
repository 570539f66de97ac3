"""How the project transform scales with the export on one worker, for random and counted-up ids.

    python -m tests.bench.etl_scaling --tasks 1000000 --tasks 4000000 \\
        --user-ids uuid --user-ids sequential

Each run is a fresh subprocess, so peaks do not mix: peak RSS comes from `os.wait4` for that
process alone, and the spill's largest size is polled from its folder every 0.1 s while it runs.
Exports are generated once per size and id distribution and cached under the work folder.
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
from etl.synthetic import USER_ID_DISTRIBUTIONS
from tests.bench.etl_transform import cached_export, parquet_bytes, run_project

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ScalingRun:
    tasks: int
    user_ids: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    peak_spill_bytes: int
    output_bytes: int


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


def _measure(tasks: int, user_ids: str, workdir: Path, snapshot_date: date) -> ScalingRun:
    export_dir = cached_export(workdir, tasks, snapshot_date, user_ids)
    out_dir = workdir / "out-scaling"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    command = [sys.executable, "-m", "tests.bench.etl_scaling", "--run"]
    command += ["--export", str(export_dir), "--out", str(out_dir), "--date", str(snapshot_date)]
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
        user_ids=user_ids,
        wall_seconds=elapsed,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,
        peak_spill_bytes=peak_spill,
        output_bytes=parquet_bytes(out_dir),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, action="append", help="repeat for several sizes")
    parser.add_argument("--user-ids", action="append", choices=USER_ID_DISTRIBUTIONS)
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
    distributions = args.user_ids or ["uuid", "sequential"]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    runs = [
        _measure(tasks, user_ids, args.workdir, args.date)
        for tasks in sizes
        for user_ids in distributions
    ]
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    header = f"{'tasks':>11} {'user ids':<11}{'wall s':>8}{'cpu s':>8}{'s per M':>9}"
    print(f"{header}{'peak RSS MiB':>14}{'peak spill MB':>15}{'export MB':>11}{'output MB':>11}")
    for run in runs:
        export_dir = cached_export(args.workdir, run.tasks, args.date, run.user_ids)
        export_bytes = sum(path.stat().st_size for path in find_export_files(export_dir))
        print(
            f"{run.tasks:>11,} {run.user_ids:<11}{run.wall_seconds:>8.1f}{run.cpu_seconds:>8.1f}"
            f"{run.wall_seconds / run.tasks * 1e6:>9.2f}{run.peak_rss_bytes / 2**20:>14.0f}"
            f"{run.peak_spill_bytes / 1e6:>15.0f}{export_bytes / 1e6:>11.0f}"
            f"{run.output_bytes / 1e6:>11.1f}"
        )


if __name__ == "__main__":
    main()
