"""The business steps behind the task endpoints: plain functions over the Task model.

Every function takes the caller's user id first; it is the partition key, so a
task of another user is simply not found (404), never "forbidden" (which would
confirm that it exists).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

from api import deadline, metrics, upstream
from api.config import Settings
from api.idempotency import IdempotencyRecord
from api.problems import Conflict, NotFound, PreconditionFailed, TaskLimitReached, Unprocessable
from api.storage import Page, connection, filled_page, utcnow
from api.tasks import quota
from api.tasks.models import Task, status_key

log = logging.getLogger(__name__)

DONE = "done"


@dataclass(frozen=True)
class TaskFilters:
    status: str | None = None
    due_after: date | None = None
    due_before: date | None = None
    tag: str | None = None

    def scope(self) -> dict[str, str | None]:
        """What a cursor is bound to: the same filters, or it is refused."""
        return {
            "status": self.status,
            "due_after": self.due_after.isoformat() if self.due_after else None,
            "due_before": self.due_before.isoformat() if self.due_before else None,
            "tag": self.tag,
        }


def _not_found(task_id: str) -> NotFound:
    return NotFound(f"Task {task_id} was not found")


def request_fingerprint(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def create_task(
    user_id: str,
    fields: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    idempotency_ttl: int = 24 * 3600,
    max_tasks: int = Settings.max_tasks_per_user,
    now: datetime | None = None,
) -> tuple[Task, bool]:
    """Store a new task within the user's cap; returns it and whether it was created now
    (False: a replay).

    `now` is for seeding history; requests always use the current time.
    """
    now = now or utcnow()
    try:
        quota.reserve(user_id, cap=max_tasks)
    except TaskLimitReached:
        # A retry of a create that succeeded is still answered with its task, even at the cap.
        if idempotency_key is not None and _recorded(user_id, idempotency_key, now):
            return _replay(user_id, idempotency_key, fields), False
        raise
    try:
        task, created = _store_task(user_id, fields, idempotency_key, idempotency_ttl, now)
    except Exception:
        quota.give_back(user_id)
        raise
    if not created:
        quota.give_back(user_id)
    return task, created


def _recorded(user_id: str, idempotency_key: str, now: datetime) -> bool:
    try:
        record = IdempotencyRecord.get(f"{user_id}#{idempotency_key}", consistent_read=True)
    except DoesNotExist:
        return False
    return bool(record.expires_at > now)


def _store_task(
    user_id: str,
    fields: Mapping[str, Any],
    idempotency_key: str | None,
    idempotency_ttl: int,
    now: datetime,
) -> tuple[Task, bool]:
    # Only creating a task needs python-ulid, whose import costs ~4 ms of every cold start.
    from ulid import ULID  # noqa: PLC0415

    task = _new_task(user_id, str(ULID.from_datetime(now)), fields, now)
    if idempotency_key is None:
        task.save()
        return task, True

    fingerprint = request_fingerprint(fields)
    # No copy of the task: a replay carries the same body (same fingerprint), from which the
    # task is built again, so the record holds nothing of the task's content (ADR 0019).
    record = IdempotencyRecord(
        f"{user_id}#{idempotency_key}",
        task_id=task.task_id,
        request_hash=fingerprint,
        created_at=now,
        expires_at=timedelta(seconds=idempotency_ttl),
    )
    # DynamoDB's TTL removes expired records within days, not at once: until then one may
    # still be there, and it no longer counts.
    unused = IdempotencyRecord.key.does_not_exist() | (IdempotencyRecord.expires_at < now)
    try:
        # The task and its idempotency record appear together or not at all.
        with TransactWrite(connection=connection(Task)) as transaction:
            transaction.save(record, condition=unused)
            transaction.save(task)
    except TransactWriteError as error:
        reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
        if reasons and reasons[0] == "ConditionalCheckFailed":  # the key was used before
            return _replay(user_id, idempotency_key, fields), False
        if "TransactionConflict" in reasons:  # a twin request is writing the same key now
            raise _in_progress() from None
        raise
    return task, True


def _new_task(user_id: str, task_id: str, fields: Mapping[str, Any], now: datetime) -> Task:
    """The task a create request makes, as first stored (and as a replay answers it)."""
    return Task(
        user_id,
        task_id,
        title=fields["title"],
        description=fields.get("description"),
        status=fields["status"],
        priority=fields["priority"],
        due_date=fields["due_date"].isoformat() if fields.get("due_date") else None,
        tags=fields.get("tags") or None,
        created_at=now,
        updated_at=now,
        completed_at=now if fields["status"] == DONE else None,
        status_key=status_key(user_id, fields["status"]),
    )


def _in_progress() -> Conflict:
    return Conflict("A request with this Idempotency-Key is in progress; retry")


def _replay(user_id: str, idempotency_key: str, fields: Mapping[str, Any]) -> Task:
    """The task as the key's first request created it, however it changed since."""
    try:
        record = IdempotencyRecord.get(f"{user_id}#{idempotency_key}", consistent_read=True)
    except DoesNotExist:
        # The transaction lost to a concurrent one that has not committed yet.
        raise _in_progress() from None
    if record.request_hash != request_fingerprint(fields):
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request body",
            errors={"headers": {"Idempotency-Key": ["Reused with a different body"]}},
        )
    task = _new_task(user_id, record.task_id, fields, record.created_at)
    task.version = 1  # the first save's version
    return task


def get_task(user_id: str, task_id: str) -> Task:
    try:
        return Task.get(user_id, task_id, consistent_read=True)
    except DoesNotExist:
        raise _not_found(task_id) from None


# The read budget of one filtered page: DynamoDB applies a filter after reading, so a rare
# tag may match nothing in many reads. Up to this many Queries of this many items each fill
# the page; past that, the page is short and its cursor continues where the reading stopped.
MAX_QUERIES_PER_PAGE = 4
BATCH_WRITE_ITEMS = 25  # DynamoDB's BatchWriteItem maximum, which PynamoDB batches by
FILTERED_READ_ITEMS = 250


def list_tasks(
    user_id: str, filters: TaskFilters, *, limit: int, start_key: dict[str, Any] | None
) -> Page[Task]:
    """One Query per page when only keys select; with a filter, Queries until the page is
    full, the data ends or the read budget is spent."""
    condition: Condition | None = None
    if filters.tag:
        condition = Task.tags.contains(filters.tag)

    due_range: Condition | None = None
    if filters.due_after and filters.due_before:
        due_range = Task.due_date.between(
            filters.due_after.isoformat(), filters.due_before.isoformat()
        )
    elif filters.due_after:
        due_range = Task.due_date >= filters.due_after.isoformat()
    elif filters.due_before:
        due_range = Task.due_date <= filters.due_before.isoformat()

    query: Callable[..., ResultIterator[Task]]
    keys: tuple[str, ...]
    if filters.status:
        if due_range is not None:
            condition = due_range if condition is None else condition & due_range
        query = functools.partial(
            Task.status_index.query,
            status_key(user_id, filters.status),
            scan_index_forward=False,
        )
        keys = ("status_key", "task_id", "user_id")
    elif due_range is not None:
        query = functools.partial(Task.due_date_index.query, user_id, due_range)
        keys = ("user_id", "due_date", "task_id")
    else:
        query = functools.partial(Task.query, user_id, scan_index_forward=False)
        keys = ("user_id", "task_id")
    return filled_page(
        functools.partial(
            query,
            filter_condition=condition,
            page_size=limit if condition is None else max(limit, FILTERED_READ_ITEMS),
        ),
        Task,
        limit=limit,
        start_key=start_key,
        key_names=keys,
        max_queries=MAX_QUERIES_PER_PAGE,
    )


def _status_actions(new_status: str, user_id: str, now: datetime) -> list[Action]:
    actions: list[Action] = [
        Task.status.set(new_status),
        Task.status_key.set(status_key(user_id, new_status)),
    ]
    if new_status == DONE:
        # Keep the first completion time if the task was already done.
        actions.append(Task.completed_at.set(Task.completed_at | now))
    else:
        actions.append(Task.completed_at.remove())
    return actions


def update_task(
    user_id: str,
    task_id: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
    now: datetime | None = None,
) -> Task:
    """Apply a partial update in one conditional UpdateItem.

    `expected_version` None means the client sent `If-Match: *` (any version).
    """
    now = now or utcnow()
    actions: list[Action] = [Task.updated_at.set(now)]
    for name, value in changes.items():
        attribute = getattr(Task, name)
        if name == "status":
            actions.extend(_status_actions(value, user_id, now))
        elif value is None or value == []:
            actions.append(attribute.remove())
        elif name == "due_date":
            actions.append(attribute.set(value.isoformat()))
        else:
            actions.append(attribute.set(value))

    task = Task(user_id, task_id)
    # `If-Match: *`: any version will do, so no version condition; the stored version is still
    # incremented (ADD 1), whatever it is, so no read first and no race with other writers.
    task.version = 0 if expected_version is None else expected_version
    try:
        task.update(
            actions,
            condition=Task.task_id.exists(),
            add_version_condition=expected_version is not None,
        )
    except UpdateError as error:
        if not upstream.condition_failed(error):
            raise
        _raise_missing_or_stale(user_id, task_id)
    # completed_at keeps the first completion, so it is `now` only if the task was not done.
    if changes.get("status") == DONE and task.completed_at == now:
        metrics.count(metrics.TASKS_COMPLETED)
    return task


def delete_task(user_id: str, task_id: str, *, expected_version: int | None) -> None:
    task = Task(user_id, task_id)
    if expected_version is not None:
        task.version = expected_version
    try:
        task.delete(
            condition=Task.task_id.exists(), add_version_condition=expected_version is not None
        )
    except DeleteError as error:
        if not upstream.condition_failed(error):
            raise
        _raise_missing_or_stale(user_id, task_id)
    quota.give_back(user_id)


def _raise_missing_or_stale(user_id: str, task_id: str) -> None:
    """After a failed conditional write: was the task gone, or was the ETag stale?"""
    get_task(user_id, task_id)  # raises NotFound
    raise PreconditionFailed(f"Task {task_id} has changed since the ETag you sent; fetch it again")


def delete_all_tasks(user_id: str, *, reserve_seconds: float) -> tuple[int, bool]:
    """Remove a user's tasks (account deletion) until done, or until only `reserve_seconds`
    of the request's deadline are left; returns how many were removed and whether all."""
    deleted = 0
    with Task.batch_write() as batch:
        for task in Task.query(user_id, attributes_to_get=["user_id", "task_id"]):
            left = deadline.remaining()
            if deleted % BATCH_WRITE_ITEMS == 0 and left is not None and left < reserve_seconds:
                return deleted, False  # leaving the block writes the batch in hand
            batch.delete(task)
            deleted += 1
    return deleted, True
