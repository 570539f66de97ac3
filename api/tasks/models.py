"""The tasks table.

Access patterns (one round trip per request, the session check included; docs/adr/0002):

| pattern                            | operation          | key / index                        |
|------------------------------------|--------------------|------------------------------------|
| create a task                      | TransactWriteItems | + users' task_count, session marks |
| get one task                       | BatchGetItem       | user_id + task_id, + session marks |
| update one task                    | TransactWriteItems | version check; GetItem alongside   |
| delete one task                    | TransactWriteItems | version check, + users' task_count |
| list my tasks, newest first        | Query              | table: user_id, task_id descending |
| list my tasks with status S        | Query              | status-index: user_id#S            |
| list my tasks due in a date range  | Query              | due-date-index: user_id, due_date  |
| delete all my tasks (account gone) | Query + Batch      | table: user_id                     |
"""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from api.storage import BaseModel, IsoDateTimeAttribute


class StatusIndex(GlobalSecondaryIndex["Task"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "status-index"
        projection = AllProjection()

    status_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class DueDateIndex(GlobalSecondaryIndex["Task"]):  # type: ignore[no-untyped-call]
    """Sparse: only tasks with a due date appear in it."""

    class Meta:
        index_name = "due-date-index"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    due_date = UnicodeAttribute(range_key=True)


class Task(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "tasks"

    user_id = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    priority = UnicodeAttribute()
    due_date = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    created_at = IsoDateTimeAttribute()
    updated_at = IsoDateTimeAttribute()
    completed_at = IsoDateTimeAttribute(null=True)
    # Denormalised "<user_id>#<status>" so one user's tasks in one status share a partition.
    status_key = UnicodeAttribute()
    version = VersionAttribute()

    status_index = StatusIndex()
    due_date_index = DueDateIndex()


def status_key(user_id: str, status: str) -> str:
    return f"{user_id}#{status}"
