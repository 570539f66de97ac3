"""The diagrams in docs/diagrams/: rendered from their current source, and true to the repository.

Runs without Chromium or npm: it reads the committed `.mmd` and `.svg` files, the templates
(through infra/cfn.py's loader), the DAG's source and the table of each task request's DynamoDB
operations (tests/dynamodb_calls.py, itself held to the requests by
tests/api/test_dynamodb_calls.py), and never renders.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from api.config import Settings
from etl.engine_choice import ATHENA_THRESHOLD_ROWS, SETTINGS
from etl.run_metrics import RUN_METRICS
from infra.cfn import INFRA, load_template, templates
from infra.deploy.stacks import STAGES
from tests.dag_files import dag_ids
from tests.dynamodb_calls import TASK_REQUEST_OPERATIONS

ROOT = INFRA.parent
DIAGRAMS = ROOT / "docs" / "diagrams"
SOURCES = sorted(DIAGRAMS.glob("*.mmd"))
COMPONENTS = DIAGRAMS / "components.mmd"
ETL_SEQUENCE = DIAGRAMS / "etl-sequence.mmd"
REQUEST_SEQUENCE = DIAGRAMS / "request-sequence.mmd"
DAG = ROOT / "dags" / "tasks_daily.py"
# Written by `make diagrams` as the SVG's first line.
STAMP = re.compile(r"<!-- source: (?P<name>\S+\.mmd) sha256:(?P<digest>[0-9a-f]{64}) ")


def source_digest(source: Path) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()


def stamped_digest(svg: Path, source: Path) -> str | None:
    """The source digest the SVG was rendered from, if it names this source."""
    match = STAMP.match(svg.read_text())
    return match["digest"] if match and match["name"] == source.name else None


def is_fresh(source: Path) -> bool:
    svg = source.with_suffix(".svg")
    return svg.exists() and stamped_digest(svg, source) == source_digest(source)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_svg_was_rendered_from_the_current_source(source: Path) -> None:
    assert is_fresh(source), f"{source.name} changed since it was rendered: run `make diagrams`"


def test_every_svg_has_its_source() -> None:
    svgs = {path.stem for path in DIAGRAMS.glob("*.svg")}
    assert svgs == {path.stem for path in SOURCES}


def test_an_edited_source_is_stale(tmp_path: Path) -> None:
    source = tmp_path / "example.mmd"
    source.write_text("flowchart LR\n    a --> b\n")
    stamp = f"<!-- source: example.mmd sha256:{source_digest(source)} (make diagrams) -->"
    source.with_suffix(".svg").write_text(f"{stamp}\n<svg></svg>\n")
    assert is_fresh(source)

    source.write_text("flowchart LR\n    a --> c\n")

    assert not is_fresh(source)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_architecture_page_shows_the_svg_and_links_the_source(source: Path) -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    assert f"](diagrams/{source.stem}.svg)" in page
    assert f"](diagrams/{source.name})" in page


# --- the component diagram names only what the repository deploys ---


@dataclass(frozen=True)
class InStack:
    """Resources of infra/<stack>.yaml by logical id and type.

    `every_of_its_types`: the box stands for all the stack's resources of those types (its label
    counts them, e.g. "6 CloudWatch alarms"), so a resource added to the template fails the test.
    """

    stack: str
    resources: dict[str, str]
    every_of_its_types: bool = False


@dataclass(frozen=True)
class ByZappa:
    """Created by `zappa deploy` from zappa_settings.json: in no template, by design."""

    resource_type: str


@dataclass(frozen=True)
class NotAws:
    """A person or program outside AWS."""


def _same_type(resource_type: str, *logical_ids: str) -> dict[str, str]:
    return dict.fromkeys(logical_ids, resource_type)


DIAGRAM_RESOURCES: dict[str, InStack | ByZappa | NotAws] = {
    "client": NotAws(),
    "analyst": NotAws(),
    "RestApi": ByZappa("AWS::ApiGateway::RestApi"),
    "Function": ByZappa("AWS::Lambda::Function"),
    "WebAcl": InStack("api", {"WebAcl": "AWS::WAFv2::WebACL"}),
    "CursorSecret": InStack("api", {"CursorSecret": "AWS::SecretsManager::Secret"}),
    "FunctionLogGroup": InStack("api", {"FunctionLogGroup": "AWS::Logs::LogGroup"}),
    "ArtifactsBucket": InStack("api", {"ArtifactsBucket": "AWS::S3::Bucket"}),
    "UserPool": InStack(
        "identity",
        {
            "UserPool": "AWS::Cognito::UserPool",
            "ApiClient": "AWS::Cognito::UserPoolClient",
            "AdminGroup": "AWS::Cognito::UserPoolGroup",
        },
        every_of_its_types=True,
    ),
    "Tables": InStack(
        "data",
        _same_type(
            "AWS::DynamoDB::Table",
            "TasksTable",
            "UsersTable",
            "IdempotencyTable",
            "RevokedTokensTable",
            "RateLimitsTable",
        ),
        every_of_its_types=True,
    ),
    "LakeBucket": InStack("analytics", {"LakeBucket": "AWS::S3::Bucket"}),
    "GlueCatalog": InStack(
        "analytics",
        {"AnalyticsDatabase": "AWS::Glue::Database"}
        | _same_type(
            "AWS::Glue::Table",
            "TasksTable",
            "UserDailyStatsTable",
            "TagDailyStatsTable",
            "UsersTable",
            "TasksLatestTable",
            "UserDailyStatsLatestTable",
            "TagDailyStatsLatestTable",
            "UsersLatestTable",
            "LakeStatusTable",
            "TaskChangesTable",
            "TaskChangesLatestTable",
        ),
        every_of_its_types=True,
    ),
    "AthenaWorkGroup": InStack(
        "analytics",
        # The analysts' workgroup and the DAG's (EtlAthenaWorkGroup), drawn as one node.
        _same_type("AWS::Athena::WorkGroup", "AthenaWorkGroup", "EtlAthenaWorkGroup")
        | _same_type(
            "AWS::Athena::NamedQuery",
            "CompletionRatePerDayQuery",
            "MedianTimeToCompleteQuery",
            "OverduePerUserQuery",
            "TagPopularityQuery",
            "TasksCreatedPerDayQuery",
        ),
        every_of_its_types=True,
    ),
    "AthenaResultsBucket": InStack("analytics", {"AthenaResultsBucket": "AWS::S3::Bucket"}),
    "MwaaSourceBucket": InStack("analytics", {"MwaaSourceBucket": "AWS::S3::Bucket"}),
    "Vpc": InStack(
        "network",
        {
            "Vpc": "AWS::EC2::VPC",
            "PrivateSubnetA": "AWS::EC2::Subnet",
            "PrivateSubnetB": "AWS::EC2::Subnet",
            "NatGateway": "AWS::EC2::NatGateway",
            "S3GatewayEndpoint": "AWS::EC2::VPCEndpoint",
            "DynamoDbGatewayEndpoint": "AWS::EC2::VPCEndpoint",
        },
    ),
    "MwaaEnvironment": InStack("orchestration", {"MwaaEnvironment": "AWS::MWAA::Environment"}),
    "AirflowVariables": InStack(
        "orchestration",
        _same_type(
            "AWS::SSM::Parameter",
            "TasksTableVariable",
            "UsersTableVariable",
            "LakeBucketVariable",
            "GlueDatabaseVariable",
            "AthenaWorkgroupVariable",
            "ExportModeVariable",
        ),
        every_of_its_types=True,
    ),
    "Dashboard": InStack("monitoring", {"Dashboard": "AWS::CloudWatch::Dashboard"}),
    "Alarms": InStack(
        "monitoring",
        _same_type(
            "AWS::CloudWatch::Alarm",
            "ApiErrorRateAlarm",
            "ApiGateway5xxAlarm",
            "ApiLatencyAlarm",
            "LambdaErrorsAlarm",
            "LambdaThrottlesAlarm",
            "DynamoDbThrottlesAlarm",
            "EtlRunFailedAlarm",
            "EtlDataFreshnessAlarm",
            "EtlMissingPartitionsAlarm",
            "EtlUnrebuildableDaysAlarm",
            "EtlErasureFailedAlarm",
            "CodeEmailsAlarm",
        ),
        every_of_its_types=True,
    ),
    "AlarmTopic": InStack("monitoring", {"AlarmTopic": "AWS::SNS::Topic"}),
    "Key": InStack("keys", {"Key": "AWS::KMS::Key"}),
}

ZAPPA_GROUP = "zappa"
STACK_GROUP = re.compile(r"(?P<stack>\w+)_stack")
NODE = re.compile(r"(?P<id>\w+)\s*[\[({]")
EDGE_LABEL = re.compile(r"\|[^|]*\|")
ARROW = re.compile(r"-\.->|-->|---|&")


@dataclass(frozen=True)
class Flowchart:
    groups: dict[str, str | None]
    """Each node's subgraph (None at the top level)."""
    edge_ends: set[str]


def read_flowchart(path: Path) -> Flowchart:
    groups: dict[str, str | None] = {}
    edge_ends: set[str] = set()
    open_groups: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("%%") or line.startswith("flowchart"):
            continue
        if line.startswith("subgraph "):
            open_groups.append(line.split()[1])
        elif line == "end":
            open_groups.pop()
        elif ARROW.search(unlabelled := EDGE_LABEL.sub(" ", line)):
            edge_ends.update(end.strip() for end in ARROW.split(unlabelled))
        elif node := NODE.match(line):
            groups[node["id"]] = open_groups[-1] if open_groups else None
        else:
            raise AssertionError(f"{path.name}: cannot read the line {line!r}")
    return Flowchart(groups, edge_ends)


def template_resources(stack: str) -> dict[str, str]:
    resources = load_template(INFRA / f"{stack}.yaml")["Resources"]
    return {logical_id: resource["Type"] for logical_id, resource in resources.items()}


def test_every_node_is_mapped_to_what_creates_it() -> None:
    assert set(read_flowchart(COMPONENTS).groups) == set(DIAGRAM_RESOURCES)


def test_edges_join_declared_nodes() -> None:
    chart = read_flowchart(COMPONENTS)
    assert chart.edge_ends <= set(chart.groups)


def test_every_stack_is_drawn() -> None:
    groups = set(read_flowchart(COMPONENTS).groups.values())
    drawn = {
        match["stack"] for group in groups if group and (match := STACK_GROUP.fullmatch(group))
    }
    assert drawn == {path.stem for path in templates()}


@pytest.mark.parametrize(
    "node", [node for node, kind in DIAGRAM_RESOURCES.items() if isinstance(kind, InStack)]
)
def test_stack_node_exists_in_its_template(node: str) -> None:
    expected = DIAGRAM_RESOURCES[node]
    assert isinstance(expected, InStack)
    actual = template_resources(expected.stack)

    assert {name: actual.get(name) for name in expected.resources} == expected.resources
    if expected.every_of_its_types:
        types = set(expected.resources.values())
        assert {name for name, kind in actual.items() if kind in types} == set(expected.resources)
    assert read_flowchart(COMPONENTS).groups[node] == f"{expected.stack}_stack"


@pytest.mark.parametrize(
    "node", [node for node, kind in DIAGRAM_RESOURCES.items() if isinstance(kind, ByZappa)]
)
def test_zappa_node_is_in_no_template(node: str) -> None:
    expected = DIAGRAM_RESOURCES[node]
    assert isinstance(expected, ByZappa)
    declared = {kind for path in templates() for kind in template_resources(path.stem).values()}
    settings = json.loads((ROOT / "zappa_settings.json").read_text())

    assert expected.resource_type not in declared
    assert settings["dev"]["app_function"] == "api.wsgi.app"
    assert read_flowchart(COMPONENTS).groups[node] == ZAPPA_GROUP


def test_people_stand_outside_every_stack() -> None:
    groups = read_flowchart(COMPONENTS).groups
    outside = {node for node, kind in DIAGRAM_RESOURCES.items() if isinstance(kind, NotAws)}
    assert {node for node in outside if groups[node] is not None} == set()


# --- the sequence diagrams name the real tasks and numbers ---


def _task_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    while isinstance(target, ast.Attribute):
        target = target.value
    return isinstance(target, ast.Name) and target.id == "task"


def _names(node: ast.expr, lake_tables: tuple[str, ...]) -> set[str]:
    """A task id as written: a literal, or an f-string over the lake's tables."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):
        template = "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        return {template.format(table) for table in lake_tables}
    return set()


def dag_task_ids() -> set[str]:
    tree = ast.parse(DAG.read_text())
    lake_tables: tuple[str, ...] = ()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "LAKE_TABLES"
            for target in statement.targets
        ):
            lake_tables = ast.literal_eval(statement.value)
    ids: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(map(_task_decorator, node.decorator_list)):
            ids.add(node.name)
        if isinstance(node, ast.Call):
            written = [keyword.value for keyword in node.keywords if keyword.arg == "task_id"]
            if isinstance(node.func, ast.Name) and node.func.id == "athena_query" and node.args:
                written.append(node.args[0])
            for value in written:
                ids |= _names(value, lake_tables)
    return ids


def test_the_component_diagram_names_every_dag_mwaa_runs() -> None:
    label = re.search(
        r"MwaaEnvironment\[\"[^\"]*<br/>DAGs? (?P<ids>[^\"]+)\"", COMPONENTS.read_text()
    )

    assert label, "the MWAA box no longer names its DAGs"
    assert set(label["ids"].split(", ")) == dag_ids() != set()


def test_the_etl_sequence_names_every_task_of_the_dag() -> None:
    drawn = set(re.findall(r"\w+", ETL_SEQUENCE.read_text()))
    ids = dag_task_ids()

    assert len(ids) > 10, ids
    assert ids - drawn == set()


def test_the_architecture_page_walks_every_task_of_the_dag() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    walk = page.split("## One run of the ETL DAG", 1)[1].split("\n## ", 1)[0]

    assert dag_task_ids() - set(re.findall(r"`(\w+)`", walk)) == set()


def test_the_etl_sequence_names_the_engine_settings_there_are() -> None:
    # It once drew "engine pyarrow" a day after DuckDB had replaced pyarrow on the worker.
    drawn = set(re.findall(r"\bengine (\w+)", ETL_SEQUENCE.read_text()))

    assert drawn == set(SETTINGS)


def test_the_etl_sequence_names_every_metric_a_run_reports() -> None:
    drawn = set(re.findall(r"\w+", ETL_SEQUENCE.read_text()))

    # tasks_daily's metrics; lake_erasure's own are on the dashboard (runbook-etl.md).
    assert {metric.name for metric in RUN_METRICS} - drawn == set()


def dag_setting_default(name: str) -> str:
    """The DAG's default for one setting (SETTINGS_DEFAULTS), read without importing Airflow."""
    for statement in ast.parse(DAG.read_text()).body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "SETTINGS_DEFAULTS"
            for target in statement.targets
        ):
            value = ast.literal_eval(statement.value)[name]
            assert isinstance(value, str)
            return value
    raise AssertionError(f"{DAG.name} has no SETTINGS_DEFAULTS")


def test_the_diagrams_numbers_are_the_codes() -> None:
    dev = STAGES["dev"]
    throttle = f"dev: {dev.throttle_rate:g}/s, burst {dev.throttle_burst}"
    assert throttle in COMPONENTS.read_text()
    assert throttle in REQUEST_SEQUENCE.read_text()
    jwks_seconds = next(
        field.default for field in fields(Settings) if field.name == "jwks_cache_seconds"
    )
    assert isinstance(jwks_seconds, int)
    jwks_hours = jwks_seconds / 3600
    assert f"cached {jwks_hours:g} h in the container" in REQUEST_SEQUENCE.read_text()
    assert f"up to {ATHENA_THRESHOLD_ROWS:,} items" in ETL_SEQUENCE.read_text()
    assert f"up to {dag_setting_default('heal_days_per_run')} of them" in ETL_SEQUENCE.read_text()


# --- every count the component diagram states is counted from the templates ---


def _count(stack: str, resource_type: str, keep: Callable[[str, dict[str, Any]], bool]) -> int:
    resources = load_template(INFRA / f"{stack}.yaml")["Resources"]
    return sum(
        1
        for logical_id, resource in resources.items()
        if resource["Type"] == resource_type and keep(logical_id, resource)
    )


def _partitioned(_: str, table: dict[str, Any]) -> bool:
    return bool(table["Properties"]["TableInput"].get("PartitionKeys"))


def _latest(logical_id: str, _: dict[str, Any]) -> bool:
    return logical_id.endswith("LatestTable")


def _private(logical_id: str, _: dict[str, Any]) -> bool:
    return logical_id.startswith("PrivateSubnet")


def _every(_: str, __: dict[str, Any]) -> bool:
    return True


# A label's "<number> <what>" → how many of what the templates declare.
STATED_COUNTS: dict[str, Callable[[], int]] = {
    "CloudWatch alarms": lambda: _count("monitoring", "AWS::CloudWatch::Alarm", _every),
    "named queries": lambda: _count("analytics", "AWS::Athena::NamedQuery", _every),
    "partitioned tables": lambda: _count("analytics", "AWS::Glue::Table", _partitioned),
    "*_latest tables": lambda: _count("analytics", "AWS::Glue::Table", _latest),
    "private subnets": lambda: _count("network", "AWS::EC2::Subnet", _private),
}
# A number in a label and the words after it, up to a comma, a line break or the label's end.
COUNT_IN_LABEL = re.compile(r"(?<![\w/.])(?P<number>\d+) (?P<what>[^,<\"\]]+)")
THROTTLE = re.compile(r"dev: [\d.]+/s, burst \d+")


def stated_counts(source: str) -> dict[str, int]:
    stated: dict[str, int] = {}
    for match in COUNT_IN_LABEL.finditer(THROTTLE.sub("", source)):
        stated[match["what"].strip()] = int(match["number"])
    return stated


def test_every_count_in_the_component_diagram_is_the_templates() -> None:
    stated = stated_counts(COMPONENTS.read_text())

    assert set(stated) == set(STATED_COUNTS), "a count no test checks, or one no longer drawn"
    assert {what: count() for what, count in STATED_COUNTS.items()} == stated


def test_a_stale_alarm_count_is_caught() -> None:
    stale = COMPONENTS.read_text().replace(
        f"{STATED_COUNTS['CloudWatch alarms']()} CloudWatch alarms", "6 CloudWatch alarms"
    )
    assert stated_counts(stale)["CloudWatch alarms"] != STATED_COUNTS["CloudWatch alarms"]()


# --- the request diagram's DynamoDB calls are the ones the requests send ---

OPERATIONS = re.compile(
    r"\b(GetItem|BatchGetItem|Query|Scan|PutItem|UpdateItem|DeleteItem|TransactWriteItems"
    r"|TransactGetItems|BatchWriteItem)\b"
)
BRANCH = re.compile(r"^\s*(?:alt|else)\s+(?P<requests>.+)$")
TO_DYNAMODB = re.compile(r"->>\s*(?:DynamoDB|Revoked|Tasks)\b[^:]*:(?P<text>.*)$")
REQUEST = re.compile(r"(?:GET|POST|PATCH|PUT|DELETE) /[^\s,]+")


def drawn_task_calls(source: str) -> dict[str, tuple[str, ...]]:
    """Each task request the diagram names (in an alt/else branch) → the DynamoDB operations
    its arrows to DynamoDB name; a call drawn outside any request's branch counts for all."""
    drawn: dict[str, list[str]] = {}
    shared: list[str] = []
    requests: list[str] = []
    for line in source.splitlines():
        if branch := BRANCH.match(line):
            requests = REQUEST.findall(branch["requests"])
            for request in requests:
                drawn.setdefault(request, [])
        elif line.strip() == "end":
            requests = []
        elif arrow := TO_DYNAMODB.search(line):
            operations = OPERATIONS.findall(arrow["text"])
            for request in requests:
                drawn[request] += operations
            if not requests:
                shared += operations
    return {request: tuple(sorted(ops + shared)) for request, ops in drawn.items()}


def test_the_request_diagram_draws_each_task_requests_calls() -> None:
    assert drawn_task_calls(REQUEST_SEQUENCE.read_text()) == TASK_REQUEST_OPERATIONS


def test_a_revocation_query_before_the_tasks_call_is_caught() -> None:
    old = """\
    Lambda->>Revoked: Query(sub), consistent read
    alt token revoked, or its user disabled or deleted
        Note over Lambda: 401 problem+json
    else GET /tasks/{id}
        Lambda->>Tasks: GetItem(user_id, task_id), consistent read
    end
"""
    assert drawn_task_calls(old) == {"GET /tasks/{id}": ("GetItem", "Query")}


# --- the ETL diagram's DynamoDB calls are the ones the lake's code makes ---

# The amazon provider's DynamoDBToS3Operator makes the scan export's Scan: the DAG passes it
# `dynamodb_scan_kwargs`, and names no boto3 method.
MADE_THROUGH_AN_OPERATOR = {"Scan": "dynamodb_scan_kwargs"}


def dynamodb_operations() -> list[str]:
    """Every DynamoDB API operation, from botocore's own service model."""
    model = botocore.session.get_session().get_service_model("dynamodb")
    return list(model.operation_names)


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def lake_dynamodb_calls() -> set[str]:
    """The operations etl/ and dags/ call on a client named `dynamodb…`, or through an operator."""
    source = "\n".join(
        path.read_text() for folder in ("etl", "dags") for path in (ROOT / folder).rglob("*.py")
    )
    return {
        operation
        for operation in dynamodb_operations()
        if re.search(rf"\bdynamodb\w*\.{_snake(operation)}\(", source)
        or MADE_THROUGH_AN_OPERATOR.get(operation, "\0") in source
    }


def drawn_dynamodb_calls(source: str) -> set[str]:
    operations = set(dynamodb_operations())
    return {
        word
        for line in source.splitlines()
        if re.search(r"->>\s*DynamoDB\b", line)
        for word in re.findall(r"\b[A-Z]\w+\b", line.split(":", 1)[1])
        if word in operations
    }


def test_the_etl_diagram_draws_every_dynamodb_call_the_lake_makes() -> None:
    drawn = drawn_dynamodb_calls(ETL_SEQUENCE.read_text())

    assert drawn, "the ETL diagram draws no DynamoDB call"
    assert drawn == lake_dynamodb_calls()
