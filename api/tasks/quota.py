"""How many tasks each user holds: a counter on their profile, changed in the task's own write.

A create counts one more task (`ADD task_count 1` on the condition that the count is under
the cap) in the same TransactWriteItems that writes the task, and a delete one fewer in the
one that removes it, so the count and the tasks cannot drift apart and the cap costs no
round trip of its own. The price: concurrent writes of one user conflict on the counter
(TransactionConflict) instead of queueing; they are retried (api/tasks/writes.py).
"""

from __future__ import annotations

import functools

from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from api.problems import TaskLimitReached
from api.users.models import User


def count_one_more(transaction: TransactWrite, user_id: str, *, cap: int) -> None:
    """Count one more task for the user; the transaction fails at the cap."""
    transaction.update(User(user_id), [_ONE_MORE], condition=_under(cap))


_ONE_MORE = User.task_count.add(1)


@functools.cache  # one cap per deployment: the condition is built once
def _under(cap: int) -> Condition:
    # Only a profile holds a count: no half-made user item for an unknown id.
    under: Condition = User.user_id.exists() & (
        User.task_count.does_not_exist() | (User.task_count < cap)
    )
    return under


def count_one_fewer(transaction: TransactWrite, user_id: str) -> None:
    """Count one task fewer (the transaction fails at zero: tasks from before the counter were
    not counted, and such a delete is sent again without the count)."""
    transaction.update(User(user_id), [User.task_count.add(-1)], condition=User.task_count > 0)


def limit_reached(cap: int) -> TaskLimitReached:
    return TaskLimitReached(f"An account holds at most {cap} tasks; delete some to add more")
