"""Reading the pointers publish leaves beside a table's data (`etl.publish.write_pointers`).

Each names the folder a partition was published from: the catalog repair puts partitions back
from them, and the orphan sweep keeps every folder one names.
"""

import json
from typing import TYPE_CHECKING, Any

from etl.lake_layout import POINTER_FOLDER, POINTER_NAME
from etl.publish import PartitionFolder, table_location
from etl.s3_listing import bucket_and_prefix, list_objects

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any


def read_pointers(
    s3: S3Client, glue: GlueClient, database: str, table: str
) -> list[PartitionFolder]:
    """Every partition of `table` a publish recorded, as it recorded it."""
    bucket, table_prefix = bucket_and_prefix(table_location(glue, database, table))
    pointers: list[PartitionFolder] = []
    for obj in list_objects(s3, bucket, table_prefix + POINTER_FOLDER):
        if obj["Key"].endswith(f"/{POINTER_NAME}"):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            pointers.append(PartitionFolder.from_dict(json.loads(body)))
    return pointers
