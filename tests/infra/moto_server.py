"""moto's server with two gaps filled that `make deploy`'s real code path runs into.

    python -m tests.infra.moto_server -H 127.0.0.1 -p PORT

moto 5.2.5 (checked against its source):
- a stack created by a change set (what `aws cloudformation deploy` does) keeps the empty
  template it was created with for its Outputs: DescribeStacks shows no Outputs, ListExports
  nothing, and a later stack's `Fn::ImportValue` cannot resolve. Real CloudFormation resolves
  Outputs and registers Exports when the change set executes; so does this server.
- a short-form intrinsic written over a mapping (`!ImportValue {"Fn::Sub": "…"}`) reaches the
  stack as raw YAML nodes; here it is constructed like any other mapping.
- properties moto's CloudFormation drops or passes on in the wrong shape are applied through
  moto's own backends, as CloudFormation applies them: a bucket's VersioningConfiguration and
  PublicAccessBlockConfiguration, a table's TimeToLiveSpecification, a KMS key's KeyPolicy
  (a JSON string, not a mapping) and Tags (`TagKey`/`TagValue`, not `Key`/`Value`).
- a change set that fails to execute leaves its stack in progress for ever (the CLI's waiter
  then waits an hour); here the stack ends rolled back, as CloudFormation's would.
- a change set with no changes is refused outright ("No updates are to be performed"), which
  fails `aws cloudformation deploy`; CloudFormation creates it FAILED ("didn't contain
  changes") and the CLI reports "No changes to deploy". Here, as there; and a parameter the
  CLI passes as UsePreviousValue counts as unchanged (moto compared it with nothing).
- deleting a stack keeps only `DeletionPolicy: Retain`; CloudFormation keeps a resource marked
  RetainExceptOnCreate too once its create succeeded. Here, as there.
- Lambda's ListFunctionUrlConfigs (`GET …/functions/<name>/urls`) has no route, and
  `zappa update` calls it on every update. Here it answers with the function's URL config.
- a published version is numbered one more than the versions left, so once `zappa update`
  has pruned old ones (`num_retained_versions`) the next number is a live version's again,
  and deleting the function then fails (500). Lambda numbers each new version one past the
  highest ever published (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html);
  here too.

Everything else is moto as shipped; nothing here changes what a resource looks like.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import yaml
from moto.awslambda import urls as lambda_urls
from moto.awslambda.models import LambdaFunction, LambdaStorage
from moto.awslambda.responses import LambdaResponse
from moto.cloudformation import models as cloudformation_models
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.parsing import ResourceMap
from moto.cloudformation.responses import CloudFormationResponse
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.kms.models import Key
from moto.s3.models import FakeBucket, s3_backends
from moto.server import main

_create_change_set = CloudFormationBackend.create_change_set
_execute_change_set = CloudFormationBackend.execute_change_set
_validate_different_update = CloudFormationResponse._validate_different_update
_delete_resources = ResourceMap.delete
_create_key = Key.create_from_cloudformation_json
_create_bucket = FakeBucket.create_from_cloudformation_json
_create_table = Table.create_from_cloudformation_json
_publish_version = LambdaStorage.publish_version


def create_change_set(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    change_set_id, stack_id = _create_change_set(self, *args, **kwargs)
    # The stack's ImportValues resolve against the account's exports, as in create_stack.
    self.stacks[stack_id].resource_map.cross_stack_resources = self.exports
    return change_set_id, stack_id


def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    try:
        _execute_change_set(self, change_set_name, stack_name)
    except Exception:
        # moto leaves the stack "in progress" for ever and `aws cloudformation deploy` waits an
        # hour; CloudFormation would roll back, which is what the waiter stops on.
        failed = (
            "ROLLBACK_COMPLETE"
            if change_set.change_set_type == "CREATE"
            else "UPDATE_ROLLBACK_COMPLETE"
        )
        stack.status = failed
        raise
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        self.exports[export.name] = export


def validate_different_update(self: Any, *args: Any) -> None:
    if not self._get_param("ChangeSetName"):  # UpdateStack does refuse an empty update
        _validate_different_update(self, *args)


def has_parameters(self: Any, other: dict[str, Any]) -> bool:
    resolved = self.stack_parameters
    return all(str(resolved.get(key)) == str(value) for key, value in other.items())


def intrinsic(loader: yaml.Loader, tag: str, node: yaml.Node) -> dict[str, Any]:
    key = "Ref" if tag == "!Ref" else f"Fn::{tag[1:]}"
    value: Any
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif tag == "!GetAtt":
        value = str(node.value).split(".", 1)
    else:
        value = node.value
    return {key: value}


def delete_resources(self: Any) -> None:
    for resource in self._resource_json_map.values():
        if resource.get("DeletionPolicy") == "RetainExceptOnCreate":
            resource["DeletionPolicy"] = "Retain"
    _delete_resources(self)


def create_key(
    cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
) -> Key:
    properties = cloudformation_json["Properties"]
    tags = properties.get("Tags") or []
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]
    if isinstance(properties.get("KeyPolicy"), dict):
        properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
    return _create_key(resource_name, cloudformation_json, *args, **kwargs)


def create_bucket(
    cls: Any, /, name: str, cloudformation_json: Any, account_id: str, region: str, **kwargs: Any
) -> FakeBucket:
    bucket = _create_bucket(name, cloudformation_json, account_id, region, **kwargs)
    properties = cloudformation_json.get("Properties", {})
    backend = s3_backends[account_id]["aws"]
    if "VersioningConfiguration" in properties:
        backend.put_bucket_versioning(name, properties["VersioningConfiguration"]["Status"])
    if "PublicAccessBlockConfiguration" in properties:
        block = {k: str(v).lower() for k, v in properties["PublicAccessBlockConfiguration"].items()}
        backend.put_public_access_block(name, block)
    return bucket


def create_table(
    cls: Any, /, name: str, cloudformation_json: Any, account_id: str, region: str, **kwargs: Any
) -> Table:
    table = _create_table(name, cloudformation_json, account_id, region, **kwargs)
    ttl = cloudformation_json["Properties"].get("TimeToLiveSpecification")
    if ttl:
        dynamodb_backends[account_id][region].update_time_to_live(name, ttl)
    return table


def list_function_url_configs(self: Any) -> tuple[int, dict[str, Any], str]:
    function = self.backend.get_function(unquote(self.path.split("/")[-2]))
    configs = [function.url_config.to_dict()] if function.url_config else []
    return 200, {}, json.dumps({"FunctionUrlConfigs": configs})


def publish_version(self: Any, name_or_arn: str, description: str = "") -> LambdaFunction | None:
    name = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn).function_name
    versions = self._functions[name]["versions"] if name in self._functions else []
    before = [int(version.version) for version in versions]
    published: LambdaFunction | None = _publish_version(self, name_or_arn, description)
    if published is None or len(versions) == len(before):
        return published  # nothing changed since the last version: moto returned that one
    highest: dict[str, int] = self.__dict__.setdefault("highest_published", {})
    number = max([highest.get(name, 0), *before]) + 1
    if number != int(published.version):
        published.set_version(number)
        self._arns[published.function_arn] = published
        for version in versions[:-1]:  # the live version whose number (and ARN) moto reused
            self._arns[version.function_arn] = version
    highest[name] = number
    return published


cloudformation_models.yaml_tag_constructor = intrinsic  # type: ignore[attr-defined]
CloudFormationResponse._validate_different_update = validate_different_update  # type: ignore[method-assign,assignment]
Stack.has_parameters = has_parameters  # type: ignore[method-assign,assignment]
CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]
CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
ResourceMap.delete = delete_resources  # type: ignore[method-assign]
Key.create_from_cloudformation_json = classmethod(create_key)  # type: ignore[assignment]
FakeBucket.create_from_cloudformation_json = classmethod(create_bucket)  # type: ignore[assignment]
Table.create_from_cloudformation_json = classmethod(create_table)  # type: ignore[assignment]
LambdaResponse.list_function_url_configs = list_function_url_configs  # type: ignore[attr-defined]
LambdaStorage.publish_version = publish_version  # type: ignore[method-assign]
lambda_urls.url_paths[
    r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"
] = LambdaResponse.dispatch

if __name__ == "__main__":
    main()
