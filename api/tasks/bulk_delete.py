"""Removing every task of one user, for account deletion (api/users/service.py)."""

from __future__ import annotations

from api import deadline
from api.tasks.models import Task

BATCH_WRITE_ITEMS = 25  # DynamoDB's BatchWriteItem maximum, which PynamoDB batches by


def delete_all_tasks(user_id: str, *, reserve_seconds: float) -> tuple[int, bool]:
    """Remove a user's tasks until done, or until only `reserve_seconds` of the request's
    deadline are left; returns how many were removed and whether all."""
    deleted = 0
    with Task.batch_write() as batch:
        for task in Task.query(user_id, attributes_to_get=["user_id", "task_id"]):
            left = deadline.remaining()
            if deleted % BATCH_WRITE_ITEMS == 0 and left is not None and left < reserve_seconds:
                return deleted, False  # leaving the block writes the batch in hand
            batch.delete(task)
            deleted += 1
    return deleted, True
