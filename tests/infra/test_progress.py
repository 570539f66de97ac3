"""Progress lines: in place on a terminal, occasional plain lines in a log."""

from __future__ import annotations

import io

from infra.local.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_interval_and_one_at_the_end() -> None:
    log, clock = io.StringIO(), Clock()
    progress = Progress("tasks", 1000, stream=log, interval=10, clock=clock)

    for _ in range(1000):
        clock.now += 1 / 32  # 32 items a second, exact in binary: 31.25 s in all
        progress.advance()

    assert log.getvalue().splitlines() == [
        "tasks: 320/1000 (32 %), 32/s, ~21 s left",
        "tasks: 640/1000 (64 %), 32/s, ~11 s left",
        "tasks: 960/1000 (96 %), 32/s, ~1 s left",
        "tasks: 1000/1000 (100 %), 32/s",
    ]


def test_a_terminal_gets_one_line_updated_in_place() -> None:
    terminal, clock = Terminal(), Clock()

    with Progress("users", 3, stream=terminal, clock=clock) as progress:
        for _ in progress.track(["a", "b", "c"]):
            clock.now += 1

    assert terminal.getvalue() == (
        "\rusers: 1/3 (33 %), 1/s, ~2 s left\033[K"
        "\rusers: 2/3 (67 %), 1/s, ~1 s left\033[K"
        "\rusers: 3/3 (100 %), 1/s\033[K\n"
    )


def test_an_interrupted_terminal_line_is_ended() -> None:
    terminal, clock = Terminal(), Clock()

    with Progress("tasks", 10, stream=terminal, clock=clock) as progress:
        clock.now += 1
        progress.advance(4)

    assert terminal.getvalue().endswith("~2 s left\033[K\n")
