"""Undo for operations that span services (Cognito + DynamoDB), where no transaction can.

The block runs with part of the request's deadline held back, so that when it fails,
even by running out of time, its undo still has time to run. A failed undo is the one
case that leaves a half-done state: it is logged at ERROR with what to clean up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from api import deadline

log = logging.getLogger(__name__)


@contextmanager
def undone_on_failure(
    undo: Callable[[], object], *, leaves: str, undo_seconds: float
) -> Iterator[None]:
    """Run the block; if it raises, run `undo` and re-raise. `leaves` says what a failed undo
    leaves behind, for the operator who must remove it."""
    try:
        with deadline.held_back(undo_seconds):
            yield
    except Exception:
        try:
            undo()
        except Exception:
            log.exception("undo failed: remove by hand", extra={"leftover": leaves})
        raise
