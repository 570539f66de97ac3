"""How many tasks each user holds: a counter on their profile, so the cap costs one UpdateItem.

A create reserves a slot (`ADD task_count 1` on the condition that the count is under the cap)
before the task is written, and gives it back when the write fails or was a replay; a delete
gives its slot back once the task is gone. A crash between the two calls can only over-count,
never let a user past the cap. Not one transaction with the task: concurrent creates of one
user would then conflict on the counter item (TransactionConflict) instead of queueing.
"""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from api import upstream
from api.problems import TaskLimitReached
from api.users.models import User


def reserve(user_id: str, *, cap: int) -> None:
    """Count one more task for the user, or raise TaskLimitReached at the cap."""
    try:
        User(user_id).update(
            [User.task_count.add(1)],
            # Only a profile holds a count: no half-made user item for an unknown id.
            condition=User.user_id.exists()
            & (User.task_count.does_not_exist() | (User.task_count < cap)),
        )
    except UpdateError as error:
        if not upstream.condition_failed(error):
            raise
        raise TaskLimitReached(
            f"An account holds at most {cap} tasks; delete some to add more"
        ) from None


def give_back(user_id: str) -> None:
    """Count one task fewer (never below zero: tasks from before the counter were not counted)."""
    try:
        User(user_id).update([User.task_count.add(-1)], condition=User.task_count > 0)
    except UpdateError as error:
        if not upstream.condition_failed(error):
            raise
