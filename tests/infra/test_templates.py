"""Rules every CloudFormation template under infra/ keeps, whoever wrote it.

Which resource types take tags, and under which property and in which form, comes from the
resource schemas cfn-lint ships (pinned in requirements-dev.txt); its schema manager is what
cfn-lint itself validates templates with.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from infra.cfn import Tag, load_template, templates

COMMON_PARAMETERS = ("Project", "Owner", "Environment", "CostCenter")
REGION = "us-east-1"
# Types CloudFormation cannot tag, each with why nothing is lost (cost lands on the tagged
# resource they belong to). A new untaggable type fails the tag test until it is listed here.
UNTAGGABLE = {
    "AWS::ApiGateway::Account": "an account setting, not a resource; no cost of its own",
    "AWS::Athena::NamedQuery": "a saved query string; no cost of its own",
    "AWS::Cognito::UserPoolClient": "part of the tagged user pool",
    "AWS::Cognito::UserPoolGroup": "part of the tagged user pool",
    "AWS::EC2::Route": "an entry of a tagged route table",
    "AWS::EC2::SubnetRouteTableAssociation": "a link between tagged resources",
    "AWS::EC2::VPCGatewayAttachment": "a link between tagged resources",
    "AWS::EC2::SecurityGroupIngress": "a rule of a tagged security group",
    "AWS::EC2::SecurityGroupEgress": "a rule of a tagged security group",
    "AWS::Glue::Database": "no Tags property in CloudFormation; the name carries the stage",
    "AWS::Glue::Table": "no Tags property in CloudFormation; the name carries the stage",
    "AWS::IAM::Policy": "an inline policy of a tagged role",
    "AWS::IAM::ManagedPolicy": "no Tags property in CloudFormation; attached to tagged roles",
    "AWS::KMS::Alias": "a name for the tagged key",
    "AWS::S3::BucketPolicy": "part of the tagged bucket",
    "AWS::SNS::Subscription": "part of the tagged topic",
    "AWS::SNS::TopicPolicy": "part of the tagged topic",
    "AWS::WAFv2::WebACLAssociation": "a link between tagged resources",
}
# Resources that hold data: what happens to it on stack deletion must be a decision, not a default.
DATA_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::SecretsManager::Secret",
    "AWS::KMS::Key",
}
TEMPLATES = templates()
IDS = [path.name for path in TEMPLATES]


def _resources(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from load_template(path)["Resources"].items()


def _walk(value: Any) -> Iterator[Any]:
    yield value
    children = value.value if isinstance(value, Tag) else value
    if isinstance(children, dict):
        children = list(children.values())
    if isinstance(children, list):
        for child in children:
            yield from _walk(child)


def _statements(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document (IAM, key, bucket, trust policies)."""
    for logical_id, resource in _resources(path):
        for node in _walk(resource.get("Properties", {})):
            if isinstance(node, dict) and isinstance(node.get("Statement"), list):
                for statement in node["Statement"]:
                    yield logical_id, statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_every_template_takes_the_common_parameters(path: Path) -> None:
    parameters = load_template(path).get("Parameters", {})

    assert [name for name in COMMON_PARAMETERS if name not in parameters] == []
    assert parameters["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]


def _tag_property(kind: str) -> tuple[str, str] | None:
    """(property name, "list" or "map") for a taggable type, None for an untaggable one."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, kind).schema
    tagging = schema.get("tagging", {})
    name = tagging.get("tagProperty", "/properties/Tags").rsplit("/", 1)[-1]
    if (
        not tagging.get("taggable", name in schema["properties"])
        or name not in schema["properties"]
    ):
        return None
    spec = schema["properties"][name]
    if "$ref" in spec:
        spec = schema["definitions"][spec["$ref"].rsplit("/", 1)[-1]]
    return name, "list" if spec.get("type") == "array" else "map"


def _tags(value: Any, form: str) -> dict[str, Any]:
    if form == "list":
        return {tag["Key"]: tag["Value"] for tag in value}
    return dict(value)


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_every_taggable_resource_carries_the_four_tags(path: Path) -> None:
    missing = {}
    for logical_id, resource in _resources(path):
        found = _tag_property(resource["Type"])
        if found is None:
            assert resource["Type"] in UNTAGGABLE, f"{resource['Type']}: list it with a reason"
            continue
        name, form = found
        tags = _tags(resource.get("Properties", {}).get(name, []), form)
        wrong = [key for key in COMMON_PARAMETERS if tags.get(key) != Tag("Ref", key)]
        if wrong:
            missing[logical_id] = wrong
    assert missing == {}, "tags missing or not !Ref of their parameter"


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_no_policy_allows_a_wildcard_action(path: Path) -> None:
    """A Deny may say s3:* (deny plain HTTP for everything); an Allow never may."""
    wildcards = [
        (logical_id, action)
        for logical_id, statement in _statements(path)
        if statement.get("Effect") == "Allow"
        for action in _as_list(statement.get("Action", []))
        if isinstance(action, str) and (action == "*" or action.endswith(":*"))
    ]
    not_actions = [lid for lid, s in _statements(path) if "NotAction" in s]

    assert wildcards == []
    assert not_actions == []


RESOURCE_STAR = re.compile(r"""^\s*(-\s*)?Resource:\s*["']\*["']|^\s*-\s*["']\*["']""")


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_resource_star_only_on_commented_lines(path: Path) -> None:
    lines = path.read_text().splitlines()
    star_lines = [i for i, line in enumerate(lines) if RESOURCE_STAR.search(line)]
    uncommented = [
        i + 1
        for i in star_lines
        if "#" not in lines[i] and not (i > 0 and lines[i - 1].strip().startswith("#"))
    ]
    in_statements = sum(
        resource == "*"
        for _, statement in _statements(path)
        for resource in _as_list(statement.get("Resource", []))
    )

    assert uncommented == [], "say why on the line or the line above"
    # Every Resource "*" the parser sees is one of the lines checked above (no other spelling).
    assert in_statements <= len(star_lines)


def _export_names() -> set[str]:
    names = set()
    for path in TEMPLATES:
        for output in load_template(path).get("Outputs", {}).values():
            if "Export" in output:
                names.add(_name(output["Export"]["Name"]))
    return names


def _name(value: Any) -> str:
    """An export or import name as written: the !Sub pattern over Project and Environment."""
    if isinstance(value, Tag) and value.name == "Sub" and isinstance(value.value, str):
        return value.value
    # `!ImportValue` cannot hold a short-form `!Sub` in YAML, so templates write the long form.
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) and len(value) == 1:
        return str(value["Fn::Sub"])
    assert isinstance(value, str), f"name must be a string or a !Sub string: {value!r}"
    return value


def _imports(path: Path) -> Iterator[str]:
    for _, resource in _resources(path):
        for node in _walk(resource):
            if isinstance(node, Tag) and node.name == "ImportValue":
                yield _name(node.value)
            elif isinstance(node, dict) and "Fn::ImportValue" in node:
                yield _name(node["Fn::ImportValue"])


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_every_import_is_exported_by_some_stack(path: Path) -> None:
    exported = _export_names()

    assert [name for name in _imports(path) if name not in exported] == []


def test_exports_are_named_by_project_and_environment() -> None:
    assert all(name.startswith("${Project}-${Environment}-") for name in _export_names())


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_data_resources_say_what_happens_on_deletion(path: Path) -> None:
    implicit = [
        logical_id
        for logical_id, resource in _resources(path)
        if resource["Type"] in DATA_TYPES
        and not {"DeletionPolicy", "UpdateReplacePolicy"} <= set(resource)
    ]

    assert implicit == []


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_a_failed_first_create_leaves_nothing_behind(path: Path) -> None:
    """`Retain` also holds on a create's rollback: a named table or bucket would stay behind and
    the re-run's create fail with "already exists". RetainExceptOnCreate keeps data only once a
    create has succeeded (UpdateReplacePolicy has no such value, so it stays Retain)."""
    kept_on_rollback = [
        logical_id
        for logical_id, resource in _resources(path)
        if resource.get("DeletionPolicy") == "Retain"
    ]

    assert kept_on_rollback == []


def _denies_plain_http(statement: dict[str, Any], bucket: str) -> bool:
    """Deny every S3 action on the bucket and its objects unless the request came over TLS."""
    resources = {
        (r.name, r.value) for r in _as_list(statement.get("Resource")) if isinstance(r, Tag)
    }
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") == "*"
        and _as_list(statement.get("Action")) == ["s3:*"]
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        and resources == {("GetAtt", f"{bucket}.Arn"), ("Sub", f"${{{bucket}.Arn}}/*")}
    )


@pytest.mark.parametrize("path", TEMPLATES, ids=IDS)
def test_every_bucket_refuses_plain_http(path: Path) -> None:
    # checkov has no check for this; ADR 0019 lists it as a control.
    resources = dict(_resources(path))
    buckets = {logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    guarded = {
        policy["Properties"]["Bucket"].value
        for policy in resources.values()
        if policy["Type"] == "AWS::S3::BucketPolicy"
        and any(
            _denies_plain_http(statement, policy["Properties"]["Bucket"].value)
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    }

    assert sorted(buckets - guarded) == []
