"""The `problem` the app logs with each failure, recorded while a block runs.

The app sets up logging when it is created (api/observability.py), replacing handlers a test
added before; this handler is added afterwards, on the root logger, for the block only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def logged_problems() -> Iterator[list[str]]:
    problems: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problem = getattr(record, "problem", None)
            if problem is not None:
                problems.append(str(problem))

    recorder = Recorder()
    logging.getLogger().addHandler(recorder)
    try:
        yield problems
    finally:
        logging.getLogger().removeHandler(recorder)
