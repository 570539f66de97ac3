"""The API role's grants and the AWS calls they must cover, as (IAM action, resource ARN) pairs.

A recorded call becomes the actions AWS checks for it:
- DynamoDB: `dynamodb:<Operation>` on the table, or on `table/<name>/index/<index>` for a Query
  on an index. TransactWriteItems is authorized per item, as the action the item stands for
  (Put → PutItem, Update → UpdateItem, Delete → DeleteItem, ConditionCheck →
  ConditionCheckItem), per "Using IAM with DynamoDB transactions" in the DynamoDB developer guide
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
- Cognito: `cognito-idp:<Operation>` on the pool (the signed, admin calls; the unsigned ones
  never reach IAM and are not mapped here).
- Secrets Manager: `secretsmanager:<Operation>` on the secret's ARN.

`Deployment` reads the role's statements as if the stacks were deployed for the local stage:
tables by their `${Project}-${Environment}-…` names, `Fn::ImportValue` through the exporting
template's outputs, the user pool and the secret bound to the ones the local engines run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from infra.cfn import Tag, load_template, templates

ACCOUNT = "123456789012"  # moto's account, the one the secret's ARN carries
IN_SCOPE = ("dynamodb:", "cognito-idp:", "secretsmanager:")
TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
Grant = tuple[str, str]  # (IAM action, resource ARN or pattern)


def _table_arn(region: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _pool_arn(region: str, pool_id: str) -> str:
    return f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{pool_id}"


def grants_of_call(prefix: str, operation: str, params: dict[str, Any], region: str) -> set[Grant]:
    """The (action, resource) pairs IAM checks for one signed call."""
    if prefix == "dynamodb" and operation == "TransactWriteItems":
        return {
            (f"dynamodb:{TRANSACTION_ITEMS[kind]}", _table_arn(region, body["TableName"]))
            for item in params["TransactItems"]
            for kind, body in item.items()
        }
    if prefix == "dynamodb" and operation in ("BatchWriteItem", "BatchGetItem"):
        return {(f"dynamodb:{operation}", _table_arn(region, t)) for t in params["RequestItems"]}
    if prefix == "dynamodb" and "TableName" in params:
        arn = _table_arn(region, params["TableName"], params.get("IndexName"))
        return {(f"dynamodb:{operation}", arn)}
    if prefix == "cognito-idp" and "UserPoolId" in params:
        return {(f"cognito-idp:{operation}", _pool_arn(region, params["UserPoolId"]))}
    if prefix == "secretsmanager" and "SecretId" in params:
        return {(f"secretsmanager:{operation}", params["SecretId"])}
    raise AssertionError(f"no IAM mapping for {prefix}:{operation}: add one to this test")


@dataclass
class Deployment:
    """The templates as deployed for one stage onto the local engines, for the intrinsics the
    role's statements use: Ref, Sub, GetAtt …Arn and Fn::ImportValue."""

    stage: str
    region: str
    pool_id: str
    secret_arn: str

    def __post_init__(self) -> None:
        self.stacks = {path.name: load_template(path) for path in templates()}

    def resolve(self, node: Any, stack: str) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and set(node) == {"Fn::ImportValue"}:
            return self._imported(self.resolve(node["Fn::ImportValue"], stack))
        if isinstance(node, Tag) and node.name == "Sub":
            text, names = node.value if isinstance(node.value, list) else (node.value, {})
            local = {name: self.resolve(value, stack) for name, value in names.items()}
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: local[m[1]] if m[1] in local else self._ref(m[1], stack),
                text,
            )
        if isinstance(node, Tag) and node.name == "Ref":
            return self._ref(node.value, stack)
        if isinstance(node, Tag) and node.name == "GetAtt":
            target = node.value.split(".") if isinstance(node.value, str) else node.value
            logical, attribute = target
            assert attribute == "Arn", node
            return self._arn(logical, stack)
        raise AssertionError(f"cannot resolve {node!r} in {stack}")

    def _ref(self, name: str, stack: str) -> str:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": self.region, "AWS::AccountId": ACCOUNT}
        template = self.stacks[stack]
        if name in pseudo:
            return pseudo[name]
        if name == "Environment":
            return self.stage
        if name in template["Parameters"]:
            return str(template["Parameters"][name]["Default"])
        resource = template["Resources"][name]
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            return self.resolve(resource["Properties"]["TableName"], stack)
        if kind == "AWS::Cognito::UserPool":
            return self.pool_id
        if kind == "AWS::SecretsManager::Secret":
            return self.secret_arn
        raise AssertionError(f"no stand-in for {kind} {name}")

    def _arn(self, name: str, stack: str) -> str:
        kind = self.stacks[stack]["Resources"][name]["Type"]
        if kind == "AWS::DynamoDB::Table":
            return _table_arn(self.region, self._ref(name, stack))
        if kind == "AWS::Cognito::UserPool":
            return _pool_arn(self.region, self.pool_id)
        raise AssertionError(f"no ARN for {kind} {name}")

    def _imported(self, export: str) -> str:
        for stack, template in self.stacks.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output and self.resolve(output["Export"]["Name"], stack) == export:
                    return self.resolve(output["Value"], stack)
        raise AssertionError(f"no template exports {export}")

    def role_grants(self) -> set[Grant]:
        """Every (action, resource) an Allow statement of ApiRole on DynamoDB, Cognito or
        Secrets Manager names."""
        role = self.stacks["api.yaml"]["Resources"]["ApiRole"]
        grants: set[Grant] = set()
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = listed(statement["Action"])
                if not any(action.startswith(IN_SCOPE) for action in actions):
                    continue
                assert all(action.startswith(IN_SCOPE) for action in actions), statement
                assert statement["Effect"] == "Allow", statement
                assert "Condition" not in statement, statement
                resources = [self.resolve(r, "api.yaml") for r in listed(statement["Resource"])]
                grants |= {(action, resource) for action in actions for resource in resources}
        return grants


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(grant: Grant, needed: Grant) -> bool:
    """IAM's matching: actions case-insensitively, resources with * and ? wildcards."""
    return grant[0].lower() == needed[0].lower() and fnmatchcase(needed[1], grant[1])
