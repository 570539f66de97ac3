"""Bronze: the raw DynamoDB export of one run, exactly as it landed in S3.

Two producers write the same format, DynamoDB's DYNAMODB_JSON (gzipped lines of `{"Item": ...}`):
DynamoDB's native point-in-time export in AWS, and a table scan where no export API exists
(DynamoDB Local). The native export also leaves `manifest-summary.json`, whose `itemCount` is the
figure the run is validated against; for a scan the lines themselves are counted.
"""

import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer

from etl.lake_layout import BRONZE_ROOT, bronze_day_prefix
from etl.s3_listing import list_folders, list_keys

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

_SERIALIZER = TypeSerializer()
_EXPORT_TRY = re.compile(r"attempt=(\d+)/$")
_DAY = re.compile(r"snapshot_date=(\d{4}-\d{2}-\d{2})/$")
_RUN = re.compile(r"run=([^/]+)/$")


class ExportNotFoundError(RuntimeError):
    """No complete export under the run's bronze prefix."""


class ExportMismatchError(RuntimeError):
    """The export found is not the one the run asked for: another table or another time."""


@dataclass(frozen=True)
class ExpectedExport:
    """What a native export's manifest must say for a run to use it (None fields: a scan).

    Without it a run in native mode whose export left no manifest would read whatever files lie
    under its prefix as if they were a scan, and validate against their own line count.
    """

    table_arn: str
    export_time: datetime


@dataclass(frozen=True)
class BronzeExport:
    """The data files of one export try and how many items they hold."""

    bucket: str
    prefix: str
    data_keys: list[str]
    item_count: int | None
    """From the native export's manifest; None for a scan, whose lines are counted on download."""


def scan_item_to_export_line(item: Mapping[str, Any]) -> bytes:
    """One scanned item as a gzip member holding one DYNAMODB_JSON line.

    Used as the scan operator's `process_func`, which sees one item at a time: a file of
    concatenated gzip members is still one valid gzip file, so it reads like a native export file.
    """
    typed = {name: _SERIALIZER.serialize(value) for name, value in item.items()}
    line = json.dumps({"Item": typed}, separators=(",", ":"), sort_keys=True) + "\n"
    return gzip.compress(line.encode("utf-8"), mtime=0)


def _latest_export_try_prefix(s3: S3Client, bucket: str, run_prefix: str) -> str:
    """The newest `attempt=<n>/` folder: the export task succeeds only on its last try."""
    tries = {
        int(match.group(1)): folder
        for folder in list_folders(s3, bucket, run_prefix)
        if (match := _EXPORT_TRY.search(folder))
    }
    if not tries:
        raise ExportNotFoundError(f"no export attempt under s3://{bucket}/{run_prefix}")
    return tries[max(tries)]


def check_manifest(summary: Mapping[str, Any], expected: ExpectedExport, where: str) -> None:
    """Fail unless manifest-summary.json names the run's table and export time.

    Its fields: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html
    """
    table_arn = summary.get("tableArn")
    if table_arn != expected.table_arn:
        raise ExportMismatchError(f"{where} exports {table_arn}, not {expected.table_arn}")
    raw_time = summary.get("exportTime")
    export_time = datetime.fromisoformat(raw_time) if isinstance(raw_time, str) else None
    if export_time != expected.export_time:
        raise ExportMismatchError(
            f"{where} is as of {raw_time}, not {expected.export_time.isoformat()}"
        )


def find_export(
    s3: S3Client, bucket: str, run_prefix: str, expected: ExpectedExport | None = None
) -> BronzeExport:
    """The export a run's export task produced, whichever way it was made.

    With `expected` (native mode) it must be a native export with its manifest, of that table
    as of that time; without it, a scan's files are accepted too.
    """
    prefix = _latest_export_try_prefix(s3, bucket, run_prefix)
    keys = list_keys(s3, bucket, prefix)
    summaries = [key for key in keys if key.endswith("/manifest-summary.json")]
    where = f"s3://{bucket}/{prefix}"
    if len(summaries) > 1:
        raise ExportNotFoundError(f"{len(summaries)} native exports under {where}")
    if not summaries:
        if expected is not None:
            raise ExportNotFoundError(f"no manifest-summary.json under {where}: not native")
        return BronzeExport(bucket, prefix, keys, item_count=None)
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summaries[0])["Body"].read())
    if expected is not None:
        check_manifest(summary, expected, where)
    manifest = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read()
    data_keys = [json.loads(line)["dataFileS3Key"] for line in manifest.splitlines() if line]
    return BronzeExport(bucket, prefix, sorted(data_keys), item_count=int(summary["itemCount"]))


def days_with_bronze(s3: S3Client, bucket: str) -> set[date]:
    """The days bronze holds some run's export of: one listing of folder names."""
    return {
        date.fromisoformat(match.group(1))
        for folder in list_folders(s3, bucket, f"{BRONZE_ROOT}/")
        if (match := _DAY.search(folder))
    }


def find_day_export(
    s3: S3Client,
    bucket: str,
    snapshot_date: date,
    published_run_key: str = "",
    expected: ExpectedExport | None = None,
    *,
    source: str = "tasks",
) -> BronzeExport:
    """The stored export of the table `source` to rebuild `snapshot_date` from, whichever run
    made it.

    That of the run the day's published partition was built from (`published_run_key`) if
    bronze still holds it: its rows passed validation once. Otherwise the day's newest native
    export: its manifest says it is complete, which a scan's files cannot.
    """
    runs = [
        folder
        for folder in list_folders(s3, bucket, bronze_day_prefix(snapshot_date, source))
        if _RUN.search(folder)
    ]
    published = [run for run in runs if run.endswith(f"run={published_run_key}/")]
    if published_run_key and published:
        return find_export(s3, bucket, published[0], expected)
    native: list[tuple[datetime, str]] = []
    for run in runs:
        for key in list_keys(s3, bucket, run):
            if key.endswith("/manifest-summary.json"):
                stored = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
                native.append((stored, run))
    if not native:
        raise ExportNotFoundError(
            f"bronze holds no export of {snapshot_date} to rebuild it from "
            f"(s3://{bucket}/{bronze_day_prefix(snapshot_date, source)})"
        )
    return find_export(s3, bucket, max(native)[1], expected)


def export_data_location(export: BronzeExport) -> str:
    """`s3://bucket/<folder>/` holding the export's data files: one folder, for either producer."""
    folders = {key.rsplit("/", 1)[0] for key in export.data_keys}
    if len(folders) != 1:
        where = f"s3://{export.bucket}/{export.prefix}"
        raise ExportNotFoundError(f"data files of {where} are in {len(folders)} folders")
    return f"s3://{export.bucket}/{folders.pop()}/"


def export_item_count(s3: S3Client, export: BronzeExport) -> int:
    """The manifest's item count; for a scan, its lines counted as they stream from S3.

    Scan exports exist only where DynamoDB has no export API (DynamoDB Local), so they are small.
    """
    if export.item_count is not None:
        return export.item_count
    items = 0
    for key in export.data_keys:
        body = s3.get_object(Bucket=export.bucket, Key=key)["Body"]
        with gzip.open(body, "rb") as lines:
            items += sum(1 for line in lines if line.strip())
    return items


def count_lines(path: Path) -> int:
    with gzip.open(path, "rb") as lines:
        return sum(1 for line in lines if line.strip())


def download_export(s3: S3Client, export: BronzeExport, dest: Path) -> tuple[list[Path], int]:
    """Download the data files and return those holding items, with the number of items.

    Empty files (a scan of an empty table still uploads one) are left out: there is nothing in
    them to transform.
    """
    dest.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    items = 0
    for index, key in enumerate(export.data_keys):
        path = dest / f"{index:05d}.json.gz"
        s3.download_file(export.bucket, key, str(path))
        lines = count_lines(path) if path.stat().st_size else 0
        if lines:
            files.append(path)
            items += lines
    return files, items
