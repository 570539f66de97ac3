"""Build the analytics stack's bucket and Glue catalog in moto from `infra/analytics.yaml`.

The CloudFormation template is the one definition of the lake's tables; locally there is no
CloudFormation to deploy it, so this reads the template and makes the same calls CloudFormation
would, for the resource types that matter locally (S3 buckets by name, the Glue database and
tables); the rest (bucket policies, the Athena workgroup and named queries) has no local use and
is skipped. Running it again updates the tables in place, so a column added to the template
reaches the local catalog.

    python -m infra.local.analytics_catalog --stage dev --bucket tasklake-dev-lake
"""

from __future__ import annotations

import argparse
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from infra import cfn
from infra.cfn import Tag

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

TEMPLATE = Path(__file__).resolve().parents[1] / "analytics.yaml"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return cfn.load_template(path)


@dataclass
class _Resolver:
    parameters: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)
    """What `!Ref <logical id>` of a resource returns, filled as resources are created."""

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::AccountId": LOCAL_ACCOUNT_ID, "AWS::Region": "us-east-1"}
        for source in (pseudo, self.parameters, self.names):
            if name in source:
                return source[name]
        raise KeyError(f"cannot resolve !Ref {name}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Tag):
            if value.name == "Ref":
                return self._ref(value.value)
            if value.name == "Sub" and isinstance(value.value, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(m.group(1)), value.value)
            raise ValueError(f"!{value.name} is not supported by the local catalog builder")
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value


def stack_parameters(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    parameters = {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    parameters.update(given)
    return parameters


def create_analytics_catalog(
    s3: S3Client, glue: GlueClient, parameters: dict[str, str], template_path: Path = TEMPLATE
) -> str:
    """Create or update the stack's bucket, database and tables; returns the database name."""
    template = load_template(template_path)
    resolver = _Resolver(stack_parameters(template, parameters))
    resources: dict[str, Any] = template["Resources"]
    database = ""
    for logical_id, resource in resources.items():
        kind, raw = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::S3::Bucket":
            # Only the name: encryption, logging and lifecycle have no local counterpart.
            name = resolver.resolve(raw["BucketName"])
            if name not in {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}:
                s3.create_bucket(Bucket=name)
            resolver.names[logical_id] = name
        elif kind == "AWS::Glue::Database":
            properties = resolver.resolve(raw)
            database = properties["DatabaseInput"]["Name"]
            with contextlib.suppress(glue.exceptions.AlreadyExistsException):
                glue.create_database(DatabaseInput=properties["DatabaseInput"])
            resolver.names[logical_id] = database
        elif kind == "AWS::Glue::Table":
            properties = resolver.resolve(raw)
            table_input = properties["TableInput"]
            try:
                glue.create_table(DatabaseName=properties["DatabaseName"], TableInput=table_input)
            except glue.exceptions.AlreadyExistsException:
                glue.update_table(DatabaseName=properties["DatabaseName"], TableInput=table_input)
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--bucket", required=True, help="LakeBucketName")
    args = parser.parse_args()
    database = create_analytics_catalog(
        boto3.client("s3"),
        boto3.client("glue"),
        {"Environment": args.stage, "LakeBucketName": args.bucket},
    )
    print(f"catalog ready: Glue database {database}, bucket s3://{args.bucket}")


if __name__ == "__main__":
    main()
