"""One day transformed on the worker and staged under its attempt's folders (not yet visible).

The daily run's `transform` task and a heal of an earlier day (etl/heal.py) do exactly this:
download the day's two exports and the published day `task_changes` compares with, run every
etl/sql/ statement with DuckDB, and stage the files beside the published ones.
"""

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.bronze import BronzeExport, download_export
from etl.compared_snapshot import download_compared_snapshot
from etl.publish import PartitionFolder, stage_partitions
from etl.transform import transform_export

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any


@dataclass(frozen=True)
class StagedDay:
    exported_items: int
    """Items in the tasks export: its manifest's count, else the lines downloaded."""
    transformed_items: int
    staged: list[PartitionFolder]


def transform_and_stage(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    snapshot_date: date,
    export: BronzeExport,
    users_export: BronzeExport,
    attempt_key: str,
) -> StagedDay:
    """Transform the day's exports (tasks, and users of the same moment) and stage every table."""
    with tempfile.TemporaryDirectory(prefix="worker_day-") as workdir:
        files, counted = download_export(s3, export, Path(workdir, "export"))
        users_files, _ = download_export(s3, users_export, Path(workdir, "users-export"))
        # task_changes compares with the newest published day before this one.
        compared = download_compared_snapshot(
            s3, glue, database, snapshot_date, Path(workdir, "compared")
        )
        result = transform_export(
            files, Path(workdir, "lake"), snapshot_date, compared, users_files=users_files
        )
        staged = stage_partitions(
            s3,
            glue,
            database=database,
            out_root=Path(workdir, "lake"),
            files=result.files,
            rows=result.rows,
            snapshot_date=snapshot_date,
            attempt_key=attempt_key,
        )
    exported = export.item_count if export.item_count is not None else counted
    return StagedDay(exported, result.export_items, staged)
