"""Hand-built DynamoDB export items for tests that need exact control over every attribute."""

from typing import Any

Item = dict[str, dict[str, Any]]


def task_item(
    user_id: str,
    task_id: str,
    *,
    status: str = "todo",
    created_at: str = "2026-11-20T08:00:00.000000Z",
    completed_at: str | None = None,
    due_date: str | None = None,
    tags: list[str] | None = None,
    **extra_attributes: dict[str, Any],
) -> Item:
    """A tasks-table item as DynamoDB exports it; `extra_attributes` are added verbatim."""
    item: Item = {
        "user_id": {"S": user_id},
        "task_id": {"S": task_id},
        "title": {"S": f"Task {task_id}"},
        "description": {"S": "Some free text we never keep"},
        "status": {"S": status},
        "priority": {"S": "medium"},
        "created_at": {"S": created_at},
        "updated_at": {"S": completed_at or created_at},
        "version": {"N": "1"},
        "status_key": {"S": f"{user_id}#{status}"},
    }
    if completed_at is not None:
        item["completed_at"] = {"S": completed_at}
    if due_date is not None:
        item["due_date"] = {"S": due_date}
    if tags is not None:
        item["tags"] = {"L": [{"S": tag} for tag in tags]}
    item.update(extra_attributes)
    return item
