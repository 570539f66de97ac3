"""GET /health: can this instance serve requests? (No auth: load balancers and probes.)"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from pynamodb.exceptions import PynamoDBException

from api.problems import ServiceUnavailable
from api.smorest import Blueprint, Schema
from api.tasks.models import Task

PROBE_KEY = "health-probe"
blp = Blueprint("health", __name__, description="Service health")


class HealthSchema(Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    dynamodb = ma.fields.String(metadata={"example": "ok"})


@blp.get("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, description="DynamoDB does not answer")
def health() -> dict[str, Any]:
    """Report whether DynamoDB answers"""
    try:
        # A data-plane read of a key that never exists: cheap, and it exercises
        # the same endpoint, credentials and IAM permissions as real requests.
        Task.get(PROBE_KEY, PROBE_KEY)
    except Task.DoesNotExist:
        pass
    except PynamoDBException as error:
        raise ServiceUnavailable("DynamoDB does not answer") from error
    return {"status": "ok", "dynamodb": "ok"}
