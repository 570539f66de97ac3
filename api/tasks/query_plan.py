"""Which index answers a task list, and what DynamoDB filters after reading (ADR 0002).

| filters                 | read                                   | filtered after reading |
|-------------------------|----------------------------------------|------------------------|
| none, or only a tag     | the table, newest first                | the tag                |
| a status (and any more) | the status index, newest first         | due dates, the tag     |
| due dates, no status    | the due-date index, by due date        | the tag                |
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator

from api.tasks.models import Task, status_key


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


@dataclass(frozen=True)
class QueryPlan:
    # A Query still to be given its page size, filter and start key.
    query: Callable[..., ResultIterator[Task]]
    # The attributes of the index's LastEvaluatedKey, which a cursor carries.
    key_names: tuple[str, ...]
    # What DynamoDB applies after reading; None when the keys alone select.
    condition: Condition | None


def plan(user_id: str, filters: TaskFilters) -> QueryPlan:
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

    if filters.status:
        if due_range is not None:
            condition = due_range if condition is None else condition & due_range
        query = functools.partial(
            Task.status_index.query,
            status_key(user_id, filters.status),
            scan_index_forward=False,
        )
        return QueryPlan(query, ("status_key", "task_id", "user_id"), condition)
    if due_range is not None:
        query = functools.partial(Task.due_date_index.query, user_id, due_range)
        return QueryPlan(query, ("user_id", "due_date", "task_id"), condition)
    query = functools.partial(Task.query, user_id, scan_index_forward=False)
    return QueryPlan(query, ("user_id", "task_id"), condition)
