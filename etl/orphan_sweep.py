"""Tag for expiry the attempt folders no partition and no pointer references: orphans.

Publish tags the folder it replaces and `tag_unpublished` a failed attempt's, but an attempt
whose worker was killed (a timeout, a lost worker, a run stopped at `dagrun_timeout`) tags
nothing: its `run=<attempt key>/` folder would be kept and billed forever. The sweep lists each
table's attempt folders and tags every object of one that neither the Glue catalog nor a
publish pointer names, once it is older than a grace period, so an attempt still running is
never touched. The `expire-superseded-runs` lifecycle rule (infra/analytics.yaml) then expires
them.
"""

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.publish import SUPERSEDED_TAG, table_location
from etl.publish_pointers import read_pointers
from etl.s3_listing import bucket_and_prefix, list_objects

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any

_ATTEMPT_FOLDER = re.compile(r"^(.*/year=[^/]+/month=[^/]+/day=[^/]+/run=[^/]+/)")


def _referenced(s3: S3Client, glue: GlueClient, database: str, table: str) -> set[str]:
    """The folders the catalog's partitions and the publish pointers name, as bucket keys."""
    folders = set()
    for partitions in glue.get_paginator("get_partitions").paginate(
        DatabaseName=database, TableName=table
    ):
        for partition in partitions["Partitions"]:
            folders.add(bucket_and_prefix(partition["StorageDescriptor"]["Location"])[1])
    for pointer in read_pointers(s3, glue, database, table):
        folders.add(bucket_and_prefix(pointer.location)[1])
    return {folder if folder.endswith("/") else folder + "/" for folder in folders}


def sweep_orphans(
    s3: S3Client, glue: GlueClient, database: str, tables: Iterable[str], older_than: datetime
) -> list[str]:
    """Tag superseded every object of an unreferenced attempt folder last written before
    `older_than`; returns the keys tagged."""
    tagged: list[str] = []
    for table in tables:
        referenced = _referenced(s3, glue, database, table)
        bucket, prefix = bucket_and_prefix(table_location(glue, database, table))
        folders: dict[str, list[dict[str, Any]]] = {}
        for listed in list_objects(s3, bucket, prefix):
            if match := _ATTEMPT_FOLDER.match(listed["Key"]):
                folders.setdefault(match.group(1), []).append(dict(listed))
        for folder, objects in sorted(folders.items()):
            newest = max(obj["LastModified"] for obj in objects)
            if folder in referenced or newest >= older_than:
                continue
            for stale in objects:
                s3.put_object_tagging(
                    Bucket=bucket,
                    Key=stale["Key"],
                    Tagging={"TagSet": [{"Key": SUPERSEDED_TAG[0], "Value": SUPERSEDED_TAG[1]}]},
                )
                tagged.append(stale["Key"])
    return tagged
