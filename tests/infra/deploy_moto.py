"""What the moto deploy tests share: the AWS environment, the CLI, and stand-in stacks.

moto 5.2.5's CloudFormation creates keys.yaml, data.yaml and analytics.yaml as written (with
tests/infra/moto_server.py's fixes). It cannot take the other five; for each, the test deploys
a stand-in stack under the real stack's name, with the real template's Parameters and the
same exports, whose values come from resources made through the services' own APIs (or moto's
CloudFormation where it models them). Why each cannot be deployed is in MOTO_CANNOT.
`deploy_engines` and `stage_templates` set up what tests/infra/test_deploy_moto.py and
tests/infra/test_second_region.py both deploy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.cfn import Tag, load_template
from infra.deploy.plan import package_file
from infra.local import services

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's
REGION = "us-east-1"
CONTRACT_PARAMETERS = {
    "Project": {"Type": "String", "Default": "tasklake"},
    "Owner": {"Type": "String", "Default": "tasklake-team"},
    "Environment": {"Type": "String", "Default": "dev"},
    "CostCenter": {"Type": "String", "Default": "tasklake"},
}
MOTO_CAN = ("keys", "data", "analytics")
MOTO_CANNOT = {
    "identity": "Fn::GetAtt UserPool.Arn: moto's CloudFormation has no AWS::Cognito::* types",
    "network": "Fn::Select over Fn::GetAZs fails in moto's template parser (KeyError 0)",
    "orchestration": "no AWS::MWAA::Environment in moto at all; its SSM parameters' "
    "map-form Tags also crash moto's SSM",
    "api": "AWS::WAFv2::WebACL and AWS::SecretsManager::Secret are not modelled by moto's "
    "CloudFormation (their Ref/GetAtt outputs come back empty)",
    "monitoring": "AWS::CloudWatch::Alarm is not modelled; Fn::GetAtt on an alarm fails",
}
PASSWORD = "Correct-Horse-9"
MONITORING_RESOURCES = {
    "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "tasklake-dev-alarms"}},
    "Dashboard": {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": "tasklake-dev", "DashboardBody": '{"widgets": []}'},
    },
}


def offline_environment(endpoint: str) -> dict[str, str]:
    """The process environment with no AWS credentials, region or config, and only `endpoint`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return environment


def aws_environment(endpoint: str, region: str = REGION) -> dict[str, str]:
    """The process environment with only moto's endpoint and dummy credentials for AWS."""
    return {
        **offline_environment(endpoint),
        "AWS_ACCESS_KEY_ID": "moto",
        "AWS_SECRET_ACCESS_KEY": "moto",
        "AWS_REGION": region,
    }


def deploy_cli(
    environment: dict[str, str], *argv: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "infra.deploy", *argv]
    return subprocess.run(
        command, cwd=ROOT, env=environment, input=stdin, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def _sub(value: Any) -> Any:
    """A Tag from infra.cfn back into CloudFormation's JSON form."""
    if isinstance(value, Tag):
        key = "Ref" if value.name == "Ref" else f"Fn::{value.name}"
        return {key: _sub(value.value)}
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    return value


def stand_in(
    part: str,
    values: dict[str, Any],
    resources: dict[str, Any] | None = None,
    *,
    templates: Path = ROOT / "infra",
) -> str:
    """A template with `part`'s Parameters and exports, the values given, keyed by export.

    Without the real template yet, the contract's four parameters and the given exports.
    """
    path = templates / f"{part}.yaml"
    real: dict[str, Any] = load_template(path) if path.exists() else {}
    real.setdefault("Parameters", CONTRACT_PARAMETERS)
    exported = {
        key: _sub(output["Export"]["Name"])["Fn::Sub"]
        for key, output in (real.get("Outputs") or {}).items()
        if "Export" in output
    } or {short: "${Project}-${Environment}-" + short for short in values}
    outputs = {}
    for key, name in exported.items():
        short = name.removeprefix("${Project}-${Environment}-")
        outputs[key.replace("-", "")] = {
            "Value": values[short],
            "Export": {"Name": {"Fn::Sub": name}},
        }
    placeholder = {
        "StandIn": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Type": "String",
                "Value": MOTO_CANNOT[part],
                "Name": f"/stand-in/{part}",
            },
        }
    }
    template = {
        "Description": f"moto stand-in for infra/{part}.yaml: {MOTO_CANNOT[part]}",
        "Parameters": _sub(real.get("Parameters") or {}),
        "Resources": resources or placeholder,
        "Outputs": outputs,
    }
    return json.dumps(template, indent=2)


def client(service: str, endpoint: str, region: str = REGION) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region,
        aws_access_key_id="moto", aws_secret_access_key="moto",
    )  # fmt: skip


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(r["Properties"] for r in template["Resources"].values() if r["Type"] == kind)


def user_pool_from_identity_template(cognito_url: str, region: str = REGION) -> dict[str, str]:
    """The pool identity.yaml describes, made in cognito-local (which has no regions)."""
    template = load_template(ROOT / "infra" / "identity.yaml")
    pool, app_client = (
        of_type(template, "AWS::Cognito::UserPool"),
        of_type(template, "AWS::Cognito::UserPoolClient"),
    )
    cognito = client("cognito-idp", cognito_url)
    pool_id = cognito.create_user_pool(
        PoolName="tasklake-dev",
        Policies=pool["Policies"],
        UsernameAttributes=pool["UsernameAttributes"],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="tasklake-dev-api",
        GenerateSecret=app_client["GenerateSecret"],
        ExplicitAuthFlows=app_client["ExplicitAuthFlows"],
        ReadAttributes=app_client["ReadAttributes"],
        WriteAttributes=app_client["WriteAttributes"],
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    group = of_type(template, "AWS::Cognito::UserPoolGroup")["GroupName"]
    cognito.create_group(UserPoolId=pool_id, GroupName=group)
    arn = f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{pool_id}"
    return {"user-pool-id": pool_id, "user-pool-client-id": client_id, "user-pool-arn": arn}


def api_values(moto_url: str, region: str = REGION) -> tuple[dict[str, Any], dict[str, Any]]:
    """Exports and resources of the api stand-in: secret and web ACL made through their APIs."""
    secret = client("secretsmanager", moto_url, region).create_secret(
        Name="tasklake/dev/cursor-secret", SecretString="moto-cursor-signing-key"
    )["ARN"]
    acl = client("wafv2", moto_url, region).create_web_acl(
        Name="tasklake-dev", Scope="REGIONAL", DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                          "MetricName": "tasklake-dev"},
    )["Summary"]["ARN"]  # fmt: skip
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"Service": "lambda.amazonaws.com"}}],
    }  # fmt: skip
    resources = {
        "ApiRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"RoleName": "tasklake-dev-api", "AssumeRolePolicyDocument": trust},
        },
        "ApiGatewayInvokeRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "tasklake-dev-api-invoke",
                "AssumeRolePolicyDocument": trust,
            },
        },
        "ApiGatewayLogsRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": trust},
        },
        "ArtifactsBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": f"tasklake-dev-artifacts-{ACCOUNT}",
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        },
    }
    values = {
        "api-role-arn": {"Fn::GetAtt": ["ApiRole", "Arn"]},
        "cursor-secret-arn": secret,
        "web-acl-arn": acl,
        "artifacts-bucket": {"Ref": "ArtifactsBucket"},
        "api-gateway-logs-role-arn": {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]},
        "api-gateway-invoke-role-arn": {"Fn::GetAtt": ["ApiGatewayInvokeRole", "Arn"]},
    }
    return values, resources


@contextmanager
def deploy_engines(workdir: Path) -> Iterator[tuple[str, str]]:
    """moto (with tests/infra/moto_server.py's fixes) and cognito-local on free ports, for a
    deploy of dev with the zip `make package` built; yields their URLs, stops both after."""
    if not (ROOT / package_file("dev")).exists():
        pytest.fail(f"{package_file('dev')} does not exist: build it with `make package`")
    moto = services.start_moto(
        services.free_port(), workdir / "moto.log", server_module="tests.infra.moto_server"
    )
    cognito = services.start_cognito(services.free_port(), workdir / "cognito")
    try:
        yield moto.url, cognito.url
    finally:
        cognito.stop()
        moto.stop()


def stage_templates(
    templates: Path,
    moto_url: str,
    identity: dict[str, str],
    *,
    network: dict[str, str],
    orchestration: dict[str, str],
    region: str = REGION,
) -> Path:
    """The folder a moto deploy of dev reads: keys, data and analytics as written, and a
    stand-in for each other stack (the given exports; the api's made in moto's `region`)."""
    templates.mkdir()
    for part in MOTO_CAN:
        (templates / f"{part}.yaml").write_text((ROOT / "infra" / f"{part}.yaml").read_text())
    stand_ins: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
        "identity": (identity, None),
        "network": (network, None),
        "orchestration": (orchestration, None),
        "api": api_values(moto_url, region),
        "monitoring": (
            {"alarm-topic-arn": {"Ref": "AlarmTopic"}, "dashboard-name": {"Ref": "Dashboard"}},
            MONITORING_RESOURCES,
        ),
    }
    for part, (values, resources) in stand_ins.items():
        (templates / f"{part}.yaml").write_text(stand_in(part, values, resources))
    return templates
