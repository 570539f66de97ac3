"""Structured logs: one JSON object per line; per request one access line and one metrics line.

CloudWatch Logs Insights (the runbook's queries, the dashboard's error widget) parse these fields,
so their names are part of the operator's contract: timestamp, level, logger,
message, request_id, user_id, method, route, status, latency_ms, cold_start,
lambda_request_id, apigw_request_id. The metrics line is EMF (api/metrics.py).

Never logged: request bodies, passwords, tokens, the Authorization header.
A failed request logs one ERROR line with its stack trace (api/app.py).
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from api import metrics

REQUEST_ID_HEADER = "X-Request-ID"
access_log = logging.getLogger("tasklake.access")

# Attributes every LogRecord has; anything else passed via `extra=` is a field.
_RECORD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            if g.get("user_id"):
                entry["user_id"] = g.user_id
        entry.update(
            (key, value) for key, value in record.__dict__.items() if key not in _RECORD_ATTRIBUTES
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Route every logger through one JSON handler on stdout (Lambda ships it to CloudWatch)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The dev server's own per-request line would duplicate the access log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # botocore narrates credential and endpoint discovery at INFO on every cold start.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # At DEBUG PynamoDB logs every item it writes: task text, emails. Not even LOG_LEVEL=DEBUG.
    logging.getLogger("pynamodb").setLevel(logging.INFO)


def _lambda_request_id() -> str | None:
    # Zappa puts the invocation's context and API Gateway's event in the WSGI environ.
    lambda_id = getattr(request.environ.get("lambda.context"), "aws_request_id", None)
    return str(lambda_id) if lambda_id else None


def _gateway_request_id() -> str | None:
    event = request.environ.get("lambda.event") or {}
    gateway_id = (event.get("requestContext") or {}).get("requestId")
    return str(gateway_id) if gateway_id else None


def _incoming_request_id() -> str:
    """Lambda's request id when running behind Zappa, else the caller's, else a new one."""
    served = _lambda_request_id() or _gateway_request_id()
    if served:
        return served
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    if supplied and len(supplied) <= 128 and supplied.isprintable():
        return supplied
    return str(uuid.uuid4())


def _emit_metrics(response: Response, latency_ms: float, stage: str, request_id: str) -> None:
    status = response.status_code
    values: dict[metrics.Metric, float] = {
        metrics.REQUESTS: 1,
        metrics.LATENCY: latency_ms,
        metrics.ERRORS_4XX: int(400 <= status < 500),
        metrics.ERRORS_5XX: int(status >= 500),
        **metrics.request_counts(),
    }
    if g.get("cold_start"):
        values[metrics.COLD_START] = 1
    dimensions = {
        "Stage": stage,
        "Route": metrics.route_dimension(request.url_rule.rule if request.url_rule else None),
        "Method": request.method,
    }
    # print, not a logger: metrics must not depend on LOG_LEVEL.
    print(metrics.emf_line(values, dimensions, request_id=request_id), flush=True)


def init_request_logging(app: Flask, stage: str) -> None:
    # One app per container, so its first request is the container's first.
    served = itertools.count()

    @app.before_request
    def start_request() -> None:
        g.request_id = _incoming_request_id()
        g.started = time.perf_counter()
        g.cold_start = next(served) == 0

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id") or _incoming_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("started")
        latency_ms = round((time.perf_counter() - started) * 1000, 2) if started else 0.0
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else request.path,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": latency_ms,
                "cold_start": g.get("cold_start", False),
                "lambda_request_id": _lambda_request_id(),
                "apigw_request_id": _gateway_request_id(),
            },
        )
        _emit_metrics(response, latency_ms, stage, request_id)
        return response
