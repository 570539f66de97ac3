"""The dashboard and alarms read exactly the metrics the code emits, and every one of them.

The catalogs (`api.metrics.CATALOG`, `etl.run_metrics.METRICS`) are the one definition of our
metric names and dimension sets; infra/monitoring.yaml is checked against them, widget by widget
and alarm by alarm, as CloudFormation would resolve it. `AWS/*` metrics are AWS's; for those only
the dimension names are checked, since a wrong one is a flat line, not an error.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from api.metrics import CATALOG
from api.metrics import NAMESPACE as API_NAMESPACE
from etl.run_metrics import METRICS
from etl.run_metrics import NAMESPACE as ETL_NAMESPACE
from infra.cfn import INFRA, Tag, load_template, templates
from tests.dag_files import dag_ids
from tests.infra.monitoring_template import (
    TEMPLATE,
    MetricRef,
    dashboard,
    referenced_metrics,
    widget_metrics,
)

Emitted = dict[tuple[str, str], set[frozenset[str]]]

# Dimension names under which AWS publishes the metrics the stack reads (Lambda, API Gateway and
# DynamoDB metric references in the AWS documentation; API Gateway's, for a REST API stage:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
AWS_DIMENSIONS: Emitted = (
    {
        ("AWS/Lambda", name): {frozenset({"FunctionName"})}
        for name in ("Errors", "Throttles", "Duration", "ConcurrentExecutions", "Invocations")
    }
    | {
        ("AWS/ApiGateway", name): {frozenset({"ApiName", "Stage"})}
        for name in ("Count", "5XXError", "Latency")
    }
    | {
        ("AWS/DynamoDB", "ConsumedReadCapacityUnits"): {frozenset({"TableName"})},
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits"): {frozenset({"TableName"})},
        ("AWS/DynamoDB", "ThrottledRequests"): {frozenset({"TableName", "Operation"})},
    }
)


def emitted() -> Emitted:
    """Every metric the code emits, by (namespace, name), with its dimension sets."""
    metrics: Emitted = {
        (API_NAMESPACE, metric.name): {frozenset(keys) for keys in metric.dimension_sets}
        for metric in CATALOG.values()
    }
    metrics.update(
        {(ETL_NAMESPACE, metric.name): {frozenset(metric.dimensions)} for metric in METRICS}
    )
    return metrics


def unknown_references(references: list[MetricRef], known: Emitted) -> list[str]:
    """References to a metric, or a dimension set of it, that `known` does not have."""
    problems = []
    for ref in references:
        dimension_sets = known.get((ref.namespace, ref.name))
        if dimension_sets is None:
            problems.append(f"{ref.where}: {ref.namespace} {ref.name} is not emitted")
        elif ref.dimensions not in dimension_sets:
            problems.append(
                f"{ref.where}: {ref.namespace} {ref.name} has no dimension set "
                f"{sorted(ref.dimensions)} (emitted: {[sorted(s) for s in dimension_sets]})"
            )
    return problems


def test_every_project_metric_read_is_emitted_with_that_dimension_set() -> None:
    ours = [ref for ref in referenced_metrics() if ref.namespace.startswith("Tasklake/")]

    assert ours
    assert unknown_references(ours, emitted()) == []


def test_every_emitted_metric_is_shown_or_alarmed() -> None:
    read = {(ref.namespace, ref.name) for ref in referenced_metrics()}

    assert sorted(set(emitted()) - read) == []


def test_aws_metrics_are_read_with_the_dimensions_aws_publishes_them_under() -> None:
    theirs = [ref for ref in referenced_metrics() if ref.namespace.startswith("AWS/")]

    assert theirs
    assert unknown_references(theirs, AWS_DIMENSIONS) == []


def test_a_renamed_metric_or_a_wrong_dimension_set_is_caught() -> None:
    ref = next(ref for ref in referenced_metrics() if ref.name == "Errors5xx")

    renamed = replace(ref, name="Errors5XX")
    per_table = replace(ref, dimensions=frozenset({"Stage", "Table"}))

    assert len(unknown_references([renamed, per_table], emitted())) == 2


def test_pinned_dimension_values_are_the_ones_the_code_sends() -> None:
    refs = referenced_metrics({"Environment": "staging"})
    pinned = {value for ref in refs for value in ref.values}

    assert {value for name, value in pinned if name == "Stage"} == {"staging"}
    assert {value for name, value in pinned if name == "Dag"} == dag_ids()
    assert {value for name, value in pinned if name == "FunctionName"} == {"tasklake-staging"}
    # Zappa names the REST API as it names the function.
    assert {value for name, value in pinned if name == "ApiName"} == {"tasklake-staging"}


def test_api_gateways_latency_is_charted_beside_the_apps() -> None:
    """The app times a request from inside the handler; API Gateway's Latency runs from the
    request to the response, so it also counts a cold start, an import that fails and the
    integration (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
    One widget shows both, so the gap between them is read off one chart."""
    widgets = dashboard({"Environment": "staging"})["widgets"]
    app_latency = (API_NAMESPACE, "Latency", (("Stage", "staging"),))
    gateway_latency = (
        "AWS/ApiGateway",
        "Latency",
        (("ApiName", "tasklake-staging"), ("Stage", "staging")),
    )

    charted = [
        {(ref.namespace, ref.name, ref.values) for ref in widget_metrics(w)} for w in widgets
    ]

    assert [read for read in charted if app_latency in read and gateway_latency in read]


def _substitute(text: str, names: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda match: names[match.group(1)], text)


def _exports(path: Path) -> set[str]:
    """A template's export names, for its parameters' defaults (every stage default is dev)."""
    template = load_template(path)
    names = {name: str(spec.get("Default")) for name, spec in template["Parameters"].items()}
    return {
        _substitute(output["Export"]["Name"].value, names)
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }


def _imports(value: object, names: dict[str, str]) -> set[str]:
    """The export names a template imports (`!ImportValue` of a `!Sub` or `Fn::Sub` string)."""
    if isinstance(value, Tag) and value.name == "ImportValue":
        sub = value.value
        return {_substitute(sub.value if isinstance(sub, Tag) else sub["Fn::Sub"], names)}
    if isinstance(value, Tag):
        return _imports(value.value, names)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_imports(child, names) for child in value))
    return set()


def test_every_import_is_exported_by_another_stack() -> None:
    exported = set().union(*(_exports(path) for path in templates() if path != TEMPLATE))

    imported = _imports(load_template(TEMPLATE), {"Project": "tasklake", "Environment": "dev"})

    assert imported
    assert sorted(imported - exported) == []


def test_every_table_of_the_data_stack_is_watched_by_the_alarm_and_the_dashboard() -> None:
    # A table added to infra/data.yaml but not here is throttled unseen (rate-limits once was).
    names = {"Project": "tasklake", "Environment": "dev"}
    tables = {name for name in _exports(INFRA / "data.yaml") if name.endswith("-table")}
    resources = load_template(TEMPLATE)["Resources"]

    alarm = _imports(resources["DynamoDbThrottlesAlarm"], names)
    dashboard = _imports(resources["Dashboard"], names)

    assert len(tables) == 5, tables
    assert sorted(tables - alarm) == []
    assert sorted(tables - dashboard) == []
