"""The business steps behind the task endpoints: plain functions over the Task model.

Every function takes the caller's user id first; it is the partition key, so a
task of another user is simply not found (404), never "forbidden" (which would
confirm that it exists).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from api import idempotency, metrics
from api.auth.revocation import Revocation, SessionCheck, refused
from api.auth.session_check import revoked
from api.config import Settings
from api.problems import Conflict, NotFound, PreconditionFailed
from api.storage import (
    Page,
    StoredItem,
    alongside,
    conditional_update,
    filled_page,
    get_together,
    key_of,
    utcnow,
)
from api.tasks import query_plan, quota
from api.tasks.models import Task, status_key
from api.tasks.query_plan import TaskFilters
from api.tasks.writes import CONDITION_FAILED, write_carrying

log = logging.getLogger(__name__)

DONE = "done"


def _not_found(task_id: str) -> NotFound:
    return NotFound(f"Task {task_id} was not found")


def create_task(
    user_id: str,
    fields: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    idempotency_ttl: int = Settings.idempotency_ttl_seconds,
    max_tasks: int = Settings.max_tasks_per_user,
    now: datetime | None = None,
    session: SessionCheck | None = None,
) -> tuple[Task, bool]:
    """Store a new task within the user's cap, in ONE TransactWriteItems with the count, the
    idempotency record if a key was sent, and the session's marks; returns the task and
    whether it was created now (False: a replay).

    `now` is for seeding history; requests always use the current time.
    """
    now = now or utcnow()
    task = _new_task(user_id, _new_task_id(now), fields, now)
    record = None
    if idempotency_key is not None:
        # No copy of the task: a replay carries the same body (same fingerprint), from which the
        # task is built again, so the record holds nothing of the task's content (ADR 0019).
        record = idempotency.new_record(
            user_id,
            idempotency_key,
            task_id=task.task_id,
            fields=fields,
            created_at=now,
            ttl_seconds=idempotency_ttl,
        )

    def build(transaction: TransactWrite) -> None:
        if record is not None:
            transaction.save(record, condition=idempotency.unused(task.created_at))
        transaction.save(task)
        quota.count_one_more(transaction, user_id, cap=max_tasks)

    reasons = write_carrying(session, build)
    if reasons is None:
        return task, True
    # Puts, then the count: a used key wins over the cap (a retry of a create that succeeded
    # is answered with its task, even at the cap).
    if record is not None and reasons[0] == CONDITION_FAILED:
        return _replay(user_id, idempotency_key or "", fields), False
    if reasons[-1] == CONDITION_FAILED:
        raise quota.limit_reached(max_tasks)
    raise Conflict("The task could not be stored; retry")  # a ULID taken: as good as never


def _new_task_id(now: datetime) -> str:
    # Only creating a task needs python-ulid, whose import costs ~4 ms of every cold start.
    from ulid import ULID  # noqa: PLC0415

    return str(ULID.from_datetime(now))


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


def _replay(user_id: str, idempotency_key: str, fields: Mapping[str, Any]) -> Task:
    """The task as the key's first request created it, however it changed since."""
    record = idempotency.first_request(user_id, idempotency_key, fields)
    task = _new_task(user_id, record.task_id, fields, record.created_at)
    task.version = 1  # the first save's version
    return task


def get_task(user_id: str, task_id: str, *, session: SessionCheck | None = None) -> Task:
    """The task, read consistently; with `session`, its marks in the same BatchGetItem."""
    if session is None:
        try:
            return Task.get(user_id, task_id, consistent_read=True)
        except DoesNotExist:
            raise _not_found(task_id) from None
    found = get_together(
        {
            Task: [key_of((Task.user_id, user_id), (Task.task_id, task_id))],
            Revocation: [
                key_of((Revocation.user_id, hash_key), (Revocation.entry, range_key))
                for hash_key, range_key in session.mark_keys()
            ],
        }
    )
    marks = [Revocation.from_raw_data(item) for item in found[Revocation.Meta.table_name]]
    if session.refuses(marks):
        raise revoked()
    (item,) = found[Task.Meta.table_name] or [None]
    if item is None:
        raise _not_found(task_id)
    return Task.from_raw_data(item)


# The read budget of one filtered page: DynamoDB applies a filter after reading, so a rare
# tag may match nothing in many reads. Up to this many Queries of this many items each fill
# the page; past that, the page is short and its cursor continues where the reading stopped.
MAX_QUERIES_PER_PAGE = 4
FILTERED_READ_ITEMS = 250


def list_tasks(
    user_id: str,
    filters: TaskFilters,
    *,
    limit: int,
    start_key: dict[str, Any] | None,
    session: SessionCheck | None = None,
) -> Page[StoredItem]:
    """One Query per page when only keys select; with a filter, Queries until the page is
    full, the data ends or the read budget is spent. With `session`, its marks are read
    alongside the first Query (no Query can read them consistently: ADR 0003). The tasks
    come as stored: the page is written from them (api/tasks/documents.py)."""
    marks = alongside(functools.partial(refused, session)) if session else None
    page = _list_page(user_id, filters, limit=limit, start_key=start_key)
    if marks is not None and marks.result():
        raise revoked()
    return page


def _list_page(
    user_id: str, filters: TaskFilters, *, limit: int, start_key: dict[str, Any] | None
) -> Page[StoredItem]:
    planned = query_plan.plan(user_id, filters)
    filtered = planned.condition is not None
    return filled_page(
        functools.partial(
            planned.query,
            filter_condition=planned.condition,
            page_size=max(limit, FILTERED_READ_ITEMS) if filtered else limit,
        ),
        limit=limit,
        start_key=start_key,
        key_names=planned.key_names,
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
    session: SessionCheck | None = None,
) -> Task:
    """Apply a partial update in one conditional write; returns the task as it now is.

    `expected_version` None means the client sent `If-Match: *` (any version). With
    `session` and a version, the write is ONE TransactWriteItems with the session's marks,
    and the task is read alongside it (a transaction returns no item): the read names the
    version the write replaced, so the answer is that read with the changes applied.
    """
    now = now or utcnow()
    actions = _update_actions(user_id, changes, now)
    if session is not None and expected_version is not None:
        task = _update_carrying(session, Task(user_id, task_id), expected_version, actions)
        if task.version == expected_version:  # the state the write replaced: apply it here
            _apply(task, user_id, changes, now)
    else:
        # `If-Match: *` names no version a read could be matched to: the check first, then
        # one UpdateItem that answers the new item.
        if session is not None and refused(session):
            raise revoked()
        task = Task(user_id, task_id)
        # Any version will do, so no version condition; the stored version is still
        # incremented (ADD 1), whatever it is, so no read first and no race with other writers.
        task.version = 0 if expected_version is None else expected_version
        if not conditional_update(
            task,
            actions,
            condition=Task.task_id.exists(),
            add_version_condition=expected_version is not None,
        ):
            _raise_missing_or_stale(user_id, task_id)
    # completed_at keeps the first completion, so it is `now` only if the task was not done.
    if changes.get("status") == DONE and task.completed_at == now:
        metrics.count(metrics.TASKS_COMPLETED)
    return task


def _update_actions(user_id: str, changes: Mapping[str, Any], now: datetime) -> list[Action]:
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
    return actions


def _update_carrying(
    session: SessionCheck, task: Task, expected_version: int, actions: list[Action]
) -> Task:
    """The write with the marks, and the task read alongside: returned as read when it is the
    version the write replaced (to apply the changes to) or the one it made; else as stored
    after the write (a third writer came between: rare, one more read)."""
    before = alongside(functools.partial(_read, task.user_id, task.task_id))
    task.version = expected_version
    reasons = write_carrying(
        session,
        lambda transaction: transaction.update(task, actions, condition=Task.task_id.exists()),
    )
    if reasons is not None:
        _raise_missing_or_stale(task.user_id, task.task_id)
    read = before.result()
    if read is not None and read.version in (expected_version, expected_version + 1):
        return read
    return get_task(task.user_id, task.task_id)


def _read(user_id: str, task_id: str) -> Task | None:
    try:
        return Task.get(user_id, task_id, consistent_read=True)
    except DoesNotExist:
        return None


def _apply(task: Task, user_id: str, changes: Mapping[str, Any], now: datetime) -> None:
    """What `_update_actions` does to the stored item, done to a copy read before it."""
    for name, value in changes.items():
        if name == "status":
            task.status = value
            task.status_key = status_key(user_id, value)
            task.completed_at = (task.completed_at or now) if value == DONE else None
        elif value is None or value == []:
            setattr(task, name, None)
        elif name == "due_date":
            task.due_date = value.isoformat()
        else:
            setattr(task, name, value)
    task.updated_at = now
    task.version = (task.version or 0) + 1


def delete_task(
    user_id: str,
    task_id: str,
    *,
    expected_version: int | None,
    session: SessionCheck | None = None,
) -> None:
    """Remove the task and count one fewer, in ONE TransactWriteItems with the session's marks."""
    task = Task(user_id, task_id)
    if expected_version is not None:
        task.version = expected_version
    counted = True

    def build(transaction: TransactWrite) -> None:
        transaction.delete(
            task,
            condition=Task.task_id.exists(),
            add_version_condition=expected_version is not None,
        )
        if counted:
            quota.count_one_fewer(transaction, user_id)

    reasons = write_carrying(session, build)
    if reasons is not None and reasons[0] is None:
        # Only the count refused: a task from before the counter. Delete it uncounted.
        counted = False
        reasons = write_carrying(session, build)
    if reasons is not None:
        _raise_missing_or_stale(user_id, task_id)


def _raise_missing_or_stale(user_id: str, task_id: str) -> None:
    """After a failed conditional write: was the task gone, or was the ETag stale?"""
    get_task(user_id, task_id)  # raises NotFound
    raise PreconditionFailed(f"Task {task_id} has changed since the ETag you sent; fetch it again")
