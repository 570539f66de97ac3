"""GET /health: can this instance serve requests? (No auth: load balancers and probes.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import current_app
from pynamodb.exceptions import PynamoDBException

from api.problems import ServiceUnavailable
from api.schemas import Schema
from api.smorest import Blueprint
from api.tasks.models import Task

PROBE_KEY = "health-probe"
# How long one probe's answer stands: a client looping GET /health costs DynamoDB one read per
# container every few seconds instead of one per request, and an outage shows within as long.
PROBE_CACHE_SECONDS = 5.0
CACHE_EXTENSION = "tasklake.health"
blp = Blueprint("health", __name__, description="Service health")


class HealthSchema(Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    dynamodb = ma.fields.String(metadata={"example": "ok"})


class ProbeCache:
    """The last probe's outcome (None: DynamoDB answered; else the problem) and when it ran."""

    def __init__(
        self, seconds: float = PROBE_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._clock = clock
        self._checked_at: float | None = None
        self._problem: ServiceUnavailable | None = None

    def problem(self, probe: Callable[[], ServiceUnavailable | None]) -> ServiceUnavailable | None:
        now = self._clock()
        if self._checked_at is None or now - self._checked_at >= self._seconds:
            self._problem = probe()
            self._checked_at = now
        return self._problem


def _probe() -> ServiceUnavailable | None:
    try:
        # A data-plane read of a key that never exists: cheap, and it exercises
        # the same endpoint, credentials and IAM permissions as real requests.
        Task.get(PROBE_KEY, PROBE_KEY)
    except Task.DoesNotExist:
        pass
    except PynamoDBException as error:
        problem = ServiceUnavailable("DynamoDB does not answer")
        problem.__cause__ = error
        return problem
    return None


@blp.get("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, description="DynamoDB does not answer")
def health() -> dict[str, Any]:
    """Report whether DynamoDB answered within the last few seconds"""
    cache: ProbeCache = current_app.extensions.setdefault(CACHE_EXTENSION, ProbeCache())
    problem = cache.problem(_probe)
    if problem is not None:
        raise problem
    return {"status": "ok", "dynamodb": "ok"}
