"""Accounts: a Cognito identity plus a profile item, created and removed together."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from api import metrics
from api.auth.identity import IdentityProvider
from api.problems import NotFound
from api.storage import Page, one_page, utcnow
from api.tasks.service import delete_all_tasks
from api.users.models import USER_KIND, User

log = logging.getLogger(__name__)


def register(identity: IdentityProvider, email: str, password: str, name: str) -> User:
    user_id = identity.register(email, password, name)
    now = utcnow()
    user = User(user_id, email=email, name=name, created_at=now, updated_at=now)
    try:
        user.save()
    except PutError:
        # Without a profile the account is half made: undo the Cognito half.
        identity.delete(user_id)
        raise
    metrics.count(metrics.SIGN_UPS)
    return user


def get_user(user_id: str) -> User:
    try:
        return User.get(user_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"User {user_id} was not found") from None


def rename(user_id: str, name: str) -> User:
    user = User(user_id)
    try:
        user.update(
            [User.name.set(name), User.updated_at.set(utcnow())],
            condition=User.user_id.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"User {user_id} was not found") from None
        raise
    return user


def delete_account(identity: IdentityProvider, user: User) -> int:
    """Sign-in first (so nobody logs in mid-way), then tasks, then the profile.

    Each step tolerates "already gone", so a retry after a failure finishes the job.
    """
    identity.delete(user.user_id)
    removed = delete_all_tasks(user.user_id)
    user.delete()
    log.info("account deleted", extra={"deleted_user_id": user.user_id, "tasks_removed": removed})
    return removed


def list_users(*, limit: int, start_key: dict[str, Any] | None) -> Page[User]:
    results = User.directory.query(USER_KIND, page_size=limit, last_evaluated_key=start_key)
    return one_page(results, User)
