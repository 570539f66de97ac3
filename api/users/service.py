"""Accounts: a Cognito identity plus a profile item, created and removed together."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.transactions import TransactWrite

from api import deadline, metrics, upstream
from api.auth import revocation
from api.auth.identity import IdentityProvider
from api.compensation import undone_on_failure
from api.problems import NotFound
from api.storage import Page, connection, one_page, utcnow
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


def find_by_email(email: str) -> User | None:
    return next(iter(User.directory.query(USER_KIND, User.email == email, limit=1)), None)


def end_all_sessions(identity: IdentityProvider, user_id: str) -> None:
    """Our mark refuses every earlier token at once; Cognito's sign-out ends refresh tokens."""
    revocation.end_all_sessions(user_id)
    identity.sign_out_everywhere(user_id)


def update(identity: IdentityProvider, user_id: str, changes: dict[str, Any]) -> User:
    """Rename and/or enable or disable; disabling refuses every token from the first moment."""
    if "enabled" in changes:
        get_user(user_id)  # 404 before touching Cognito or the marks
    if changes.get("enabled") is False:
        revocation.end_all_sessions(user_id, disable=True, expires=False)
        identity.set_enabled(user_id, enabled=False)
        identity.sign_out_everywhere(user_id)
    elif changes.get("enabled"):
        identity.set_enabled(user_id, enabled=True)
        revocation.enable(user_id)
    actions = [getattr(User, field).set(value) for field, value in changes.items()]
    user = User(user_id)
    try:
        user.update(
            [*actions, User.updated_at.set(utcnow())],
            condition=User.user_id.exists() & User.deleting_since.does_not_exist(),
        )
    except UpdateError as error:
        if upstream.condition_failed(error):
            raise NotFound(f"User {user_id} was not found") from None
        raise
    return user


def delete_account(identity: IdentityProvider, user: User) -> bool:
    """Refuse the account's tokens, mark the profile, remove the sign-in, the tasks, then the
    profile; True when done.

    The two marks come first, so the account is unusable from the start: every earlier token
    is refused (api/auth/revocation.py) except on a DELETE of the account by its own token,
    and the profile is gone (404) to everything but that DELETE. Each step tolerates "already
    done", so after a failure, or when thousands of tasks outlast the request's deadline
    (False, answered 202), another DELETE of the same user continues, even with the same
    token. The profile and that pass go in one transaction: then every earlier token is refused.
    """
    if not user.deleting_since:
        revocation.begin_deletion(user.user_id)
        user.update([User.deleting_since.set(utcnow())], condition=User.user_id.exists())
    identity.delete(user.user_id)
    # Keep time for one more batch and the last write: the profile and the last mark.
    removed, finished = delete_all_tasks(
        user.user_id, reserve_seconds=2 * deadline.DYNAMODB.attempt_seconds
    )
    if finished:
        # Together: the account's tokens lose their pass exactly when the profile goes.
        with TransactWrite(connection=connection(User)) as transaction:
            transaction.delete(user)
            revocation.finish_deletion(transaction, user.user_id)
    log.info(
        "account deleted" if finished else "account deletion continues on the next DELETE",
        extra={"deleted_user_id": user.user_id, "tasks_removed": removed},
    )
    return finished


def list_users(*, limit: int, start_key: dict[str, Any] | None) -> Page[User]:
    results = User.directory.query(USER_KIND, page_size=limit, last_evaluated_key=start_key)
    return one_page(results, User)
