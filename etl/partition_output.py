"""How files get into a local lake: partition folders, staging, and the atomic swap of a partition.

Everything is written inside a hidden staging folder of the lake root (same file system, so a
rename is atomic; readers skip names starting with "."). A partition becomes visible only once all
its files are complete, and replaces the previous run's partition, so reruns are idempotent.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path, PurePosixPath

PARQUET_FILE_NAME = "part-00000.parquet"


def partition_path(table: str, snapshot_date: date) -> PurePosixPath:
    """Hive-style partition folder of a table, relative to the lake root."""
    return PurePosixPath(
        table,
        f"year={snapshot_date:%Y}",
        f"month={snapshot_date:%m}",
        f"day={snapshot_date:%d}",
    )


@contextmanager
def staging_area(lake_root: Path) -> Iterator[Path]:
    """A fresh hidden folder in the lake root, removed afterwards whether the run failed or not."""
    lake_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=lake_root))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in_partition(staging: Path, lake_root: Path, partition: PurePosixPath) -> None:
    """Move a partition staged at `staging/partition` to `lake_root/partition`, replacing it.

    Two renames: the old partition is moved aside first, because a directory rename cannot
    replace a non-empty directory. Between them the partition is briefly absent, never partial.
    """
    staged = staging / partition
    target = lake_root / partition
    target.parent.mkdir(parents=True, exist_ok=True)
    replaced = staging / "replaced" / partition
    if target.exists():
        replaced.parent.mkdir(parents=True, exist_ok=True)
        target.rename(replaced)
    staged.rename(target)
