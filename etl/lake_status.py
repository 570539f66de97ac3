"""`lake_status`: one row per published day saying when, how many rows, which engine, which export.

The row is one more partition of the day, staged beside the day's tables and flipped with them
by `etl.day_publish.publish_day`: readers see the row change exactly when the tables do, and a
rerun of the day replaces its row (the partition points at the rerun's folder). Its values are
the run's own (the publish time, the engine that ran), known only when it publishes, so it is
written here and not by an etl/sql/ statement over the export.
"""

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl.bronze import BronzeExport
from etl.partition_output import PARQUET_FILE_NAME, partition_path
from etl.publish import PartitionFolder, stage_partitions
from etl.s3_listing import list_objects
from etl.schemas import LAKE_STATUS

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any

LAKE_STATUS_TABLE = "lake_status"


@dataclass(frozen=True)
class ExportOrigin:
    """Where a day's rows came from: the engine that transformed which export, as of when."""

    engine: str
    """`duckdb` (the worker) or `athena`."""
    export_mode: str
    """`native` (DynamoDB's point-in-time export, with its manifest) or `scan`."""
    export_time: datetime


def export_origin(s3: S3Client, export: BronzeExport, engine: str) -> ExportOrigin:
    """The export's mode and time: a native export's manifest `exportTime`, else when the scan
    wrote its first file (a scan reads the table as it is while it runs)."""
    listed = list(list_objects(s3, export.bucket, export.prefix))
    summaries = [obj["Key"] for obj in listed if obj["Key"].endswith("/manifest-summary.json")]
    if summaries:
        body = s3.get_object(Bucket=export.bucket, Key=summaries[0])["Body"].read()
        exported = datetime.fromisoformat(json.loads(body)["exportTime"])
        return ExportOrigin(engine, "native", exported)
    written = [obj["LastModified"] for obj in listed if obj["Key"] in set(export.data_keys)]
    if not written:
        raise ValueError(f"s3://{export.bucket}/{export.prefix} holds none of the export's files")
    return ExportOrigin(engine, "scan", min(written))


def _utc_millis(moment: datetime) -> datetime:
    """Athena's timestamp: UTC wall time, no zone, milliseconds (etl.schemas.TIMESTAMP_MILLIS)."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def status_row(
    snapshot_date: date,
    published_at: datetime,
    rows_written: Mapping[str, int],
    origin: ExportOrigin,
) -> pa.Table:
    """The day's one `lake_status` row, in the table's schema."""
    return pa.Table.from_pylist(
        [
            {
                "snapshot_date": snapshot_date,
                "published_at": _utc_millis(published_at),
                "rows_written": sorted(rows_written.items()),
                "engine": origin.engine,
                "export_mode": origin.export_mode,
                "export_time": _utc_millis(origin.export_time),
            }
        ],
        schema=LAKE_STATUS,
    )


def stage_status(
    s3: S3Client,
    glue: GlueClient,
    *,
    database: str,
    row: pa.Table,
    snapshot_date: date,
    attempt_key: str,
) -> PartitionFolder:
    """Upload the row as the day's `lake_status` partition in the attempt's folder (not visible)."""
    relative = partition_path(LAKE_STATUS_TABLE, snapshot_date) / PARQUET_FILE_NAME
    with tempfile.TemporaryDirectory(prefix="lake_status-") as workdir:
        path = Path(workdir, relative)
        path.parent.mkdir(parents=True)
        pq.write_table(row, path, compression="zstd")
        (staged,) = stage_partitions(
            s3,
            glue,
            database=database,
            out_root=Path(workdir),
            files=[str(relative)],
            rows={LAKE_STATUS_TABLE: row.num_rows},
            snapshot_date=snapshot_date,
            attempt_key=attempt_key,
        )
    return staged
