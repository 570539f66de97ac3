"""Fault injection at the AWS boundary: make one operation of a real client fail or answer oddly.

A `before-call` handler that returns a response (or raises) stands in for the service, so the
code under test runs unchanged above the client and the local engines stay untouched.
`hung` freezes a real engine instead, for what only a real socket shows (timeouts).
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

_ids = itertools.count()
_LISTEN = "0A"  # the TCP state of a listening socket in /proc/net/tcp


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


def listening_pid(port: int) -> int:
    """The process listening on a loopback TCP port (Linux: /proc), to freeze a real engine."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    for descriptor in Path("/proc").glob("[0-9]*/fd/*"):
        with suppress(OSError):
            if os.readlink(descriptor) in inodes:
                return int(descriptor.parts[2])
    raise LookupError(f"nothing listens on port {port}")


@contextmanager
def hung(pid: int) -> Iterator[None]:
    """The process is frozen (SIGSTOP) while the block runs: it accepts connections, answers
    nothing, as a hung service does. It resumes (SIGCONT) however the block ends."""
    os.kill(pid, signal.SIGSTOP)
    try:
        _wait_until_stopped(pid)
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _wait_until_stopped(pid: int, timeout: float = 10.0) -> None:
    """kill() returns before every thread of a busy process has stopped: wait for all of them."""
    deadline = time.monotonic() + timeout
    while True:
        states = {_state(stat) for stat in Path(f"/proc/{pid}/task").glob("*/stat")} - {None}
        if states <= {"T", "t"}:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} did not stop: thread states {states}")
        time.sleep(0.01)


def _state(stat: Path) -> str | None:
    """One thread's state letter (None: the thread has just exited)."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
