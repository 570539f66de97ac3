"""A task as the API writes it: exactly `TaskSchema`'s output, built without marshmallow.

marshmallow sends every field of every task through its generic machinery (~70 µs a task,
1.4 ms of a 20-task page), and PynamoDB first builds a model of each stored item (~50 µs
more). So a page is written straight from the items DynamoDB returned (`of_item`), and one
task from its model (`of_task`). `TaskSchema` stays the documented contract: the schemas
call these writers (api/tasks/schemas.py), and tests/api/test_task_documents.py holds both
equal to what marshmallow would dump from the same task.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from api.storage import iso
from api.tasks.models import Task

Document = dict[str, Any]
# What IsoDateTimeAttribute stores (api/storage.py ISO_FORMAT): written as it is read.
_STORED_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def of_task(task: Task) -> Document:
    return {
        "id": task.task_id,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "due_date": task.due_date,
        "tags": list(task.tags or ()),
        "created_at": _instant(task.created_at),
        "updated_at": _instant(task.updated_at),
        "completed_at": _instant(task.completed_at),
    }


def of_item(item: Mapping[str, Any]) -> Document:
    """The document of a stored task item (DynamoDB's attribute-value map)."""
    tags = item.get("tags")
    return {
        "id": _string(item.get("task_id")),
        "title": _string(item.get("title")),
        "description": _string(item.get("description")),
        "status": _string(item.get("status")),
        "priority": _string(item.get("priority")),
        "due_date": _string(item.get("due_date")),
        "tags": [tag["S"] for tag in tags["L"]] if tags and "L" in tags else [],
        "created_at": _stored_instant(item.get("created_at")),
        "updated_at": _stored_instant(item.get("updated_at")),
        "completed_at": _stored_instant(item.get("completed_at")),
    }


def _string(value: Mapping[str, Any] | None) -> str | None:
    return value.get("S") if value else None


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def _stored_instant(value: Mapping[str, Any] | None) -> str | None:
    text = _string(value)
    if text is None or _STORED_INSTANT.fullmatch(text):
        return text
    return iso(datetime.fromisoformat(text))  # written some other way: as the model reads it
