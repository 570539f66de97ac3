"""Accounts: a Cognito identity plus a profile item, created and removed together."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from api import deadline, metrics
from api.auth.identity import IdentityProvider
from api.compensation import undone_on_failure
from api.problems import NotFound
from api.storage import Page, one_page, utcnow
from api.tasks.service import delete_all_tasks
from api.users.models import USER_KIND, User

log = logging.getLogger(__name__)


def register(identity: IdentityProvider, email: str, password: str, name: str) -> User:
    user_id = identity.register(email, password, name)
    now = utcnow()
    user = User(user_id, email=email, name=name, created_at=now, updated_at=now)
    # Without a profile the account is half made: undo the Cognito half.
    with undone_on_failure(
        lambda: identity.delete(user_id),
        leaves=f"Cognito user {user_id} without a profile",
        undo_seconds=deadline.COGNITO.attempt_seconds,
    ):
        user.save()
    metrics.count(metrics.SIGN_UPS)
    return user


def get_user(user_id: str, *, being_deleted: bool = False) -> User:
    """The profile; one whose deletion has begun only when `being_deleted` (to finish it)."""
    try:
        user = User.get(user_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"User {user_id} was not found") from None
    if user.deleting_since and not being_deleted:
        raise NotFound(f"User {user_id} was not found")
    return user


def rename(user_id: str, name: str) -> User:
    user = User(user_id)
    try:
        user.update(
            [User.name.set(name), User.updated_at.set(utcnow())],
            condition=User.user_id.exists() & User.deleting_since.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"User {user_id} was not found") from None
        raise
    return user


def delete_account(identity: IdentityProvider, user: User) -> bool:
    """Mark the profile, remove the sign-in, the tasks, then the profile; True when done.

    The mark comes first, so the account is gone to every other request from the start.
    Each step tolerates "already done", so after a failure, or when thousands of tasks
    outlast the request's deadline (False), another DELETE of the same user continues.
    """
    if not user.deleting_since:
        user.update([User.deleting_since.set(utcnow())], condition=User.user_id.exists())
    identity.delete(user.user_id)
    # Keep time for one more batch and the profile's own DeleteItem.
    removed, finished = delete_all_tasks(
        user.user_id, reserve_seconds=2 * deadline.DYNAMODB.attempt_seconds
    )
    if finished:
        user.delete()
    log.info(
        "account deleted" if finished else "account deletion continues on the next DELETE",
        extra={"deleted_user_id": user.user_id, "tasks_removed": removed},
    )
    return finished


def list_users(*, limit: int, start_key: dict[str, Any] | None) -> Page[User]:
    results = User.directory.query(USER_KIND, page_size=limit, last_evaluated_key=start_key)
    return one_page(results, User)
