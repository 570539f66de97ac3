"""A task's JSON is written without marshmallow (api/tasks/documents.py) and must be exactly
what TaskSchema, the documented contract, would dump from the same task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import pytest

from api.tasks import documents
from api.tasks.models import Task, status_key
from api.tasks.schemas import TaskPageSchema, TaskSchema
from tests.api.conftest import Account

CREATED = datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC)
UPDATED = datetime(2026, 12, 7, 11, 0, 0, tzinfo=UTC)  # whole second: still 6 digits written

VARIANTS: list[dict[str, Any]] = [
    {},
    {"description": "notes", "due_date": "2026-12-31", "tags": ["home", "ünïcode"]},
    {"description": "", "tags": []},
    {"status": "done", "completed_at": UPDATED, "priority": "low"},
    {"title": "  spaced  ", "tags": ["x"], "status": "in_progress"},
]


def _task(**fields: Any) -> Task:
    values: dict[str, Any] = {
        "title": "a task",
        "status": "todo",
        "priority": "medium",
        "created_at": CREATED,
        "updated_at": UPDATED,
        **fields,
    }
    return Task(
        "user-1",
        "01JDX0000000000000000000AB",
        status_key=status_key("user-1", values["status"]),
        version=3,
        **values,
    )


def _marshmallow_dump(task: Task) -> Any:
    # marshmallow's own dump of the schema's fields (TaskSchema.dump is the fast writer).
    return ma.Schema.dump(TaskSchema(), task)


@pytest.mark.parametrize("fields", VARIANTS)
def test_a_task_is_written_as_its_schema_dumps_it(fields: dict[str, Any]) -> None:
    task = _task(**fields)

    expected = _marshmallow_dump(task)

    assert TaskSchema().dump(task) == expected
    assert documents.of_item(task.serialize()) == expected
    assert list(documents.of_task(task)) == list(TaskSchema().fields)


def test_an_instant_stored_in_another_form_is_written_as_the_model_reads_it() -> None:
    item = _task().serialize()
    item["created_at"] = {"S": "2026-11-25T10:30:00+01:00"}

    written = documents.of_item(item)

    assert written == _marshmallow_dump(Task.from_raw_data(item))
    assert written["created_at"] == "2026-11-25T09:30:00.000000Z"


def test_a_page_dumps_its_stored_items_and_cursor() -> None:
    tasks = [_task(**fields) for fields in VARIANTS]

    page = TaskPageSchema().dump(
        {"items": [task.serialize() for task in tasks], "next_cursor": "0.abc"}
    )

    assert page == {"items": [_marshmallow_dump(task) for task in tasks], "next_cursor": "0.abc"}


def test_a_listed_task_reads_exactly_as_the_task_itself(alice: Account) -> None:
    created = [
        alice.create_task(title="plain"),
        alice.create_task(title="full", description="d", due_date="2026-12-31", tags=["a", "b"]),
        alice.create_task(title="finished", status="done", priority="high"),
    ]

    listed = alice.request("GET", "/tasks").json["items"]

    fetched = [alice.request("GET", f"/tasks/{task['id']}").json for task in created]
    assert listed == list(reversed(fetched))
    assert fetched == created
