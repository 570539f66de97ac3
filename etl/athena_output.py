"""What an Athena attempt left in its staging folders, described as the worker stages its own.

Athena's CTAS writes its Parquet files under the attempt's `run=<attempt key>/` folder of each
partition and names them itself, so the keys are listed from the folder and the rows read from the
files' footers; validate and publish then treat them exactly like uploaded files.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from etl.publish import PartitionFolder
from etl.run_metrics import AthenaQuery
from etl.s3_listing import bucket_and_prefix, list_keys
from etl.validation import read_parquet_footer

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_s3 import S3Client
else:
    AthenaClient = Any
    S3Client = Any


def staged_ctas_partitions(
    s3: S3Client, locations: Mapping[str, str], snapshot_date: date
) -> list[PartitionFolder]:
    """One PartitionFolder per table from the files its CTAS wrote to `locations[table]`."""
    staged = []
    for table, location in sorted(locations.items()):
        bucket, prefix = bucket_and_prefix(location)
        keys = list_keys(s3, bucket, prefix)
        rows = sum(read_parquet_footer(s3, bucket, key).num_rows for key in keys)
        staged.append(PartitionFolder(table, snapshot_date.isoformat(), location, keys, rows))
    return staged


def query_statistics(athena: AthenaClient, query_ids: Iterable[str]) -> list[AthenaQuery]:
    """Each query's id, final state and bytes scanned (what Athena bills), for the run's report.

    `DataScannedInBytes` is what the query read, before Athena rounds it up to the megabyte and
    to its 10 MB minimum per query; DDL statements scan nothing.
    """
    statistics = []
    for query_id in query_ids:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes", 0)
        statistics.append(AthenaQuery(query_id, execution["Status"]["State"], scanned))
    return statistics
