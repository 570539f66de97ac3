"""The stacks' key policy, role policies and resource names as one deployed stage would have them.

Every template under infra/ is read for one stage with its parameter defaults; the intrinsics the
policies use (`Ref`, `Sub` in both forms with `${Resource.Attr}`, `GetAtt …Arn`, `ImportValue`
through the exporting stack's outputs) become strings. What CloudFormation or AWS would make up
(the key id, a secret's random suffix, a user pool id) gets a fixed stand-in of the right shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from typing import Any

from infra.cfn import Tag, load_template, templates

ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"
KEY_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
POOL_ID = f"{REGION}_TaskLake1"
# Parameters without a default, set as a deploy would set them.
PARAMETERS = {"LakeBucketName": "tasklake-dev-lake-123456789012"}
# The property that names a resource, where `!Ref` returns that name.
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Athena::WorkGroup": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::MWAA::Environment": "Name",
    "AWS::IAM::Role": "RoleName",
}


class Stage:
    def __init__(self, environment: str = "dev") -> None:
        self.environment = environment
        self.stacks = {path.stem: load_template(path) for path in templates()}

    def resolve(self, node: Any, stack: str) -> Any:
        if isinstance(node, Tag):
            return self._intrinsic(node.name, node.value, stack)
        if isinstance(node, dict) and len(node) == 1 and next(iter(node)).startswith("Fn::"):
            ((name, value),) = node.items()
            return self._intrinsic(name.removeprefix("Fn::"), value, stack)
        if isinstance(node, dict):
            return {key: self.resolve(value, stack) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(value, stack) for value in node]
        return node

    def _intrinsic(self, name: str, value: Any, stack: str) -> str:
        if name == "Ref":
            return self._ref(value, stack)
        if name == "GetAtt":
            logical, attribute = value.split(".", 1) if isinstance(value, str) else value
            return self._attribute(logical, attribute, stack)
        if name == "ImportValue":
            return self.export(self.resolve(value, stack))
        if name == "Sub":
            text, names = value if isinstance(value, list) else (value, {})
            local = {key: self.resolve(item, stack) for key, item in names.items()}
            return re.sub(
                r"\$\{([^}!]+)\}",
                lambda m: local.get(m[1]) or self._placeholder(m[1], stack),
                text,
            )
        raise AssertionError(f"!{name} is not resolved here ({stack})")

    def _placeholder(self, name: str, stack: str) -> str:
        if "." in name and not name.startswith("AWS::"):
            logical, attribute = name.split(".", 1)
            return self._attribute(logical, attribute, stack)
        return self._ref(name, stack)

    def _ref(self, name: str, stack: str) -> str:
        pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
        if name in pseudo:
            return pseudo[name]
        if name == "Environment":
            return self.environment
        parameters = self.stacks[stack].get("Parameters", {})
        if name in parameters:
            spec = parameters[name]
            return str(spec["Default"]) if "Default" in spec else PARAMETERS[name]
        return self._physical_id(name, stack)

    def _physical_id(self, name: str, stack: str) -> str:
        """What `!Ref` of a resource returns: its name property, or what AWS would make up."""
        resource = self.stacks[stack]["Resources"][name]
        kind, props = resource["Type"], resource.get("Properties", {})
        if NAME_PROPERTY.get(kind) in props:
            return str(self.resolve(props[NAME_PROPERTY[kind]], stack))
        arn = f"arn:{PARTITION}:{{}}:{REGION}:{ACCOUNT}:{{}}"
        stand_ins: dict[str, Callable[[], str]] = {
            "AWS::IAM::Role": lambda: f"{stack}-{name}",  # CloudFormation makes up a name
            "AWS::Glue::Database": lambda: str(self.resolve(props["DatabaseInput"]["Name"], stack)),
            "AWS::KMS::Key": lambda: KEY_ID,
            "AWS::SecretsManager::Secret": lambda: arn.format(
                "secretsmanager", f"secret:{self.resolve(props['Name'], stack)}-AbCdEf"
            ),
            "AWS::SNS::Topic": lambda: arn.format("sns", self.resolve(props["TopicName"], stack)),
            "AWS::Cognito::UserPool": lambda: POOL_ID,
        }
        if kind not in stand_ins:
            raise AssertionError(f"no stand-in for Ref of {kind} {name} ({stack})")
        return stand_ins[kind]()

    def _attribute(self, logical: str, attribute: str, stack: str) -> str:
        kind = self.stacks[stack]["Resources"][logical]["Type"]
        name = self._ref(logical, stack)
        arns = {
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{name}",
            "AWS::KMS::Key": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            # CloudFormation's Arn of a log group ends in ":*" (every stream of it).
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            "AWS::Cognito::UserPool": (
                f"arn:{PARTITION}:cognito-idp:{REGION}:{ACCOUNT}:userpool/{name}"
            ),
        }
        if attribute != "Arn" or kind not in arns:
            raise AssertionError(f"no stand-in for GetAtt {logical}.{attribute} ({stack})")
        return arns[kind]

    def export(self, export: str) -> str:
        for stack, template in self.stacks.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output and self.resolve(output["Export"]["Name"], stack) == export:
                    return str(self.resolve(output["Value"], stack))
        raise AssertionError(f"no stack exports {export}")

    @cached_property
    def key_policy(self) -> list[dict[str, Any]]:
        key = self.stacks["keys"]["Resources"]["Key"]["Properties"]["KeyPolicy"]
        statements: list[dict[str, Any]] = self.resolve(key, "keys")["Statement"]
        return statements

    @cached_property
    def key_arn(self) -> str:
        return self._attribute("Key", "Arn", "keys")

    def role_arn(self, stack: str, logical: str) -> str:
        return self._attribute(logical, "Arn", stack)

    def role_policy(self, stack: str, logical: str) -> list[dict[str, Any]]:
        """Every statement of the role's inline policies, resolved."""
        role = self.stacks[stack]["Resources"][logical]["Properties"]
        assert "ManagedPolicyArns" not in role, f"{logical}: managed policies are not evaluated"
        return [
            self.resolve(statement, stack)
            for policy in role["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]

    def bucket_policy(self, bucket: str) -> list[dict[str, Any]]:
        """The statements of the bucket policy on the bucket named `bucket`, resolved."""
        for stack, template in self.stacks.items():
            for resource in template["Resources"].values():
                props = resource.get("Properties", {})
                if (
                    resource["Type"] == "AWS::S3::BucketPolicy"
                    and self.resolve(props["Bucket"], stack) == bucket
                ):
                    statements: list[dict[str, Any]] = self.resolve(props["PolicyDocument"], stack)[
                        "Statement"
                    ]
                    return statements
        raise AssertionError(f"no bucket policy on {bucket}")

    def property(self, stack: str, logical: str, *path: str) -> Any:
        node = self.stacks[stack]["Resources"][logical]["Properties"]
        for step in path:
            node = node[step]
        return self.resolve(node, stack)
