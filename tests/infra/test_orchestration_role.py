"""The MWAA execution role grants exactly what the DAGs (tasks_daily, lake_erasure) call.

The calls are read from the code: the `etl` modules the DAG imports (and what they import), every
method called on a parameter typed as an S3, Glue or CloudWatch client. The lake prefixes are read
from `etl.lake_layout` (bronze) and from the Glue tables' locations in infra/analytics.yaml, which
is where `etl.publish.stage_partitions` uploads silver and gold files. A new call or a new table
fails here until the role grants it; a grant nothing uses fails here too.

The Athena engine's calls are read from the DAG file (the provider's operator and hook), and
the calls Athena makes as the caller (Glue DDL, the result location) are listed here.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from etl.athena_transform import BRONZE_TABLE_PREFIX, OUTPUT_TABLE_SUFFIX, create_table_as
from etl.lake_layout import bronze_export_try_prefix, bronze_root
from etl.publish_lock import LOCK_ROOT
from etl.schemas import CATALOG_TABLES, LATEST_TABLES, TABLES
from infra.local.analytics_catalog import Tag, load_template

ROOT = Path(__file__).resolve().parents[2]
CLIENT_TYPES = {
    "S3Client": "s3",
    "GlueClient": "glue",
    "CloudWatchClient": "cloudwatch",
    "DynamoDBClient": "dynamodb",
    "AthenaClient": "athena",
}
# boto3 calls whose IAM action is not the operation's own name.
S3_ACTIONS = {
    "list_objects_v2": "s3:ListBucket",
    "get_object": "s3:GetObject",
    "download_file": "s3:GetObject",  # HeadObject + ranged GetObject
    "upload_file": {"s3:PutObject", "s3:AbortMultipartUpload"},  # multipart above 8 MB
    "put_object": "s3:PutObject",
    "put_object_tagging": "s3:PutObjectTagging",
    "head_object": "s3:GetObject",
    "delete_object": "s3:DeleteObject",
}
# The native export's DynamoDB calls (etl.native_export), listed here as well as read from the
# code, so a call dropped from the code or a grant widened beyond them fails one test or the other.
DYNAMODB_EXPORT_CALLS = {
    "dynamodb:DescribeContinuousBackups",  # the latest restorable time, before the export
    "dynamodb:DescribeTable",  # the table ARN the export needs
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:DescribeExport",  # until the export completes
    "dynamodb:ListExports",  # a retried export task finds the export its earlier try started
}
# The export writes to S3 as the caller, which DynamoDB's guide says needs PutObject, the multipart
# abort and PutObjectAcl. The scan mode (the provider's DynamoDBToS3Operator, Scan) runs only
# against DynamoDB Local, so it is not granted.
EXPORT_WRITES = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"}
AWS_SERVICES = ("s3:", "glue:", "dynamodb:", "cloudwatch:", "athena:")
# What the amazon provider calls for the DAG: AthenaOperator starts a query, its trigger polls
# it (deferrable), on_kill stops it; the AthenaHook methods the DAG calls itself.
ATHENA_OPERATOR_CALLS = {
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:StopQueryExecution",
}
ATHENA_HOOK_CALLS = {
    "run_query": "athena:StartQueryExecution",
    "poll_query_status": "athena:GetQueryExecution",
    "get_state_change_reason": "athena:GetQueryExecution",
}
# What Athena calls as the caller for our statements: the per-attempt tables' DDL (CREATE
# EXTERNAL TABLE, CTAS, DROP; GetTable is read from etl), the database it resolves each statement
# in, and the workgroup's result location.
ATHENA_AS_CALLER = {"glue:CreateTable", "glue:DeleteTable"}
ATHENA_READS_THE_DATABASE = {"glue:GetDatabase", "glue:GetDatabases"}
ATHENA_RESULTS = {
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
}


def _source(module: str) -> Path:
    """The file of an `etl` module, or of a package's `__init__`."""
    path = ROOT / module.replace(".", "/")
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _etl_modules_of_dag() -> set[str]:
    """`etl` modules the DAG files import, followed through their own `etl` imports."""
    seen: set[str] = set()
    pending = sorted((ROOT / "dags").glob("*.py"))
    while pending:
        tree = ast.parse(pending.pop().read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("etl."):
                module = node.module or ""
                if module not in seen:
                    seen.add(module)
                    pending.append(_source(module))
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
        tree = ast.parse(_source(module).read_text())
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


def athena_actions_of_dag() -> set[str]:
    """The provider's Athena calls the DAG makes, from its operators and its hook calls."""
    tree = ast.parse((ROOT / "dags" / "tasks_daily.py").read_text())
    actions: set[str] = set()
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if isinstance(call.func, ast.Name) and call.func.id == "AthenaOperator":
            actions |= ATHENA_OPERATOR_CALLS
        if isinstance(call.func, ast.Attribute) and call.func.attr in ATHENA_HOOK_CALLS:
            actions.add(ATHENA_HOOK_CALLS[call.func.attr])
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


EXPORTED = ("tasks", "users")
"""The DynamoDB tables the DAG exports (dags/tasks_daily.py EXPORTED_TABLES)."""


def bronze_prefixes() -> set[str]:
    """Where etl.lake_layout puts each exported table's exports."""
    prefixes = {f"{bronze_root(source)}/" for source in EXPORTED}
    for source in EXPORTED:
        attempt = bronze_export_try_prefix(date(2026, 11, 30), "manual__x", 1, source)
        assert attempt.startswith(f"{bronze_root(source)}/")
    return prefixes


def written_prefixes() -> set[str]:
    """Bronze from etl.lake_layout, silver/gold from where the Glue tables say they live."""
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
    assert set(tables) == set(CATALOG_TABLES), (
        "the catalog and etl.schemas disagree on the lake tables"
    )
    return {*bronze_prefixes(), *tables.values(), LOCK_ROOT}


def test_the_dag_reaches_the_lake_and_the_catalog_through_etl() -> None:
    modules = _etl_modules_of_dag()

    assert {"etl.bronze", "etl.publish", "etl.validation", "etl.run_metrics"} <= modules
    assert "etl.erasure" in modules  # dags/lake_erasure.py: the same role runs every DAG
    assert "etl.lake_mirror" not in modules  # local only: it mirrors the catalog into a folder
    assert "etl.catalog_repair" not in modules  # an operator's tool, run with their credentials


def test_role_grants_exactly_the_aws_calls_the_dag_makes(statements: list[dict[str, Any]]) -> None:
    called = actions_called_by_etl(_etl_modules_of_dag()) | EXPORT_WRITES
    athena = athena_actions_of_dag()
    assert athena, "the DAG runs no Athena query: drop the Athena grants and lists here"
    called |= athena | ATHENA_AS_CALLER | ATHENA_READS_THE_DATABASE | ATHENA_RESULTS
    # PutMetricData sits in MWAA's policy: one grant serves MWAA's metrics and the DAG's.
    metrics = granted(_allowed({"mwaa-environment"}), ("cloudwatch:",))

    assert granted(statements, AWS_SERVICES) | metrics == called


def test_the_export_calls_are_the_ones_etl_makes(statements: list[dict[str, Any]]) -> None:
    called = actions_called_by_etl(_etl_modules_of_dag())

    assert {action for action in called if action.startswith("dynamodb:")} == DYNAMODB_EXPORT_CALLS
    assert granted(statements, ("dynamodb:",)) == DYNAMODB_EXPORT_CALLS


def test_both_exported_tables_and_only_they_can_be_exported(
    statements: list[dict[str, Any]],
) -> None:
    """The export is granted on the tasks and the users table, whose exports are described under
    each table's ARN; both export to S3 with PutObject, the multipart abort and PutObjectAcl
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html).
    """
    exports = {
        "dynamodb:ExportTableToPointInTime": set(),
        "dynamodb:DescribeContinuousBackups": set(),
        "dynamodb:DescribeTable": set(),
        "dynamodb:DescribeExport": set(),
    }
    for statement in statements:
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]) if action in exports else []:
                value = resource.value
                imported = value[1] if isinstance(value, list) else {"": resource}
                for tag in imported.values():
                    exports[action].add(tag.value["Fn::Sub"])

    tables = {f"${{Project}}-${{Environment}}-{source}-table-arn" for source in EXPORTED}
    assert all(found == tables for found in exports.values()), exports


def test_role_reads_and_writes_exactly_the_lake_prefixes_the_dag_writes(
    statements: list[dict[str, Any]],
) -> None:
    expected = written_prefixes()

    assert lake_prefixes(statements, "s3:PutObject") == expected
    assert lake_prefixes(statements, "s3:GetObject") == expected
    assert lake_prefixes(statements, "s3:PutObjectAcl") == bronze_prefixes()
    # Superseded run folders of the published tables, for the lake bucket's lifecycle rule.
    assert lake_prefixes(statements, "s3:PutObjectTagging") == expected - {
        *bronze_prefixes(),
        LOCK_ROOT,
    }
    # etl.publish_lock: only the day's lock object is ever deleted.
    assert lake_prefixes(statements, "s3:DeleteObject") == {LOCK_ROOT}


def _resources(statement: dict[str, Any]) -> list[str]:
    texts = []
    for resource in _listed(statement["Resource"]):
        value = resource.value if isinstance(resource, Tag) else resource
        texts.append(value[0] if isinstance(value, list) else value)
    return texts


def test_role_lists_only_the_lake_prefixes_the_dag_writes(
    statements: list[dict[str, Any]],
) -> None:
    """The bronze exports, and the staging folders Athena's CTAS writes and etl lists."""
    (listing,) = (
        s for s in statements if "s3:ListBucket" in _listed(s["Action"]) and "Condition" in s
    )

    prefixes = listing["Condition"]["StringLike"]["s3:prefix"]
    # The lock object is written and read by its key, never listed.
    assert {prefix.removesuffix("*") for prefix in prefixes} == written_prefixes() - {LOCK_ROOT}


def _workgroups() -> dict[str, dict[str, Any]]:
    """The analytics stack's workgroups by the name of the export that carries their name."""
    analytics = load_template(ROOT / "infra" / "analytics.yaml")
    exported = {
        output["Value"].value: output["Export"]["Name"].value
        for output in analytics["Outputs"].values()
        if isinstance(output["Value"], Tag) and output["Value"].name == "Ref"
    }
    return {
        exported[logical_id]: resource["Properties"]
        for logical_id, resource in analytics["Resources"].items()
        if resource["Type"] == "AWS::Athena::WorkGroup"
    }


def _dag_workgroup_export() -> str:
    """The export the Airflow Variable tasklake_athena_workgroup is set from."""
    variable = load_template(ROOT / "infra" / "orchestration.yaml")["Resources"][
        "AthenaWorkgroupVariable"
    ]
    value = variable["Properties"]["Value"]
    assert isinstance(value, Tag), value
    assert value.name == "ImportValue", value
    export: str = value.value["Fn::Sub"]
    return export


def test_the_dag_queries_in_a_workgroup_that_lets_a_ctas_name_its_location() -> None:
    """Athena refuses a CTAS with external_location (etl.athena_transform sets it) in a workgroup
    that enforces its configuration; the analysts' workgroup keeps enforcing."""
    workgroups = _workgroups()
    dag = workgroups[_dag_workgroup_export()]["WorkGroupConfiguration"]
    analysts = workgroups["${Project}-${Environment}-athena-workgroup"]["WorkGroupConfiguration"]

    assert "external_location" in create_table_as(
        "db",
        "t_ctas_x",
        table="tasks",
        snapshot_date=date(2026, 11, 30),
        bronze="b",
        tasks="t",
        location="s3://l/",
    )
    assert dag["EnforceWorkGroupConfiguration"] is False
    assert analysts["EnforceWorkGroupConfiguration"] is True
    # What the DAG does not send comes from its workgroup: the results, the key, the cutoff.
    assert dag["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert dag["BytesScannedCutoffPerQuery"] == analysts["BytesScannedCutoffPerQuery"]
    assert (
        dag["ResultConfiguration"]["OutputLocation"]
        != analysts["ResultConfiguration"]["OutputLocation"]
    )


def test_athena_runs_only_in_the_dags_workgroup(statements: list[dict[str, Any]]) -> None:
    athena = [s for s in statements if granted([s], ("athena:",))]
    (resource,) = (r for s in athena for r in _listed(s["Resource"]))

    assert [_resources(s) for s in athena] == [
        ["arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${WorkGroup}"]
    ]
    assert resource.value[1]["WorkGroup"].value == {"Fn::Sub": _dag_workgroup_export()}


def test_only_the_attempt_tables_can_be_created_or_dropped(
    statements: list[dict[str, Any]],
) -> None:
    (ddl,) = (s for s in statements if granted([s], ("glue:",)) & ATHENA_AS_CALLER)
    tables = {resource.rsplit("/", 1)[1] for resource in _resources(ddl) if ":table/" in resource}

    assert set(_listed(ddl["Action"])) == ATHENA_AS_CALLER
    assert tables == {f"{BRONZE_TABLE_PREFIX}_*", f"*{OUTPUT_TABLE_SUFFIX}_*"}
    for table in TABLES:
        assert not fnmatch(table, f"*{OUTPUT_TABLE_SUFFIX}_*")  # the lake tables stay safe
        assert not fnmatch(f"{table}_latest", f"*{OUTPUT_TABLE_SUFFIX}_*")


def test_athena_results_are_read_and_written_only_in_the_result_location(
    statements: list[dict[str, Any]],
) -> None:
    results = {
        (action, resource)
        for statement in statements
        for resource in _resources(statement)
        if "${Results}" in resource
        for action in _listed(statement["Action"])
    }

    location = _workgroups()[_dag_workgroup_export()]["WorkGroupConfiguration"][
        "ResultConfiguration"
    ]["OutputLocation"].value
    (prefix,) = re.findall(r"^s3://\$\{AthenaResultsBucket\}/(.+/)$", location)
    bucket = "arn:${AWS::Partition}:s3:::${Results}"
    on_bucket = {"s3:GetBucketLocation", "s3:ListBucket"}
    assert results == {(action, bucket) for action in on_bucket} | {
        (action, f"{bucket}/{prefix}*") for action in ATHENA_RESULTS - on_bucket
    }
