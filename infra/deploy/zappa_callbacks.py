"""Zappa's "settings" callback (zappa_settings.json `callbacks`): API Gateway gets its own role.

Zappa takes one role ARN (`role_arn`) for two jobs: the function's execution role, and the
`Credentials` of the API Gateway integration it writes into the API's CloudFormation stack
(zappa/core.py `create_and_setup_methods`). So API Gateway could assume the execution role,
with its DynamoDB writes and Cognito admin calls. This callback leaves the function on
`role_arn` and gives the integration infra/api.yaml's ApiGatewayInvokeRole, which may only
invoke the function.

Zappa loads this file by path, outside the project's packages: standard library only.
"""

from __future__ import annotations

from typing import Any

# infra/api.yaml names the roles tasklake-<stage>-api and tasklake-<stage>-api-invoke.
INVOKE_ROLE_SUFFIX = "-invoke"


def invoke_role_arn(function_role_arn: str) -> str:
    return function_role_arn + INVOKE_ROLE_SUFFIX


def api_gateway_uses_its_own_role(cli: Any) -> None:
    """Build the API Gateway stack with the invoke-only role as the integration's credentials."""
    zappa = cli.zappa
    build_stack_template = zappa.create_stack_template

    def create_stack_template(*args: Any, **kwargs: Any) -> Any:
        function_role = zappa.credentials_arn
        zappa.credentials_arn = invoke_role_arn(function_role)
        try:
            return build_stack_template(*args, **kwargs)
        finally:
            zappa.credentials_arn = function_role

    zappa.create_stack_template = create_stack_template
