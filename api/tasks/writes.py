"""A task write as ONE TransactWriteItems that carries the session check (ADR 0002, 0003).

The session's marks go in as ConditionChecks ahead of the write's own items, so a token
its user ended (logout, logout-all, password change, disable, deletion) changes nothing,
and the check costs no round trip of its own.

Items of one transaction that another transaction holds make DynamoDB cancel it with
`TransactionConflict`; every write of a user checks the same two mark items (and a create
or delete changes the user's counter), so concurrent writes of one user can conflict.
They are sent again after a short random pause, a few times. (A "try" here is one whole
TransactWriteItems; each may be several HTTP attempts of botocore's retries, api/deadline.py.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api.auth.revocation import Revocation, SessionCheck
from api.auth.session_check import revoked
from api.storage import connection
from api.tasks.models import Task

CONDITION_FAILED = "ConditionalCheckFailed"
CONFLICT = "TransactionConflict"
CONFLICT_TRIES = 5
CONFLICT_PAUSE_SECONDS = 0.01  # up to, doubling per try

Reasons = list[str | None]


def write_carrying(
    session: SessionCheck | None, build: Callable[[TransactWrite], None]
) -> Reasons | None:
    """Commit the items `build` adds behind the session's ConditionChecks.

    Returns None once committed; if a condition of `build`'s items failed, their cancellation
    reasons (in DynamoDB's order: condition checks, deletes, puts, updates). Raises the 401 of
    a revoked token when the marks refuse it.
    """
    checks = session.conditions() if session else []
    for tried in range(CONFLICT_TRIES):
        try:
            with TransactWrite(connection=connection(Task)) as transaction:
                for (hash_key, range_key), condition in checks:
                    transaction.condition_check(Revocation, hash_key, range_key, condition)
                build(transaction)
            return None
        except TransactWriteError as error:
            reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
            if not reasons:
                raise
            if CONDITION_FAILED in reasons[: len(checks)]:
                raise revoked() from None
            if CONFLICT in reasons and tried + 1 < CONFLICT_TRIES:
                time.sleep(random.uniform(0, CONFLICT_PAUSE_SECONDS * 2**tried))  # noqa: S311
                continue
            if CONDITION_FAILED not in reasons:
                raise
            return reasons[len(checks) :]
    raise AssertionError("unreachable")  # pragma: no cover
