"""Structured logs: one JSON object per line, and one access line per request.

CloudWatch Logs Insights (and the metric filters in infra/) parse these fields,
so their names are part of the operator's contract: timestamp, level, logger,
message, request_id, user_id, method, route, status, latency_ms.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

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


def _incoming_request_id() -> str:
    """Lambda's request id when running behind Zappa, else the caller's, else a new one."""
    context = request.environ.get("lambda.context")
    if context is not None and getattr(context, "aws_request_id", None):
        return str(context.aws_request_id)
    event = request.environ.get("lambda.event") or {}
    gateway_id = (event.get("requestContext") or {}).get("requestId")
    if gateway_id:
        return str(gateway_id)
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    if supplied and len(supplied) <= 128 and supplied.isprintable():
        return supplied
    return str(uuid.uuid4())


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def start_request() -> None:
        g.request_id = _incoming_request_id()
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id") or _incoming_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("started")
        latency_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else request.path,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": latency_ms,
            },
        )
        return response
