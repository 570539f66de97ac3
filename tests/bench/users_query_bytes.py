"""Bytes the analysts' sign-ups and retention query scans on a lake of the benchmark's size.

    python -m tests.bench.users_query_bytes

Builds `users` for 35 snapshot days of the benchmark's 25,000 accounts (`make bench-etl`: 1M
tasks, 40 a user) through the lake's own transform, runs the query in docs/analysts.md on it with
`etl.query` (what `make query` runs), and sums the compressed column chunks it names in the
partitions it reads, from DuckDB's `parquet_metadata`, as docs/analysts.md measures every query.
Task counts do not change the columns the query reads, so the tasks export is left empty.
"""

import argparse
import random
import re
import tempfile
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from etl.dynamodb_export import find_export_files
from etl.query import connect_lake, partition_files
from etl.synthetic import HISTORY_DAYS, format_timestamp, write_export
from etl.transform import transform_export
from tests.docs.markdown import ROOT, fences

ACCOUNTS = 25_000
DAYS = 35
LAST_DAY = date(2026, 11, 25)
DELETED_SHARE = 0.05
QUERY_HEADING = "Sign-ups per week and four-week retention"


def documented_query() -> str:
    """The query under QUERY_HEADING in docs/analysts.md, as analysts copy it."""
    text = (ROOT / "docs" / "analysts.md").read_text()
    section = text.split(QUERY_HEADING, 1)[1]
    return next(fence.text for fence in fences(section) if fence.language == "sql")


def build_lake(root: Path, seed: int = 7) -> None:
    """Accounts signing up over HISTORY_DAYS up to LAST_DAY, some deleted later, one export each
    day of the DAYS ending LAST_DAY holding the accounts that exist at its end."""
    rng = random.Random(seed)
    first_day = LAST_DAY - timedelta(days=DAYS - 1)
    accounts = []
    for _ in range(ACCOUNTS):
        signed_up = LAST_DAY - timedelta(days=rng.randrange(HISTORY_DAYS))
        deleted = signed_up + timedelta(days=rng.randrange(1, 60))
        gone = deleted if rng.random() < DELETED_SHARE else None
        user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        moment = format_timestamp(datetime_at(signed_up, rng.randrange(86_400_000)))
        accounts.append((user_id, signed_up, gone, moment))
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        profiles = [
            {
                "user_id": {"S": user_id},
                "kind": {"S": "user"},
                "email": {"S": f"{user_id}@example.com"},
                "enabled": {"BOOL": True},
                "created_at": {"S": moment},
            }
            for user_id, signed_up, gone, moment in accounts
            if signed_up <= day and (gone is None or gone > day)
        ]
        export = root / "exports" / day.isoformat()
        write_export(profiles, export)
        transform_export([], root / "lake", day, users_files=find_export_files(export))


def datetime_at(day: date, millisecond: int) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(milliseconds=millisecond)


def scanned_bytes(lake: Path, sql: str) -> int:
    """Compressed bytes of the `users` columns `sql` names, over every partition."""
    connection = connect_lake(str(lake))
    files = partition_files(connection, str(lake), "users")
    columns = {
        name
        for name in ("user_id", "signed_up_on", "status", "tasks_total", "snapshot_date")
        if re.search(rf"\b{name}\b", sql)
    }
    placeholders = ", ".join("?" for _ in columns)
    (total,) = connection.execute(
        "SELECT sum(total_compressed_size) FROM parquet_metadata(?) "  # noqa: S608 - only ?s
        f"WHERE path_in_schema IN ({placeholders})",
        [files, *sorted(columns)],
    ).fetchone() or (0,)
    return int(total or 0)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    sql = documented_query()
    with tempfile.TemporaryDirectory(prefix="users-bytes-") as work:
        build_lake(Path(work))
        lake = Path(work) / "lake"
        rows = connect_lake(str(lake)).execute(sql).fetchall()
        print(f"{len(rows)} weeks; last four: {rows[-4:]}")
        print(f"scans {scanned_bytes(lake, sql):,} bytes over {DAYS} days of {ACCOUNTS:,} accounts")


if __name__ == "__main__":
    main()
