"""Fault injection at the AWS boundary: make one operation of a real client fail or answer oddly.

A `before-call` handler that returns a response (or raises) stands in for the service, so the
code under test runs unchanged above the client and the local engines stay untouched.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

_ids = itertools.count()


def client_error(code: str, operation: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}, **extra}, operation)


@contextmanager
def injected(
    client: Any,
    service: str,
    operation: str,
    *,
    error: Exception | None = None,
    response: dict[str, Any] | None = None,
    times: int | None = None,
    after: int = 0,
) -> Iterator[list[dict[str, Any]]]:
    """While the block runs, `operation` raises `error` or returns `response` (the first `times`
    calls once `after` calls went through; all when None) instead of reaching the service.
    Yields the intercepted parameters."""
    seen: list[dict[str, Any]] = []
    passed = itertools.count()
    unique_id = f"tasklake-fault-{next(_ids)}"

    def _fake(params: dict[str, Any], **_: Any) -> Any:
        if next(passed) < after or (times is not None and len(seen) >= times):
            return None
        seen.append(params)
        if error is not None:
            raise error
        return SimpleNamespace(status_code=200), response

    event = f"before-call.{service}.{operation}"
    client.meta.events.register(event, _fake, unique_id=unique_id)
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, unique_id=unique_id)
