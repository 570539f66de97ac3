"""Bronze exports: the scan writes what a native export writes, and a run finds its own export."""

import gzip
import json
from decimal import Decimal
from pathlib import Path

from boto3.dynamodb.types import TypeDeserializer

from etl.bronze import download_export, find_export, scan_item_to_export_line
from tests.dags.local_stack import LAKE_BUCKET, LocalStack

ITEM = {
    "user_id": "u1",
    "task_id": "t1",
    "version": Decimal(3),
    "tags": ["a", "b"],
    "labels": {"x", "y"},
    "meta": {"estimate": Decimal("1.5"), "done": False},
    "completed_at": None,
}


def test_scanned_item_becomes_one_dynamodb_json_line(tmp_path: Path) -> None:
    path = tmp_path / "part.json.gz"
    path.write_bytes(scan_item_to_export_line(ITEM) + scan_item_to_export_line(ITEM))

    with gzip.open(path, "rt") as lines:
        records = [json.loads(line) for line in lines]

    assert len(records) == 2
    assert records[0]["Item"]["version"] == {"N": "3"}
    deserializer = TypeDeserializer()
    assert {k: deserializer.deserialize(v) for k, v in records[0]["Item"].items()} == ITEM


def test_run_reads_its_latest_native_export_and_its_manifest_count(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3 = local_stack.client("s3")
    run = "bronze/dynamodb/tasks/snapshot_date=2026-01-02/run=r1/"
    export = f"{run}attempt=2/AWSDynamoDB/0001-abc/"
    data_key = f"{export}data/file-1.json.gz"
    s3.put_object(Bucket=LAKE_BUCKET, Key=f"{run}attempt=1/data/partial", Body=b"")
    s3.put_object(Bucket=LAKE_BUCKET, Key=data_key, Body=scan_item_to_export_line(ITEM))
    s3.put_object(
        Bucket=LAKE_BUCKET,
        Key=f"{export}manifest-files.json",
        Body=json.dumps({"itemCount": 1, "dataFileS3Key": data_key}).encode() + b"\n",
    )
    s3.put_object(
        Bucket=LAKE_BUCKET,
        Key=f"{export}manifest-summary.json",
        Body=json.dumps({"itemCount": 1, "manifestFilesS3Key": f"{export}manifest-files.json"}),
    )

    found = find_export(s3, LAKE_BUCKET, run)
    files, counted = download_export(s3, found, tmp_path)

    assert found.prefix == f"{run}attempt=2/"
    assert found.data_keys == [data_key]
    assert found.item_count == 1
    assert counted == 1
    assert len(files) == 1


def test_scan_export_is_counted_line_by_line_and_empty_files_are_skipped(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    s3 = local_stack.client("s3")
    run = "bronze/dynamodb/tasks/snapshot_date=2026-01-03/run=r1/"
    s3.put_object(Bucket=LAKE_BUCKET, Key=f"{run}attempt=1/data/a", Body=b"")
    body = b"".join(scan_item_to_export_line({**ITEM, "task_id": f"t{i}"}) for i in range(3))
    s3.put_object(Bucket=LAKE_BUCKET, Key=f"{run}attempt=1/data/b", Body=body)

    found = find_export(s3, LAKE_BUCKET, run)
    files, counted = download_export(s3, found, tmp_path)

    assert found.item_count is None
    assert counted == 3
    assert len(files) == 1
