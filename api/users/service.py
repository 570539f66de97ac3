"""Accounts: a Cognito identity plus a profile item, created and removed together."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.transactions import TransactWrite

from api import deadline, metrics
from api.auth import revocation
from api.auth.identity import IdentityProvider
from api.compensation import undone_on_failure
from api.deadline import DeadlineExceeded
from api.problems import NotFound
from api.storage import Page, conditional_update, connection, one_page, utcnow
from api.tasks.bulk_delete import delete_all_tasks
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


def end_all_sessions(identity: IdentityProvider, user_id: str) -> None:
    """Our mark refuses every earlier token at once; Cognito's sign-out ends refresh tokens."""
    revocation.end_all_sessions(user_id)
    _sign_out_everywhere(identity, user_id)


def _sign_out_everywhere(identity: IdentityProvider, user_id: str) -> None:
    """Cognito's sign-out; a user gone meanwhile has no refresh token left to end (and the
    caller, maybe anonymous, must not hear that user's id)."""
    try:
        identity.sign_out_everywhere(user_id)
    except NotFound:
        log.info("no Cognito user to sign out", extra={"signed_out_user_id": user_id})


def change_password(
    identity: IdentityProvider, user_id: str, access_token: str, current: str, new: str
) -> None:
    """Change the password and end every earlier session, a thief's included, whatever fails.

    The mark comes before Cognito: if the change or anything after it fails, the sessions are
    ended already (sign in again and retry), never left alive beside a changed password. So a
    wrong current password ends them too. The mark is written again after the change, for a
    sign-in that slipped in with the old password meanwhile.
    """
    revocation.end_all_sessions(user_id)
    identity.change_password(access_token, current, new)
    end_all_sessions(identity, user_id)


# The mark after a reset must not be starved by Cognito's calls: this much of the request's
# deadline is held back from them, enough for two DynamoDB attempts.
RESET_MARK_RESERVE_SECONDS = 2 * deadline.DYNAMODB.attempt_seconds
RESET_MARK_TRIES = 3


def reset_password(identity: IdentityProvider, email: str, code: str, new_password: str) -> None:
    """Set a new password with the emailed code, then end every earlier session of the account.

    The account is the Cognito user behind the email, by `sub`: profiles' emails are not
    unique (a deletion left at 202 keeps its profile while the email signs up again). The mark
    cannot come first, or a wrong code would end anyone's sessions; so it is retried, with time
    held back for it, and the answer is never success without it.
    """
    user_id = identity.user_id_of(email)
    with deadline.held_back(RESET_MARK_RESERVE_SECONDS):
        identity.reset_password(email, code, new_password)
    if user_id is None:  # created after the lookup, with no session yet
        return
    _end_all_sessions_after_reset(user_id)
    _sign_out_everywhere(identity, user_id)


def _end_all_sessions_after_reset(user_id: str) -> None:
    for tries_left in reversed(range(RESET_MARK_TRIES)):
        try:
            revocation.end_all_sessions(user_id)
            return
        except (PynamoDBException, DeadlineExceeded):
            left = deadline.remaining()
            if tries_left and (left is None or left >= deadline.DYNAMODB.attempt_seconds):
                continue
            log.error(
                "password reset but earlier sessions not ended: disable and enable the user",
                extra={"reset_user_id": user_id},
            )
            raise


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
    if not conditional_update(
        user,
        [*actions, User.updated_at.set(utcnow())],
        condition=User.user_id.exists() & User.deleting_since.does_not_exist(),
    ):
        raise NotFound(f"User {user_id} was not found")
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
