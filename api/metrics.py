"""The API's CloudWatch metrics: the catalog, and the one Embedded Metric Format line per request.

Lambda ships stdout to CloudWatch Logs, which turns a JSON line with an `_aws`
key into metrics: no PutMetricData call in the request path (ADR 0013). The
dashboard, the alarms and their tests take names, units and dimensions from
this catalog; nothing else spells them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from flask import g, has_request_context

NAMESPACE = "Tasklake/API"
STAGE = ("Stage",)
STAGE_ROUTE_METHOD = ("Stage", "Route", "Method")
# Requests no url rule matched (404, 405): one value, so probes of random paths
# cannot mint a metric stream each.
UNMATCHED_ROUTE = "UNMATCHED"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    dimension_sets: tuple[tuple[str, ...], ...] = (STAGE,)


_PER_ROUTE = (STAGE, STAGE_ROUTE_METHOD)
REQUESTS = Metric("Requests", "Count", _PER_ROUTE)
LATENCY = Metric("Latency", "Milliseconds", _PER_ROUTE)
ERRORS_4XX = Metric("Errors4xx", "Count", _PER_ROUTE)
ERRORS_5XX = Metric("Errors5xx", "Count", _PER_ROUTE)
COLD_START = Metric("ColdStart", "Count")
SIGN_UPS = Metric("SignUps", "Count")
LOGINS_FAILED = Metric("LoginsFailed", "Count")
# Code mails Cognito sent (sign-up, resend, forgot password), by what the API knows of the
# recipient: every caller's mail shares the sender's daily quota (the alarm in monitoring.yaml).
CODE_EMAILS_SENT = Metric("CodeEmailsSent", "Count")
TASKS_CREATED = Metric("TasksCreated", "Count")
TASKS_COMPLETED = Metric("TasksCompleted", "Count")

CATALOG: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        REQUESTS,
        LATENCY,
        ERRORS_4XX,
        ERRORS_5XX,
        COLD_START,
        SIGN_UPS,
        LOGINS_FAILED,
        CODE_EMAILS_SENT,
        TASKS_CREATED,
        TASKS_COMPLETED,
    )
}

_CONVERTER = re.compile(r"<[^:<>]+:")


def route_dimension(rule: str | None) -> str:
    """`/tasks/<string:task_id>` -> `/tasks/<task_id>`: the template, never the raw path."""
    return _CONVERTER.sub("<", rule) if rule else UNMATCHED_ROUTE


def count(metric: Metric) -> None:
    """Add one to a business counter of the current request (outside a request: nothing)."""
    if has_request_context():
        counts: dict[Metric, float] = g.setdefault("metric_counts", {})
        counts[metric] = counts.get(metric, 0) + 1


def request_counts() -> dict[Metric, float]:
    """What `count` recorded during the current request."""
    counts: dict[Metric, float] = g.get("metric_counts", {})
    return counts


def emf_line(
    values: Mapping[Metric, float], dimensions: Mapping[str, str], **properties: object
) -> str:
    """One EMF document: a directive per distinct dimension sets, every value at the root."""
    directives: dict[tuple[tuple[str, ...], ...], list[dict[str, str]]] = {}
    for metric in values:
        directives.setdefault(metric.dimension_sets, []).append(
            {"Name": metric.name, "Unit": metric.unit}
        )
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [list(s) for s in sets], "Metrics": defs}
                for sets, defs in directives.items()
            ],
        },
        **properties,
        **dimensions,
        **{metric.name: value for metric, value in values.items()},
    }
    return json.dumps(document, separators=(",", ":"), default=str)
