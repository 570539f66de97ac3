"""API Gateway invokes the function with its own role, never the function's execution role.

Zappa takes one `role_arn` for both (zappa/core.py puts it in every integration's
`Credentials`); infra/deploy/zappa_callbacks.py swaps in infra/api.yaml's ApiGatewayInvokeRole
for the API's stack only. moto's CloudFormation drops an integration's Credentials, so the
stack is read as the pinned Zappa builds it (`zappa template`), which needs no AWS.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from infra.cfn import INFRA, load_template
from infra.deploy.stacks import ROOT
from infra.deploy.zappa_callbacks import INVOKE_ROLE_SUFFIX

ZAPPA = ROOT / ".venv-package" / "bin" / "zappa"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:tasklake-dev"
FUNCTION_ROLE = "arn:aws:iam::123456789012:role/tasklake-dev-api"


def _zappa_api_stack(tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "api-stack.json"
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "unused",
        "AWS_SECRET_ACCESS_KEY": "unused",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    command = ["template", "dev", "-s", "zappa_settings.json", "-l", FUNCTION, "-r", FUNCTION_ROLE]
    completed = subprocess.run(
        [str(ZAPPA), *command, "--json", "-o", str(out)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    stack: dict[str, Any] = json.loads(out.read_text())
    return stack


def test_every_integration_uses_the_invoke_only_role(tmp_path: Path) -> None:
    resources = _zappa_api_stack(tmp_path)["Resources"].values()
    credentials = {
        r["Properties"]["Integration"]["Credentials"]
        for r in resources
        if r["Type"] == "AWS::ApiGateway::Method"
    }

    assert credentials == {FUNCTION_ROLE + INVOKE_ROLE_SUFFIX}


def test_the_callbacks_role_name_is_the_templates() -> None:
    roles = load_template(INFRA / "api.yaml")["Resources"]
    function_role = roles["ApiRole"]["Properties"]["RoleName"].value
    invoke_role = roles["ApiGatewayInvokeRole"]["Properties"]["RoleName"].value

    assert invoke_role == function_role + INVOKE_ROLE_SUFFIX
