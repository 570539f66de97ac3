"""What a CloudWatch alarm of infra/monitoring.yaml would decide, given the metric data we emit.

Datapoints come from the API's EMF log lines or from the ETL's PutMetricData payloads. They are
aggregated per the alarm's Period and statistic over its last EvaluationPeriods periods (a
sliding window ending at `now`, CloudWatch's default), the alarm's metric-math expression is
evaluated as written in the template, and Threshold, ComparisonOperator, DatapointsToAlarm and
TreatMissingData decide the state.

A metric-math expression is evaluated by tests/infra/metric_math.py; a Metrics Insights query
(`SELECT ... FROM SCHEMA(...)`) by `parse_insights` and `insights_values` below, which accept only
the subset of the language the template uses and raise on anything else.
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

from tests.infra.metric_math import evaluate_series, parse_expression
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


# --- Metrics Insights: the subset the dynamodb-throttles alarm uses ---
#
# Semantics from AWS's "Metrics Insights query components and syntax",
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html
# (read 2026-11-30): keywords are case-insensitive, names of metrics, namespaces and dimensions are
# case-sensitive; FUNCTION is one of AVG, COUNT, MAX, MIN, SUM and aggregates the observations of
# every matched metric in each period; SCHEMA("ns", k1, k2) keeps only metrics whose dimension set
# is exactly {k1, k2}, in any order (SCHEMA("ns") alone: metrics without dimensions); GROUP BY
# splits the result into one series per value of its keys.
#
# Accepted here: SELECT <FUNCTION>(<metric>) FROM SCHEMA("<namespace>"[, <key>...])
#   [WHERE <key> = '<value>' ((AND|OR) <key> = '<value>')...] [GROUP BY <key>[, <key>...]]
# with AND binding tighter than OR, as in SQL. Refused (ValueError): FROM <namespace> without
# SCHEMA, any operator but `=`, parentheses, quoted keys, escaped quotes in values, ORDER BY,
# LIMIT, and WHERE or GROUP BY keys outside the SCHEMA (under SCHEMA they could never match).

_INSIGHTS_FUNCTIONS = {
    "AVG": "Average",
    "COUNT": "SampleCount",
    "MAX": "Maximum",
    "MIN": "Minimum",
    "SUM": "Sum",
}
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_CONDITION = rf"(?P<key>{_KEY})\s*=\s*'(?P<value>[^'\\]*)'"
_INSIGHTS = re.compile(
    rf"""SELECT\s+(?P<function>[A-Za-z]+)\s*\(\s*(?P<metric>{_KEY})\s*\)
    \s+FROM\s+SCHEMA\s*\(\s*"(?P<namespace>[^"\\]+)"(?P<schema>(?:\s*,\s*{_KEY})*)\s*\)
    (?:\s+WHERE\s+(?P<where>{_KEY}\s*=\s*'[^'\\]*'(?:\s+(?:AND|OR)\s+{_KEY}\s*=\s*'[^'\\]*')*))?
    (?:\s+GROUP\s+BY\s+(?P<group>{_KEY}(?:\s*,\s*{_KEY})*))?""",
    re.IGNORECASE | re.VERBOSE,
)
_REFUSED = "not in the Metrics Insights subset this evaluator knows"
_WHERE_TERM = re.compile(rf"\s*{_CONDITION}(?:\s+(?P<joint>AND|OR)\s+|\s*$)", re.IGNORECASE)


@dataclass(frozen=True)
class InsightsQuery:
    statistic: str  # the CloudWatch statistic FUNCTION computes
    namespace: str
    name: str
    schema: frozenset[str]
    where: tuple[tuple[tuple[str, str], ...], ...]  # OR of ANDs of key = 'value'; () is no WHERE
    group_by: tuple[str, ...]

    def selects(self, point: Datapoint) -> bool:
        dimensions = dict(point.dimensions)
        return (
            (point.namespace, point.name) == (self.namespace, self.name)
            and frozenset(dimensions) == self.schema
            and (
                not self.where
                or any(all(dimensions[k] == v for k, v in terms) for terms in self.where)
            )
        )


def _split(listing: str) -> list[str]:
    return [part.strip() for part in listing.split(",") if part.strip()]


def parse_insights(query: str) -> InsightsQuery:
    """The query, if it is in the subset above; ValueError naming the query otherwise."""
    match = _INSIGHTS.fullmatch(query.strip())
    if match is None:
        raise ValueError(f"{_REFUSED}: {query!r}")
    function = match["function"].upper()
    if function not in _INSIGHTS_FUNCTIONS:
        raise ValueError(f"{_REFUSED} (no function {match['function']}): {query!r}")
    schema = _split(match["schema"])
    if len(set(schema)) != len(schema):
        raise ValueError(f"{_REFUSED} (SCHEMA names a dimension twice): {query!r}")
    where: list[list[tuple[str, str]]] = [[]] if match["where"] else []
    for term in _WHERE_TERM.finditer(match["where"] or ""):
        where[-1].append((term["key"], term["value"]))
        if (term["joint"] or "").upper() == "OR":
            where.append([])
    group_by = tuple(_split(match["group"] or ""))
    outside = {key for terms in where for key, _ in terms} | set(group_by)
    if outside - set(schema):
        raise ValueError(f"{_REFUSED} ({sorted(outside - set(schema))} not in SCHEMA): {query!r}")
    return InsightsQuery(
        _INSIGHTS_FUNCTIONS[function],
        match["namespace"],
        match["metric"],
        frozenset(schema),
        tuple(tuple(terms) for terms in where),
        group_by,
    )


def insights_values(
    query: InsightsQuery, points: Iterable[Datapoint], period: int, ends: list[datetime]
) -> dict[tuple[str, ...], list[float | None]]:
    """One series per GROUP BY value (the key () without GROUP BY), each period aggregated
    over every selected metric; a series exists only where some metric was selected."""
    groups: dict[tuple[str, ...], list[list[float]]] = {}
    for point in points:
        if not query.selects(point):
            continue
        dimensions = dict(point.dimensions)
        group = tuple(dimensions[key] for key in query.group_by)
        buckets = groups.setdefault(group, [[] for _ in ends])
        for bucket, end in zip(buckets, ends, strict=True):
            if end - timedelta(seconds=period) < point.timestamp <= end:
                bucket.append(point.value)
    return {
        group: [statistic(query.statistic, bucket) if bucket else None for bucket in buckets]
        for group, buckets in sorted(groups.items())
    }


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
    if re.match(r"\s*SELECT\b", query.expression, re.IGNORECASE):
        insights = parse_insights(query.expression)
        if insights.group_by:
            # An alarm on a GROUP BY query watches each series on its own; not modelled here.
            raise ValueError(f"alarm {alarm.logical_id}: GROUP BY is not evaluated as an alarm")
        return insights_values(insights, points, query.period, ends).get((), [None] * len(ends))
    inputs = {
        other.id: query_values(alarm, other, points, ends)
        for other in alarm.queries
        if other.id != query.id
    }
    starts = [(end - timedelta(seconds=alarm.period)).timestamp() for end in ends]
    return evaluate_series(parse_expression(query.expression), inputs, starts)


def alarm_state(
    alarm: Alarm, points: list[Datapoint], now: datetime, previous: str = "INSUFFICIENT_DATA"
) -> str:
    """ALARM, OK or INSUFFICIENT_DATA for the alarm's last EvaluationPeriods periods at `now`.

    `previous` is the state before this evaluation (a new alarm's is INSUFFICIENT_DATA): with
    TreatMissingData `ignore`, a range without any datapoint keeps it."""
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
        return previous if alarm.treat_missing_data == "ignore" else "INSUFFICIENT_DATA"
    return "ALARM" if sum(present) >= alarm.datapoints_to_alarm else "OK"
