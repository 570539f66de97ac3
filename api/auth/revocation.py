"""When signed tokens stop working: ended sessions and per-user "not before" marks.

One partition per user (its `sub`); a request reads exactly the two items that can refuse
its token, by key, in ONE strongly consistent BatchGetItem (ADR 0003):

| entry                  | written by                              | refuses                      |
|------------------------|-----------------------------------------|------------------------------|
| `session#<origin_jti>` | logout                                  | every token of that sign-in  |
| `user`                 | logout all, password change or reset,   | sign-ins before `not_before` |
|                        | disable, delete                         | and all while `disabled`     |

While an account's deletion is under way the `user` row also says `deleting`: its tokens are
refused like the others, except on the one request that may finish the job, DELETE of
that account by its own token (api/auth/tokens.py). Deletion can outlast one request's
deadline (202, continue with another DELETE), and the user may still hold only tokens
from before it began; when it completes, `deleting` goes and every earlier token is refused.

A session is identified by `origin_jti` and dated by `auth_time`, which Cognito keeps on
every token a refresh mints, so a refresh token that outlived its session cannot mint a
working access token either. Rows expire (TTL) once no token they refuse can still exist;
however many sessions a user ended, the check reads two items.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from api.storage import BaseModel

SESSION = "session#"
USER = "user"
# The longest a sign-in can keep minting tokens: the refresh token's 30 days
# (infra/identity.yaml RefreshTokenValidity) plus one access token's hour.
SESSION_MAX_SECONDS = 30 * 24 * 3600 + 3600
# What a token must carry for its session to be revocable at all.
SESSION_CLAIMS = ("jti", "origin_jti", "auth_time")


class Revocation(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "revoked-tokens"

    user_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    not_before = NumberAttribute(null=True)
    disabled = BooleanAttribute(null=True)
    # Deletion has begun and not finished: only the DELETE that finishes it may pass.
    deleting = BooleanAttribute(null=True)
    # DynamoDB's TTL deletes the row once no token it refuses could be used anyway.
    expires_at = TTLAttribute(null=True)


def _at(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)


def end_session(user_id: str, origin_jti: str, *, until: float) -> None:
    """Refuse every token of one sign-in; `until`: when none of them can be used anyway."""
    Revocation(user_id, SESSION + origin_jti, expires_at=_at(until)).save()


def end_all_sessions(
    user_id: str, *, disable: bool = False, expires: bool = True, deleting: bool = False
) -> None:
    """Refuse every token of every sign-in until now; with `disable`, all later ones too.

    Token times are whole seconds, so the mark is the next second, and the call returns only
    once that second has begun: every token issued before the caller hears back is refused,
    every sign-in after it is not. A mark that does not expire stays until `enable`.
    """
    not_before = math.floor(time.time()) + 1
    actions: list[Action] = [Revocation.not_before.set(not_before)]
    if disable:
        actions.append(Revocation.disabled.set(True))
    if deleting:
        actions.append(Revocation.deleting.set(True))
    if expires:
        actions.append(Revocation.expires_at.set(_at(not_before + SESSION_MAX_SECONDS)))
    else:
        actions.append(Revocation.expires_at.remove())
    Revocation(user_id, USER).update(actions=actions)
    time.sleep(max(0.0, not_before - time.time()))


def begin_deletion(user_id: str) -> None:
    """Refuse every token of the account from now on, except to finish its own deletion.

    The mark expires like any other: by then no token it refuses can still be used, and the
    Cognito user (deleted next) can mint no new ones.
    """
    end_all_sessions(user_id, disable=True, deleting=True)


def finish_deletion(transaction: TransactWrite, user_id: str) -> None:
    """The account is gone: no earlier token passes, not even to DELETE it again.

    Part of the transaction that removes the profile, so the pass ends exactly when there
    is nothing left to finish (and costs the deletion no extra round trip).
    """
    expires_at = _at(time.time() + SESSION_MAX_SECONDS)
    transaction.update(
        Revocation(user_id, USER),
        actions=[Revocation.deleting.remove(), Revocation.expires_at.set(expires_at)],
    )


def enable(user_id: str) -> None:
    """Sign-ins work again; tokens from before the account was disabled stay refused."""
    expires_at = _at(time.time() + SESSION_MAX_SECONDS)
    Revocation(user_id, USER).update(
        actions=[Revocation.disabled.remove(), Revocation.expires_at.set(expires_at)]
    )


def has_session_claims(claims: Mapping[str, Any]) -> bool:
    return all(claims.get(name) for name in SESSION_CLAIMS)


@dataclass(frozen=True)
class SessionCheck:
    """The marks that can refuse one token: read with, or conditioned on inside, a request's
    own DynamoDB call, so the check costs no round trip of its own (ADR 0003).

    The same two items by key however it is done: the user's mark and this session's row.
    """

    user_id: str
    origin_jti: str
    auth_time: int

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> SessionCheck:
        return cls(str(claims["sub"]), str(claims["origin_jti"]), int(claims["auth_time"]))

    def mark_keys(self) -> list[tuple[str, str]]:
        return [(self.user_id, USER), (self.user_id, SESSION + self.origin_jti)]

    def refuses(self, rows: Iterable[Revocation], *, finishing_own_deletion: bool = False) -> bool:
        """Do these rows (what exists of `mark_keys()`) refuse the token?

        `finishing_own_deletion`: the request is a DELETE of the token's own account, which
        passes the mark while that deletion is under way (and only then).
        """
        for row in rows:
            if row.entry != USER:
                return True
            if row.deleting and finishing_own_deletion:
                continue
            if row.disabled or self.auth_time < (row.not_before or 0):
                return True
        return False

    def conditions(self) -> list[tuple[tuple[str, str], Condition]]:
        """Per key, the condition under which it lets the token pass: `refuses` as conditions,
        for the ConditionChecks of a write's transaction (no write passes a deletion's mark)."""
        return _conditions(self)


# A client writes with the same token for up to an hour: its conditions are built once.
@functools.lru_cache(maxsize=256)
def _conditions(check: SessionCheck) -> list[tuple[tuple[str, str], Condition]]:
    mark_passes = Revocation.user_id.does_not_exist() | (
        (Revocation.disabled.does_not_exist() | (Revocation.disabled == False))  # noqa: E712
        & (Revocation.not_before.does_not_exist() | (Revocation.not_before <= check.auth_time))
    )
    user_key, session_key = check.mark_keys()
    return [(user_key, mark_passes), (session_key, Revocation.entry.does_not_exist())]


def refused(check: SessionCheck, *, finishing_own_deletion: bool = False) -> bool:
    """The check as a call of its own: two items by key in one strongly consistent
    BatchGetItem, so its cost does not grow with the sessions a user ended."""
    rows = Revocation.batch_get(check.mark_keys(), consistent_read=True)
    return check.refuses(rows, finishing_own_deletion=finishing_own_deletion)


def is_revoked(claims: Mapping[str, Any], *, finishing_own_deletion: bool = False) -> bool:
    """Is this token's session ended, or its user's sign-ins? (Requests whose own call carries
    the check skip this one: api/auth/session_check.py.)"""
    return refused(SessionCheck.of(claims), finishing_own_deletion=finishing_own_deletion)
