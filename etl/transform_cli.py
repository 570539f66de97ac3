"""Command line for one transform run: `python -m etl.transform_cli EXPORT_DIR OUT_DIR DATE`."""

import argparse
import sys
from datetime import date
from pathlib import Path

import duckdb

from etl.compared_snapshot import local_compared_snapshot
from etl.dynamodb_export import ExportFormatError, find_export_files
from etl.transform import transform_export


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl.transform_cli",
        description="Transform a DynamoDB export folder into the lake partitions of one date.",
    )
    parser.add_argument("export_dir", type=Path, help="folder holding data/*.json.gz")
    parser.add_argument("out_root", type=Path, help="lake root, e.g. .local/lake")
    parser.add_argument("snapshot_date", help="YYYY-MM-DD")
    parser.add_argument(
        "--users-export",
        type=Path,
        help="the users table's export folder of the same moment (without it users is empty)",
    )
    args = parser.parse_args(argv)
    try:
        snapshot_date = date.fromisoformat(args.snapshot_date)
    except ValueError:
        print(f"transform failed: not a YYYY-MM-DD date: {args.snapshot_date!r}", file=sys.stderr)
        return 2
    try:
        users_files = find_export_files(args.users_export) if args.users_export else []
        # task_changes compares with the newest earlier day of the same lake, if it has one.
        compared = local_compared_snapshot(args.out_root, snapshot_date)
        result = transform_export(
            find_export_files(args.export_dir),
            args.out_root,
            snapshot_date,
            compared,
            users_files=users_files,
        )
    # Corrupt gzip or a bad JSON line surfaces as a DuckDB error.
    except (OSError, duckdb.Error, ExportFormatError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"transform failed: {message}", file=sys.stderr)
        return 1
    for table, rows in result.rows.items():
        print(f"{table}: {rows} rows")
    print(f"{result.export_items} export items; files: {', '.join(result.files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
