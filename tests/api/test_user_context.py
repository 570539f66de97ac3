"""Every Cognito call made before sign-in names the caller's address (UserContextData).

Cognito's threat protection scores a sign-in by the address in UserContextData when the app
client sets EnablePropagateAdditionalUserContextData; otherwise it sees only Lambda's address
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UserContextDataType.html,
https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-settings-adaptive-authentication.html).
cognito-local accepts the field and ignores it, so no engine can tell us it arrived: the
requests are recorded as they leave botocore (its `before-send` event, the bytes on the wire).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.auth.identity import USER_CONTEXT_OPERATIONS
from api.auth.identity import _client as cognito_client
from api.config import Settings
from tests.api.conftest import PASSWORD, unique_email

CALLER = "203.0.113.5"
LAMBDA = "169.254.76.1"  # what the function's own socket would show
Sent = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def sent(app: Flask) -> Iterator[Sent]:
    """(operation, body) of every request the API's Cognito client sends."""
    requests: Sent = []

    def record(request: Any, **_: Any) -> None:
        operation = request.headers["X-Amz-Target"].decode().rsplit(".", 1)[-1]
        requests.append((operation, json.loads(request.body)))

    client = cognito_client(Settings.from_env().region)
    client.meta.events.register("before-send", record, unique_id="test-user-context")
    try:
        yield requests
    finally:
        client.meta.events.unregister("before-send", unique_id="test-user-context")


def _every_flow_before_sign_in(client: FlaskClient, **environ: Any) -> None:
    email = unique_email()
    kw: dict[str, Any] = {"environ_base": environ}
    steps = [
        ("/users", {"email": email, "password": PASSWORD, "name": "Ctx"}),
        ("/users/confirm", {"email": email, "code": "123456"}),
        ("/users/confirm/resend", {"email": email}),
        ("/auth/token", {"email": email, "password": PASSWORD}),
        ("/auth/password/forgot", {"email": email}),
        ("/auth/password/reset", {"email": email, "code": "123456", "new_password": PASSWORD}),
    ]
    for path, body in steps:
        response = client.post(path, json=body, **kw)
        assert response.status_code < 500, (path, response.json)


def test_each_call_before_sign_in_names_the_callers_address(
    client: FlaskClient, sent: Sent
) -> None:
    _every_flow_before_sign_in(client, REMOTE_ADDR=CALLER)

    carrying = {op for op, body in sent if body.get("UserContextData") == {"IpAddress": CALLER}}
    assert carrying == set(USER_CONTEXT_OPERATIONS)
    others = {op for op, body in sent if op not in USER_CONTEXT_OPERATIONS}
    assert others  # admin calls were made too (AdminConfirmSignUp, AdminGetUser)
    assert not [op for op, body in sent if op in others and "UserContextData" in body]


def test_under_api_gateway_the_address_is_api_gateways_view_of_the_caller(
    client: FlaskClient, sent: Sent
) -> None:
    event = {"requestContext": {"identity": {"sourceIp": "2001:db8::7"}}}

    _every_flow_before_sign_in(client, REMOTE_ADDR=LAMBDA, **{"lambda.event": event})

    contexts = [body.get("UserContextData") for op, body in sent if op in USER_CONTEXT_OPERATIONS]
    assert len(contexts) == len(USER_CONTEXT_OPERATIONS)
    assert all(context == {"IpAddress": "2001:db8::7"} for context in contexts), contexts


def test_every_call_the_api_makes_that_takes_user_context_gets_it() -> None:
    source = (Path(__file__).parents[2] / "api" / "auth" / "identity.py").read_text()
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    methods = set(re.findall(r"\.([a-z_]+)\b", source))
    mapping = cognito.meta.method_to_api_mapping
    operations = {mapping[method] for method in methods if method in mapping}
    model = cognito.meta.service_model

    taking = {
        op
        for op in operations
        if "UserContextData" in model.operation_model(op).input_shape.members
    }
    assert taking == set(USER_CONTEXT_OPERATIONS)
