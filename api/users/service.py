"""Accounts: a Cognito identity plus a profile item, created and removed together."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from api import metrics
from api.auth import revocation
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
        identity.delete(email)
        raise
    metrics.count(metrics.SIGN_UPS)
    return user


def get_user(user_id: str) -> User:
    try:
        return User.get(user_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"User {user_id} was not found") from None


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
        user.update([*actions, User.updated_at.set(utcnow())], condition=User.user_id.exists())
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(f"User {user_id} was not found") from None
        raise
    return user


def delete_account(identity: IdentityProvider, user: User) -> int:
    """Tokens and sign-in first (so nobody acts mid-way), then tasks, then the profile.

    Each step tolerates "already gone", so a retry after a failure finishes the job.
    """
    revocation.end_all_sessions(user.user_id, disable=True)
    identity.delete(user.email)
    removed = delete_all_tasks(user.user_id)
    user.delete()
    log.info("account deleted", extra={"deleted_user_id": user.user_id, "tasks_removed": removed})
    return removed


def list_users(*, limit: int, start_key: dict[str, Any] | None) -> Page[User]:
    results = User.directory.query(USER_KIND, page_size=limit, last_evaluated_key=start_key)
    return one_page(results, User)
