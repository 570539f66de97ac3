"""Rebuild the lake's Glue partitions from the pointers publish leaves beside the data.

The catalog is the only thing readers follow, and replacing a Glue table drops its partitions;
crawling cannot rebuild them (it would register every `run=` folder). Each publish writes
`<table location>_published/year=/month=/day=/pointer.json` naming the folder it made live, so
the partitions can be put back exactly. Then each `<table>_latest` is pointed at its table's
newest partition again: a stack update that changes one of those tables resets its location to
the template's empty folder (`infra/analytics.yaml`). Clients are boto3's defaults: the same
command repairs AWS with an operator's credentials, or the local stack with
`AWS_ENDPOINT_URL_*` set.

    python -m etl.catalog_repair --database tasklake_dev
"""

import argparse
import sys
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import boto3

from etl.latest_snapshot import LATEST_OF, point_latest_tables
from etl.publish import PartitionFolder, point_partition, published_location
from etl.publish_pointers import read_pointers
from etl.schemas import CATALOG_TABLES

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = Any
    S3Client = Any


def repair_catalog(
    s3: S3Client, glue: GlueClient, database: str, tables: Iterable[str] = CATALOG_TABLES
) -> list[PartitionFolder]:
    """Point every recorded partition back at its pointer's folder; returns those it changed."""
    repaired: list[PartitionFolder] = []
    for table in tables:
        for pointer in read_pointers(s3, glue, database, table):
            snapshot_date = date.fromisoformat(pointer.snapshot_date)
            if published_location(glue, database, table, snapshot_date) != pointer.location:
                point_partition(glue, database, pointer)
                repaired.append(pointer)
    return repaired


def _in_catalog(glue: GlueClient, database: str, table: str) -> bool:
    """Whether the catalog has `table`; one it lacks (no analytics stack yet) has nothing to
    repair, which the deploy's repair step must not fail on."""
    try:
        glue.get_table(DatabaseName=database, Name=table)
    except glue.exceptions.EntityNotFoundException:
        print(f"{table}: not in {database}, nothing to repair")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="Glue database, e.g. tasklake_dev")
    parser.add_argument(
        "--table", action="append", choices=sorted(CATALOG_TABLES), help="default: all"
    )
    args = parser.parse_args(argv)
    glue = boto3.client("glue")
    tables = [
        table for table in args.table or CATALOG_TABLES if _in_catalog(glue, args.database, table)
    ]
    repaired = repair_catalog(boto3.client("s3"), glue, args.database, tables)
    for partition in repaired:
        print(f"repaired {partition.table:<18} {partition.snapshot_date}  {partition.location}")
    print(f"{len(repaired)} partitions repaired in {args.database}")
    latest_of = [table for table in tables if table in LATEST_OF]
    for latest, location in point_latest_tables(glue, args.database, latest_of).items():
        print(f"{latest} reads {location or '(nothing published)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
