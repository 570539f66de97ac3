"""One publisher per day, whatever Airflow allows: a lock object created only if absent.

The DAG's `max_active_tis_per_dag=1` on `publish` keeps two runs from flipping a day's
partitions at once, but only where Airflow enforces it (MWAA Serverless ignores it, and two
Airflows pointed at one lake share nothing). `publish_partitions` restores a failed flip
assuming nobody else is flipping the same partitions, so each publish first creates
`_locks/publish/snapshot_date=<day>.json` with S3's conditional write `If-None-Match: *`: of two
writers exactly one succeeds, the other gets 412 and its task retries later. A lock left by a
publish that was killed is taken over once it is older than `STALE_AFTER`, with `If-Match` on
its ETag so two takers cannot both win.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

LOCK_ROOT = "_locks/publish/"
STALE_AFTER = timedelta(minutes=30)
"""Three times the publish task's execution timeout: an older lock's holder is gone."""
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


class DayLockedError(RuntimeError):
    """Another publish of the same day holds the lock; retry after it finishes."""


def lock_key(snapshot_date: date) -> str:
    return f"{LOCK_ROOT}snapshot_date={snapshot_date.isoformat()}.json"


def _lost_race(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _LOST_RACE


def _take_over_if_stale(
    s3: S3Client, bucket: str, snapshot_date: date, *, body: bytes, now: datetime
) -> None:
    key = lock_key(snapshot_date)
    held = s3.get_object(Bucket=bucket, Key=key)
    holder = json.loads(held["Body"].read())
    acquired = datetime.fromisoformat(holder["acquired_at"])
    if now - acquired < STALE_AFTER:
        raise DayLockedError(
            f"{snapshot_date} is being published by {holder['owner']} since {acquired.isoformat()}"
        )
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=held["ETag"])
    except ClientError as error:
        if _lost_race(error):
            raise DayLockedError(f"{snapshot_date}: another publish took the stale lock") from error
        raise


@contextmanager
def day_lock(
    s3: S3Client,
    bucket: str,
    snapshot_date: date,
    owner: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[None]:
    """Hold the day's publish lock for the block; DayLockedError if another publish has it."""
    key = lock_key(snapshot_date)
    now = clock()
    body = json.dumps({"owner": owner, "acquired_at": now.isoformat()}).encode()
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
    except ClientError as error:
        if not _lost_race(error):
            raise
        _take_over_if_stale(s3, bucket, snapshot_date, body=body, now=now)
    try:
        yield
    finally:
        s3.delete_object(Bucket=bucket, Key=key)
