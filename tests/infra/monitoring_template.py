"""infra/monitoring.yaml read as a deployed stack would see it: alarms and dashboard metrics.

The template is resolved for one stage with its parameter defaults: `!Ref`, `!Sub` (both forms),
`${Alarm.Arn}` and `!ImportValue` become strings, `!If` takes its condition's branch, a resource
whose condition is false is left out, and the DashboardBody becomes JSON. An import of a
table name becomes the name infra/data.yaml gives that table for the same stage. What comes out
are the metrics each widget and alarm reads, with namespace, name and dimensions, so tests can
hold them against the code's metric catalogs and feed alarms with metric data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.cfn import INFRA, Tag, load_template

TEMPLATE = INFRA / "monitoring.yaml"
DATA_TEMPLATE = INFRA / "data.yaml"
ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"

_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")
# SEARCH('{Namespace,Dim1,Dim2} MetricName="Name" ...', 'stat', period)
_SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}\s+([^']*)'")
_SEARCH_NAME = re.compile(r'MetricName\s*=\s*"([^"]+)"')
# SELECT STAT(Name) FROM SCHEMA("Namespace", Dim1, Dim2) ...
_INSIGHTS = re.compile(r'SELECT\s+\w+\((\w+)\)\s+FROM\s+SCHEMA\("([^"]+)"((?:\s*,\s*\w+)*)\)', re.I)


@dataclass(frozen=True)
class MetricRef:
    """One metric a widget or alarm reads; `values` holds the dimension values it pins."""

    namespace: str
    name: str
    dimensions: frozenset[str]
    values: tuple[tuple[str, str], ...]
    where: str


@dataclass(frozen=True)
class Query:
    """One entry of an alarm's metric list: a metric with a statistic, or an expression."""

    id: str
    return_data: bool
    metric: MetricRef | None = None
    stat: str = ""
    period: int = 0
    expression: str = ""


@dataclass(frozen=True)
class Alarm:
    logical_id: str
    name: str
    queries: tuple[Query, ...]
    threshold: float
    comparison: str
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    actions: tuple[tuple[str, ...], tuple[str, ...]]

    @property
    def returned(self) -> Query:
        (query,) = [query for query in self.queries if query.return_data]
        return query

    @property
    def period(self) -> int:
        return max(query.period for query in self.queries)


class _Resolver:
    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        imports: dict[str, str] | None = None,
    ) -> None:
        self.imports = imports or {}
        defaults = {
            name: str(spec["Default"])
            for name, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        }
        self.names = {
            **defaults,
            **parameters,
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
        }
        self.conditions = {
            name: self.holds(expression)
            for name, expression in (template.get("Conditions") or {}).items()
        }
        for logical_id, resource in template["Resources"].items():
            self.names.setdefault(logical_id, logical_id)
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                arn = f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{logical_id}"
                self.names[f"{logical_id}.Arn"] = arn

    def _sub(self, text: str, variables: dict[str, str]) -> str:
        names = {**self.names, **variables}
        return _PLACEHOLDER.sub(lambda match: names[match.group(1)], text).replace("${!", "${")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("Fn::"):
            ((name, argument),) = value.items()
            return self._intrinsic(Tag(name.removeprefix("Fn::"), argument))
        if isinstance(value, Tag):
            return self._intrinsic(value)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def holds(self, condition: Any) -> bool:
        """A condition's value: `!Equals` and `!Not`, the two the template uses."""
        tag = condition if isinstance(condition, Tag) else Tag(*next(iter(condition.items())))
        if tag.name.removeprefix("Fn::") == "Not":
            return not self.holds(tag.value[0])
        if tag.name.removeprefix("Fn::") == "Equals":
            left, right = (self.resolve(value) for value in tag.value)
            return bool(left == right)
        raise ValueError(f"condition !{tag.name} is not used by the monitoring template")

    def _intrinsic(self, tag: Tag) -> Any:
        if tag.name == "If":
            condition, when_true, when_false = tag.value
            return self.resolve(when_true if self.conditions[condition] else when_false)
        if tag.name == "Ref":
            return self.names[tag.value]
        if tag.name == "Sub" and isinstance(tag.value, str):
            return self._sub(tag.value, {})
        if tag.name == "Sub":
            text, variables = tag.value
            return self._sub(text, {key: self.resolve(item) for key, item in variables.items()})
        if tag.name == "ImportValue":
            # Another stack's export: a table name as the data stack exports it; any other value
            # (a key ARN) does not matter here, only that it resolves.
            name = self.resolve(tag.value)
            return self.imports.get(name, f"import:{name}")
        raise ValueError(f"!{tag.name} is not used by the monitoring template")


def table_exports(parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Export name -> table name of the data stack's `!Ref <Table>` outputs, for one stage."""
    template = load_template(DATA_TEMPLATE)
    resolver = _Resolver(template, parameters or {})
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":  # `!Ref` of a table is its name
            resolver.names[logical_id] = resolver.resolve(resource["Properties"]["TableName"])
    return {
        resolver.resolve(output["Export"]["Name"]): resolver.resolve(output["Value"])
        for output in template.get("Outputs", {}).values()
        if "Export" in output and isinstance(output["Value"], Tag) and output["Value"].name == "Ref"
    }


def resolved_resources(
    parameters: dict[str, str] | None = None, path: Path = TEMPLATE
) -> dict[str, dict[str, Any]]:
    """Every resource as {Type, Properties}, intrinsics resolved for the given parameters."""
    template = load_template(path)
    resolver = _Resolver(template, parameters or {}, table_exports(parameters))
    return {
        logical_id: resolver.resolve(resource)
        for logical_id, resource in template["Resources"].items()
        if resolver.conditions.get(resource.get("Condition", ""), True)
    }


def _metric(spec: dict[str, Any], where: str) -> MetricRef:
    dimensions = {d["Name"]: str(d["Value"]) for d in spec.get("Dimensions", [])}
    return MetricRef(
        spec["Namespace"],
        spec["MetricName"],
        frozenset(dimensions),
        tuple(sorted(dimensions.items())),
        where,
    )


def expression_metrics(expression: str, where: str) -> list[MetricRef]:
    """Metrics named inside a SEARCH or Metrics Insights expression (none for plain math)."""
    found = []
    for schema, terms in _SEARCH.findall(expression):
        namespace, *dimensions = (part.strip() for part in schema.split(","))
        for name in _SEARCH_NAME.findall(terms):
            found.append(MetricRef(namespace, name, frozenset(dimensions), (), where))
    for name, namespace, dimensions in _INSIGHTS.findall(expression):
        names = frozenset(part.strip() for part in dimensions.split(",") if part.strip())
        found.append(MetricRef(namespace, name, names, (), where))
    return found


def alarms(parameters: dict[str, str] | None = None) -> dict[str, Alarm]:
    """The stack's alarms by logical id; a single-metric alarm becomes one query `m`."""
    found = {}
    for logical_id, resource in resolved_resources(parameters).items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        where = f"alarm {logical_id}"
        if "Metrics" in props:
            queries = tuple(
                Query(
                    id=entry["Id"],
                    return_data=entry.get("ReturnData", True),
                    metric=(
                        _metric(entry["MetricStat"]["Metric"], where)
                        if "MetricStat" in entry
                        else None
                    ),
                    stat=entry.get("MetricStat", {}).get("Stat", ""),
                    period=int(entry.get("MetricStat", entry).get("Period", 0)),
                    expression=entry.get("Expression", ""),
                )
                for entry in props["Metrics"]
            )
        else:
            queries = (
                Query("m", True, _metric(props, where), props["Statistic"], int(props["Period"])),
            )
        found[logical_id] = Alarm(
            logical_id=logical_id,
            name=props["AlarmName"],
            queries=queries,
            threshold=float(props["Threshold"]),
            comparison=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            datapoints_to_alarm=int(props.get("DatapointsToAlarm", props["EvaluationPeriods"])),
            treat_missing_data=props.get("TreatMissingData", "missing"),
            actions=(tuple(props.get("AlarmActions", [])), tuple(props.get("OKActions", []))),
        )
    return found


def dashboard(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    (body,) = [
        resource["Properties"]["DashboardBody"]
        for resource in resolved_resources(parameters).values()
        if resource["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def widget_metrics(widget: dict[str, Any]) -> list[MetricRef]:
    """The metrics a dashboard widget reads, from its rows and expressions.

    Rows are `[namespace, name, dim, value, ..., {options}?]`; the console's `"..."` and `"."`
    shorthands for "as the row above" are refused so that every row says what it reads.
    """
    where = f"widget {widget['properties'].get('title', widget['type'])!r}"
    found = []
    for row in widget["properties"].get("metrics", []):
        parts = [part for part in row if not isinstance(part, dict)]
        options = next((part for part in row if isinstance(part, dict)), {})
        if "expression" in options:
            found.extend(expression_metrics(options["expression"], where))
            continue
        if any(part in {"...", "."} for part in parts):
            raise ValueError(f"{where}: write metric rows out in full, not {parts}")
        namespace, name, *pairs = parts
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        found.append(
            MetricRef(
                namespace, name, frozenset(dimensions), tuple(sorted(dimensions.items())), where
            )
        )
    return found


def referenced_metrics(parameters: dict[str, str] | None = None) -> list[MetricRef]:
    """Every metric read by a dashboard widget or an alarm (alarm expressions included)."""
    found = [ref for widget in dashboard(parameters)["widgets"] for ref in widget_metrics(widget)]
    for alarm in alarms(parameters).values():
        for query in alarm.queries:
            if query.metric is not None:
                found.append(query.metric)
            found.extend(expression_metrics(query.expression, f"alarm {alarm.logical_id}"))
    return found
