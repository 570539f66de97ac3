"""Limits on the unauthenticated endpoints, counted in DynamoDB so they hold across containers.

Fixed windows: one item per (rule, subject, window), bumped by one atomic UpdateItem
(`ADD hits 1` on the condition that the window's budget is not spent) and removed by
TTL once the window has passed. Subjects (client addresses, emails) are stored hashed.

| rule                    | subject         | default                  |
|-------------------------|-----------------|--------------------------|
| `<endpoint>`            | client address  | 30 requests per minute   |
| `sign-in-failures`      | email           | 10 failures per 15 min   |

A sign-in reserves one of its email's failure slots before asking Cognito, so concurrent
guesses cannot overshoot the limit, and gives it back when the password was right.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import request
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from api import dependencies, upstream
from api.problems import ApiProblem, TooManyRequests, Unauthorized
from api.smorest import Blueprint
from api.storage import BaseModel

F = TypeVar("F", bound=Callable[..., Any])
SIGN_IN_FAILURES = "sign-in-failures"


def _now() -> float:
    return time.time()


class RateLimitCounter(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "rate-limits"

    # "<rule>#<sha256 of the subject>#<window start, epoch seconds>"
    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute()
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Limit:
    rule: str
    max_hits: int
    window_seconds: int

    def _window(self, subject: str, now: float) -> tuple[RateLimitCounter, int]:
        start = int(now) // self.window_seconds * self.window_seconds
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return RateLimitCounter(f"{self.rule}#{digest}#{start}"), start + self.window_seconds

    def consume(self, subject: str, *, now: float | None = None) -> None:
        """Count one hit for `subject`, or raise TooManyRequests when its window is spent."""
        now = _now() if now is None else now
        counter, ends = self._window(subject, now)
        try:
            counter.update(
                [
                    RateLimitCounter.hits.add(1),
                    RateLimitCounter.expires_at.set(datetime.fromtimestamp(ends, UTC)),
                ],
                condition=RateLimitCounter.hits.does_not_exist()
                | (RateLimitCounter.hits < self.max_hits),
            )
        except UpdateError as error:
            if not upstream.condition_failed(error):
                raise
            raise TooManyRequests(
                "Too many requests; retry after the time Retry-After gives",
                retry_after=int(ends - now) + 1,
            ) from None

    def give_back(self, subject: str, *, now: float) -> None:
        counter, _ = self._window(subject, now)
        try:
            counter.update([RateLimitCounter.hits.add(-1)], condition=RateLimitCounter.hits > 0)
        except UpdateError as error:  # the window's item is already gone: nothing to give back
            if not upstream.condition_failed(error):
                raise


def client_address() -> str:
    """API Gateway's view of the caller under Zappa, else the socket's peer.

    Never X-Forwarded-For: a client can write anything there.
    """
    event = request.environ.get("lambda.event") or {}
    source = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")
    return str(source or request.remote_addr or "unknown")


def per_client_address(blp: Blueprint, endpoint: str) -> Callable[[F], F]:
    """Limit each client address on this endpoint (RATE_LIMIT_PER_ADDRESS a minute); 429 after."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            settings = dependencies.settings()
            Limit(endpoint, settings.rate_limit_per_address, 60).consume(client_address())
            return view(*args, **kwargs)

        documented: F = blp.alt_response(429, description="Too many requests from this address")(
            limited
        )
        return documented

    return decorate


@contextmanager
def counting_sign_in_failures(email: str) -> Iterator[None]:
    """Allow at most SIGN_IN_FAILURE_LIMIT wrong passwords per email and window; 429 after."""
    settings = dependencies.settings()
    limit = Limit(
        SIGN_IN_FAILURES, settings.sign_in_failure_limit, settings.sign_in_failure_window_seconds
    )
    now = _now()
    limit.consume(email, now=now)
    try:
        yield
    except Unauthorized:
        raise  # a wrong password: the slot stays taken
    except ApiProblem:
        limit.give_back(email, now=now)  # not the caller's failure (Cognito down, a reset...)
        raise
    limit.give_back(email, now=now)
