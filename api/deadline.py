"""One deadline per request, below the Lambda timeout, that every outbound call respects.

Each AWS client gets a `RetryPolicy` whose worst case (every attempt timing out,
every backoff at its maximum) fits the deadline on its own, and a botocore hook
that refuses to start an attempt the time left cannot hold. So a request that
chains several calls still answers problem+json (503) before API Gateway gives
up at the Lambda timeout (tests/api/test_deadline.py holds the arithmetic).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from flask import g, has_request_context

from api.problems import ServiceUnavailable

# botocore's "standard" retry mode sleeps up to 2**(n-1) s (capped at 20) after attempt n.
_MAX_BACKOFF_SECONDS = 20


class DeadlineExceeded(ServiceUnavailable):
    """Too little of the request's time is left to wait for another upstream attempt."""

    def __init__(self) -> None:
        super().__init__("The request ran out of time waiting for a backing service; try again")


@dataclass(frozen=True)
class RetryPolicy:
    connect_timeout: float
    read_timeout: float
    attempts: int  # including the first

    @property
    def attempt_seconds(self) -> float:
        return self.connect_timeout + self.read_timeout

    @property
    def worst_case_seconds(self) -> float:
        backoffs = sum(min(1 << n, _MAX_BACKOFF_SECONDS) for n in range(self.attempts - 1))
        return self.attempts * self.attempt_seconds + backoffs

    def botocore_config(self) -> Config:
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.attempts},
        )


# DynamoDB answers in milliseconds; a throttled or sick table is better answered 429/503 now.
DYNAMODB = RetryPolicy(connect_timeout=1, read_timeout=2, attempts=2)
COGNITO = RetryPolicy(connect_timeout=1, read_timeout=3, attempts=2)
SECRETS_MANAGER = RetryPolicy(connect_timeout=1, read_timeout=3, attempts=2)
# The JWKS is one HTTPS GET (PyJWKClient), refetched once for an unknown key id.
JWKS_TIMEOUT_SECONDS = 3
JWKS_FETCHES = 2


def start(seconds: float) -> None:
    g.deadline = time.monotonic() + seconds


def remaining() -> float | None:
    """Seconds left for this request (None outside a request: scripts, provisioning)."""
    if not has_request_context() or "deadline" not in g:
        return None
    left: float = g.deadline - time.monotonic()
    return left


@contextmanager
def held_back(seconds: float) -> Iterator[None]:
    """Run the block with this request's deadline `seconds` earlier, kept for what follows it
    (an undo, a write that must not be starved); the seconds are given back when it ends."""
    held = has_request_context() and "deadline" in g
    if held:
        g.deadline -= seconds
    try:
        yield
    finally:
        if held:
            g.deadline += seconds


def require(seconds: float) -> None:
    """Raise DeadlineExceeded unless `seconds` still fit before the deadline."""
    left = remaining()
    if left is not None and left < seconds:
        raise DeadlineExceeded


def guard(client: Any, policy: RetryPolicy) -> Any:
    """Make `client` check the deadline before each attempt it sends (retries included)."""

    def _before_send(**_: Any) -> None:
        require(policy.attempt_seconds)

    handler: Callable[..., None] = _before_send
    client.meta.events.register("before-send", handler, unique_id="tasklake-deadline")
    return client
