"""The MWAA execution role grants exactly what the tasks_daily DAG calls, where it writes.

The calls are read from the code: the `etl` modules the DAG imports (and what they import), every
method called on a parameter typed as an S3, Glue or CloudWatch client. The lake prefixes are read
from `etl.lake_layout` (bronze) and from the Glue tables' locations in infra/analytics.yaml, which
is where `etl.publish.stage_partitions` uploads silver and gold files. A new call or a new table
fails here until the role grants it; a grant nothing uses fails here too.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl.lake_layout import BRONZE_ROOT, bronze_attempt_prefix
from etl.schemas import LATEST_TABLES, TABLES
from infra.local.analytics_catalog import Tag, load_template

ROOT = Path(__file__).resolve().parents[2]
CLIENT_TYPES = {
    "S3Client": "s3",
    "GlueClient": "glue",
    "CloudWatchClient": "cloudwatch",
    "DynamoDBClient": "dynamodb",
}
# boto3 calls whose IAM action is not the operation's own name.
S3_ACTIONS = {
    "list_objects_v2": "s3:ListBucket",
    "get_object": "s3:GetObject",
    "download_file": "s3:GetObject",  # HeadObject + ranged GetObject
    "upload_file": {"s3:PutObject", "s3:AbortMultipartUpload"},  # multipart above 8 MB
    "put_object": "s3:PutObject",
    "put_object_tagging": "s3:PutObjectTagging",
}
# The native export's DynamoDB calls (etl.native_export), listed here as well as read from the
# code, so a call dropped from the code or a grant widened beyond them fails one test or the other.
DYNAMODB_EXPORT_CALLS = {
    "dynamodb:DescribeContinuousBackups",  # the latest restorable time, before the export
    "dynamodb:DescribeTable",  # the table ARN the export needs
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:DescribeExport",  # until the export completes
}
# The export writes to S3 as the caller, which DynamoDB's guide says needs PutObject, the multipart
# abort and PutObjectAcl. The scan mode (the provider's DynamoDBToS3Operator, Scan) runs only
# against DynamoDB Local, so it is not granted.
EXPORT_WRITES = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"}
AWS_SERVICES = ("s3:", "glue:", "dynamodb:", "cloudwatch:")


def _etl_modules_of_dag() -> set[str]:
    """`etl` modules the DAG file imports, followed through their own `etl` imports."""
    seen: set[str] = set()
    pending = [ROOT / "dags" / "tasks_daily.py"]
    while pending:
        tree = ast.parse(pending.pop().read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("etl."):
                module = node.module or ""
                if module not in seen:
                    seen.add(module)
                    pending.append(ROOT / (module.replace(".", "/") + ".py"))
    return seen


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _iam_actions(service: str, method: str) -> set[str]:
    if service == "s3":
        actions = S3_ACTIONS[method]
        return {actions} if isinstance(actions, str) else set(actions)
    return {f"{service}:{_camel(method)}"}


def actions_called_by_etl(modules: set[str]) -> set[str]:
    actions: set[str] = set()
    for module in modules:
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            clients = {
                arg.arg: CLIENT_TYPES[arg.annotation.id]
                for arg in function.args.args + function.args.kwonlyargs
                if isinstance(arg.annotation, ast.Name) and arg.annotation.id in CLIENT_TYPES
            }
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                target = call.func
                if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                    continue
                if target.value.id not in clients:
                    continue
                method = target.attr
                if method == "get_paginator":
                    method = ast.literal_eval(call.args[0])
                actions |= _iam_actions(clients[target.value.id], method)
    return actions


def _allowed(policy_names: set[str]) -> list[dict[str, Any]]:
    role = load_template(ROOT / "infra" / "orchestration.yaml")["Resources"]["ExecutionRole"]
    return [
        statement
        for policy in role["Properties"]["Policies"]
        if policy["PolicyName"] in policy_names
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
    ]


@pytest.fixture(scope="module")
def statements() -> list[dict[str, Any]]:
    """The DAG's own policy (MWAA's policy reads the source bucket, which the DAG never does)."""
    return _allowed({"tasks-daily"})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(statements: list[dict[str, Any]], prefix: tuple[str, ...]) -> set[str]:
    return {
        action
        for statement in statements
        for action in _listed(statement["Action"])
        if action.startswith(prefix)
    }


def lake_prefixes(statements: list[dict[str, Any]], action: str) -> set[str]:
    """Key prefixes of the lake bucket on which the role allows `action`."""
    prefixes = set()
    for statement in statements:
        if action not in _listed(statement["Action"]):
            continue
        for resource in _listed(statement["Resource"]):
            if isinstance(resource, Tag) and resource.name == "Sub":
                text = resource.value[0] if isinstance(resource.value, list) else resource.value
                match = re.fullmatch(r"\$\{Lake\}/(.+)\*", text)
                if match:
                    prefixes.add(match.group(1))
    return prefixes


def written_prefixes() -> set[str]:
    """Bronze from etl.lake_layout, silver/gold from where the Glue tables say they live."""
    bronze = f"{BRONZE_ROOT}/"
    assert bronze_attempt_prefix(date(2026, 11, 30), "manual__x", 1).startswith(bronze)
    analytics = load_template(ROOT / "infra" / "analytics.yaml")["Resources"]
    tables = {}
    for resource in analytics.values():
        if resource["Type"] == "AWS::Glue::Table":
            table = resource["Properties"]["TableInput"]
            if table["Name"] in LATEST_TABLES:
                continue  # re-pointed at a partition's folder; nothing is written under its own
            location = table["StorageDescriptor"]["Location"]
            text = location.value if isinstance(location, Tag) else location
            (key,) = re.findall(r"^s3://[^/]+/(.+)$", text)
            tables[table["Name"]] = key
    assert set(tables) == set(TABLES), "the catalog and etl.schemas disagree on the lake tables"
    return {bronze, *tables.values()}


def test_the_dag_reaches_the_lake_and_the_catalog_through_etl() -> None:
    modules = _etl_modules_of_dag()

    assert {"etl.bronze", "etl.publish", "etl.validation", "etl.run_metrics"} <= modules
    assert "etl.lake_mirror" not in modules  # local only: it mirrors the catalog into a folder
    assert "etl.catalog_repair" not in modules  # an operator's tool, run with their credentials


def test_role_grants_exactly_the_aws_calls_the_dag_makes(statements: list[dict[str, Any]]) -> None:
    called = actions_called_by_etl(_etl_modules_of_dag()) | EXPORT_WRITES
    # PutMetricData sits in MWAA's policy: one grant serves MWAA's metrics and the DAG's.
    metrics = granted(_allowed({"mwaa-environment"}), ("cloudwatch:",))

    assert granted(statements, AWS_SERVICES) | metrics == called


def test_the_export_calls_are_the_ones_etl_makes(statements: list[dict[str, Any]]) -> None:
    called = actions_called_by_etl(_etl_modules_of_dag())

    assert {action for action in called if action.startswith("dynamodb:")} == DYNAMODB_EXPORT_CALLS
    assert granted(statements, ("dynamodb:",)) == DYNAMODB_EXPORT_CALLS


def test_role_reads_and_writes_exactly_the_lake_prefixes_the_dag_writes(
    statements: list[dict[str, Any]],
) -> None:
    expected = written_prefixes()

    assert lake_prefixes(statements, "s3:PutObject") == expected
    assert lake_prefixes(statements, "s3:GetObject") == expected
    assert lake_prefixes(statements, "s3:PutObjectAcl") == {f"{BRONZE_ROOT}/"}
    # Superseded run folders of the published tables, for the lake bucket's lifecycle rule.
    assert lake_prefixes(statements, "s3:PutObjectTagging") == expected - {f"{BRONZE_ROOT}/"}


def test_role_lists_only_the_bronze_exports(statements: list[dict[str, Any]]) -> None:
    (listing,) = (s for s in statements if "s3:ListBucket" in _listed(s["Action"]))

    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{BRONZE_ROOT}/*"]}}
