"""What the moto deploy tests share: the AWS environment, the CLI, and stand-in stacks.

moto 5.2.5's CloudFormation creates keys.yaml, data.yaml and analytics.yaml as written (with
tests/infra/moto_server.py's fixes). It cannot take the other five; for each, the test deploys
a stand-in stack under the real stack's name, with the real template's Parameters and the
same exports, whose values come from resources made through the services' own APIs (or moto's
CloudFormation where it models them). Why each cannot be deployed is in MOTO_CANNOT.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.cfn import Tag, load_template

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
