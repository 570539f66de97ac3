"""Checks a run must pass before anything it wrote becomes visible to readers."""

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from etl.publish import PartitionFolder
from etl.schemas import glue_type

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any

PARQUET_MAGIC = b"PAR1"
# Our footers are a few KB (a handful of row groups); a larger one costs a second ranged read.
FOOTER_READ_BYTES = 64 * 1024
ITEM_TABLE = "tasks"
"""The lake table holding one row per exported DynamoDB item."""
ACCOUNT_TABLE = "users"
"""The lake table holding one row per account, from the users table's export."""


class ValidationError(RuntimeError):
    """The run's output does not match its input or the catalog; nothing is published."""


def check_row_counts(
    export_items: int, transformed_items: int, staged: list[PartitionFolder]
) -> None:
    """Every exported item was read, and became exactly one row of the item table."""
    if transformed_items != export_items:
        raise ValidationError(
            f"export holds {export_items} items, transform read {transformed_items}"
        )
    item_rows = {p.table: p.rows for p in staged}.get(ITEM_TABLE)
    if item_rows != export_items:
        raise ValidationError(
            f"export holds {export_items} items, {ITEM_TABLE} has {item_rows} rows"
        )


def check_accounts_present(staged: list[PartitionFolder]) -> None:
    """Tasks without a single account means the users export is missing or empty, not that
    every owner was deleted: a day whose `users` is empty would tell the erasure job to erase
    every account, so it is never published."""
    rows = {p.table: p.rows for p in staged}
    if rows.get(ITEM_TABLE, 0) and not rows.get(ACCOUNT_TABLE, 0):
        raise ValidationError(
            f"{ITEM_TABLE} has {rows[ITEM_TABLE]} rows but {ACCOUNT_TABLE} has none: "
            "the users export is empty"
        )


def _catalog_columns(glue: GlueClient, database: str, table: str) -> list[tuple[str, str]]:
    columns = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"][
        "Columns"
    ]
    return [(column["Name"], column["Type"]) for column in columns]


def _read_tail(s3: S3Client, bucket: str, key: str, size: int) -> bytes:
    tail: bytes = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{size}")["Body"].read()
    return tail


def read_parquet_footer(s3: S3Client, bucket: str, key: str) -> pq.FileMetaData:
    """The Parquet footer, fetched with ranged reads of the file's end, not the whole file.

    A file ends with the footer, its length (4 bytes, little-endian) and `PAR1`: read the last
    `FOOTER_READ_BYTES`, and again further back if the footer is longer.
    """
    tail = _read_tail(s3, bucket, key, FOOTER_READ_BYTES)
    if len(tail) < 12 or tail[-4:] != PARQUET_MAGIC:
        raise ValidationError(f"s3://{bucket}/{key} is not a Parquet file")
    footer_size = int.from_bytes(tail[-8:-4], "little") + 8
    if footer_size > len(tail):
        tail = _read_tail(s3, bucket, key, footer_size)
    # pyarrow reads only the end of what it is given: the magic and the footer make a file.
    return pq.read_metadata(io.BytesIO(PARQUET_MAGIC + tail[-footer_size:]))


def check_staged_files(
    s3: S3Client, glue: GlueClient, database: str, staged: Iterable[PartitionFolder]
) -> None:
    """The uploaded files hold the reported rows, with exactly the columns the catalog declares."""
    for partition in staged:
        expected = _catalog_columns(glue, database, partition.table)
        rows = 0
        for key in partition.keys:
            metadata = read_parquet_footer(s3, partition.bucket, key)
            rows += metadata.num_rows
            schema = metadata.schema.to_arrow_schema()
            actual = [(field.name, glue_type(field.type)) for field in schema]
            if actual != expected:
                raise ValidationError(
                    f"{partition.table}: s3://{partition.bucket}/{key} has columns {actual}, "
                    f"the Glue table declares {expected}"
                )
        if rows != partition.rows:
            raise ValidationError(
                f"{partition.table}: transform reported {partition.rows} rows, files hold {rows}"
            )
