"""Progress of a long local command on stderr: done/total, rate and time left.

On a terminal one line updates in place, at most ten times a second. Elsewhere (a CI log, a
pipe) a plain line is written every `interval` seconds and once at the end, so the log shows
the work moving without a line per item.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TextIO, TypeVar

T = TypeVar("T")
TERMINAL_REFRESH_SECONDS = 0.1


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: TextIO | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty()
        self.every = TERMINAL_REFRESH_SECONDS if self.terminal else interval
        self.clock = clock
        self.started = self.shown_at = clock()

    def line(self) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = self.done / elapsed
        percent = 100 * self.done / max(self.total, 1)
        speed = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"
        text = f"{self.label}: {self.done}/{self.total} ({percent:.0f} %), {speed}/s"
        if 0 < self.done < self.total:
            text += f", ~{(self.total - self.done) / rate:.0f} s left"
        return text

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        if self.done >= self.total or now - self.shown_at >= self.every:
            self.shown_at = now
            self._show(final=self.done >= self.total)

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """Yield the items, counting each as done when the next one is asked for."""
        for item in items:
            yield item
            self.advance()

    def _show(self, final: bool) -> None:
        if self.terminal:
            # \033[K clears what a longer earlier line left behind.
            self.stream.write(f"\r{self.line()}\033[K" + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Stopped early (an error, Ctrl-C): end the in-place line so the next output starts clean.
        if self.terminal and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
