"""What a CloudWatch alarm of infra/monitoring.yaml would decide, given the metric data we emit.

Datapoints come from the API's EMF log lines or from the ETL's PutMetricData payloads. They are
aggregated per the alarm's Period and statistic over its last EvaluationPeriods periods (a
sliding window ending at `now`, CloudWatch's default), the alarm's metric-math expression is
evaluated as written in the template, and Threshold, ComparisonOperator, DatapointsToAlarm and
TreatMissingData decide the state.

The expression is evaluated by tests/infra/metric_math.py.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.infra.metric_math import evaluate_expression, parse_expression
from tests.infra.monitoring_template import Alarm, MetricRef, Query


@dataclass(frozen=True)
class Datapoint:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float
    timestamp: datetime


def from_emf(lines: Iterable[str]) -> list[Datapoint]:
    """Datapoints of every EMF line (a JSON object with `_aws.CloudWatchMetrics`) among `lines`."""
    points = []
    for line in lines:
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        at = datetime.fromtimestamp(record["_aws"]["Timestamp"] / 1000, UTC)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((name, str(record[name])) for name in dimension_set))
                for metric in directive["Metrics"]:
                    values = record[metric["Name"]]
                    for value in values if isinstance(values, list) else [values]:
                        points.append(
                            Datapoint(directive["Namespace"], metric["Name"], dimensions, value, at)
                        )
    return points


def from_metric_data(namespace: str, metric_data: Iterable[Mapping[str, Any]]) -> list[Datapoint]:
    """Datapoints of a PutMetricData call's `MetricData`."""
    return [
        Datapoint(
            namespace,
            datum["MetricName"],
            tuple(sorted((d["Name"], str(d["Value"])) for d in datum.get("Dimensions", []))),
            float(datum["Value"]),
            datum["Timestamp"],
        )
        for datum in metric_data
    ]


def statistic(stat: str, values: list[float]) -> float:
    if stat == "Sum":
        return math.fsum(values)
    if stat == "SampleCount":
        return float(len(values))
    if stat == "Average":
        return math.fsum(values) / len(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Maximum":
        return max(values)
    if match := re.fullmatch(r"p(\d+(?:\.\d+)?)", stat):
        ranked = sorted(values)  # nearest rank, as for raw values
        return ranked[max(0, math.ceil(float(match.group(1)) / 100 * len(ranked)) - 1)]
    raise ValueError(f"statistic {stat!r} is not supported")


def period_values(
    points: Iterable[Datapoint], metric: MetricRef, stat: str, period: int, ends: list[datetime]
) -> list[float | None]:
    """The statistic of `metric` in each period (end - period, end]; None where it has no data."""
    buckets: list[list[float]] = [[] for _ in ends]
    for point in points:
        if (point.namespace, point.name, point.dimensions) != (
            metric.namespace,
            metric.name,
            metric.values,
        ):
            continue
        for bucket, end in zip(buckets, ends, strict=True):
            if end - timedelta(seconds=period) < point.timestamp <= end:
                bucket.append(point.value)
    return [statistic(stat, bucket) if bucket else None for bucket in buckets]


# --- the alarm ---

_THRESHOLDS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def query_values(
    alarm: Alarm, query: Query, points: list[Datapoint], ends: list[datetime]
) -> list[float | None]:
    if query.metric is not None:
        return period_values(points, query.metric, query.stat, query.period, ends)
    inputs = {
        other.id: query_values(alarm, other, points, ends)
        for other in alarm.queries
        if other.id != query.id
    }
    tree = parse_expression(query.expression)
    return [
        evaluate_expression(tree, {name: series[index] for name, series in inputs.items()})
        for index in range(len(ends))
    ]


def alarm_state(alarm: Alarm, points: list[Datapoint], now: datetime) -> str:
    """ALARM, OK or INSUFFICIENT_DATA for the alarm's last EvaluationPeriods periods at `now`."""
    ends = [
        now - timedelta(seconds=alarm.period * back)
        for back in reversed(range(alarm.evaluation_periods))
    ]
    values = query_values(alarm, alarm.returned, points, ends)
    breaches = _THRESHOLDS[alarm.comparison]
    verdicts = [None if value is None else breaches(value, alarm.threshold) for value in values]
    if alarm.treat_missing_data in {"breaching", "notBreaching"}:
        missing_breaches = alarm.treat_missing_data == "breaching"
        verdicts = [missing_breaches if verdict is None else verdict for verdict in verdicts]
    present = [verdict for verdict in verdicts if verdict is not None]
    if not present:
        return "INSUFFICIENT_DATA"  # `missing`; `ignore` would keep the previous state
    return "ALARM" if sum(present) >= alarm.datapoints_to_alarm else "OK"
