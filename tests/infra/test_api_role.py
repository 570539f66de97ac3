"""The API's execution role grants the AWS calls the API makes, on what it makes them, and no more.

The calls are recorded, not read from the code: PynamoDB builds its requests at run time (a
`Model.get` is a GetItem, a `TransactWrite` one TransactWriteItems over several tables), so only
the requests themselves say which action meets which table or index. Every client the API builds
passes through `api.deadline.guard` (the DynamoDB, Cognito and Secrets Manager clients alike);
the test wraps it to register a `before-parameter-build` handler, the botocore event that fires
once per API call (not per retry) and sees the operation model (its service's IAM prefix, whether
the request is signed at all) and the parameters (TableName, IndexName, UserPoolId, SecretId).
A scenario then drives every endpoint through the Flask test client on the real local engines
(DynamoDB Local, cognito-local, moto for the cursor secret).

Each signed call becomes the (IAM action, resource ARN) pairs AWS checks for it, and the role's
statements are resolved as the stacks would be deployed for the local stage (tests/infra/api_role.py
says how, with the source for TransactWriteItems). Then both ways: every recorded call is allowed,
and every (action, resource) the role grants on DynamoDB, Cognito or Secrets Manager was used.
Unsigned Cognito calls (SignUp, InitiateAuth, ChangePassword…) are kept apart: botocore's service
model marks them `authtype: none` (sent without a signature), and its text for each, the API
reference's, says Cognito does not evaluate IAM policies for them: no grant allows or refuses them.

Out of scope: the KMS statement (DynamoDB and Secrets Manager decrypt on the role's behalf, no
call of ours), logs, X-Ray and lambda:InvokeFunction (the Lambda runtime and API Gateway use
them), and the ApiGatewayLogsRole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from api import deadline
from api.app import create_app
from api.auth import identity
from api.config import Settings
from infra.local import services
from tests.api.conftest import PASSWORD, Account, unique_email
from tests.harness import promote_to_admin
from tests.infra.api_role import Deployment, Grant, allows, grants_of_call

ROOT = Path(__file__).resolve().parents[2]
# Routes that serve the API's description and never reach AWS.
NO_AWS_ROUTES = {
    "/static/<path:filename>",
    "/openapi.json",
    "/docs",
    "/docs/assets/<path:filename>",
}
NEW_PASSWORD = "Battery-Staple-7"


@dataclass
class Recording:
    needed: set[Grant] = field(default_factory=set)
    unsigned: set[str] = field(default_factory=set)  # operations IAM does not govern
    routes: set[tuple[str, str]] = field(default_factory=set)  # (method, rule) requested
    served: set[tuple[str, str]] = field(default_factory=set)  # (method, rule) the app has


@pytest.fixture(scope="module")
def secret_arn(tmp_path_factory: pytest.TempPathFactory, engines: dict[str, str]) -> Iterator[str]:
    """The cursor secret in moto; the API reads it through AWS_ENDPOINT_URL_SECRETS_MANAGER."""
    server = services.start_moto(services.free_port(), tmp_path_factory.mktemp("moto") / "log")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", server.url)
        client = boto3.client("secretsmanager", region_name=Settings.from_env(engines).region)
        arn: str = client.create_secret(Name="tasklake/dev/cursor", SecretString="k")["ARN"]
        yield arn
    server.stop()


@pytest.fixture(scope="module")
def settings(engines: dict[str, str], secret_arn: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env(engines),
        cursor_secret="",
        cursor_secret_arn=secret_arn,
        require_email_verification=False,
    )


@pytest.fixture(scope="module")
def recording(settings: Settings, secret_arn: str, emailed_code: Callable[[str], str]) -> Recording:
    """The calls of one pass over every endpoint, recorded on the clients the API builds."""
    recorded = Recording()
    clients: list[Any] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.auth_type == "none":
            recorded.unsigned.add(model.name)
            return
        prefix = model.service_model.signing_name
        recorded.needed |= grants_of_call(prefix, model.name, params, settings.region)

    real_guard = deadline.guard

    def recording_guard(client: Any, policy: deadline.RetryPolicy) -> Any:
        client.meta.events.register("before-parameter-build", record, unique_id="api-role")
        clients.append(client)
        return real_guard(client, policy)

    def note_route() -> None:
        if request.url_rule is not None:
            recorded.routes.add((request.method, request.url_rule.rule))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deadline, "guard", recording_guard)
        identity._client.cache_clear()  # a cached client would bypass the guard
        identity._client_secret.cache_clear()  # and a cached secret its DescribeUserPoolClient
        try:
            verifying = create_app(dataclasses.replace(settings, require_email_verification=True))
            app = create_app(settings)
            for each in (verifying, app):
                each.before_request(note_route)
            recorded.served = {
                (method, rule.rule)
                for rule in app.url_map.iter_rules()
                for method in rule.methods or ()
                if method not in ("HEAD", "OPTIONS")
            }
            run_scenario(app, verifying, emailed_code)
        finally:
            for client in clients:
                client.meta.events.unregister("before-parameter-build", unique_id="api-role")
            identity._client.cache_clear()
            identity._client_secret.cache_clear()
    return recorded


def _sign_in(client: FlaskClient, email: str) -> dict[str, Any]:
    response = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    tokens: dict[str, Any] = response.get_json()
    return tokens


def _account(client: FlaskClient, *, admin: bool = False) -> Account:
    email = unique_email()
    created = client.post("/users", json={"email": email, "password": PASSWORD, "name": "R"})
    assert created.status_code == 201, created.json
    if admin:
        promote_to_admin(email)  # the operator's call, not the API's: not recorded
    return Account(created.get_json()["id"], email, _sign_in(client, email), client)


def _status(response: Any, expected: int) -> None:
    assert response.status_code == expected, (response.request.path, response.json)


def run_scenario(app: Flask, verifying: Flask, emailed_code: Callable[[str], str]) -> None:
    # Verified sign-up: SignUp, ResendConfirmationCode, ConfirmSignUp (all unsigned).
    unconfirmed = verifying.test_client()
    email = unique_email()
    body = {"email": email, "password": PASSWORD, "name": "V"}
    _status(unconfirmed.post("/users", json=body), 201)
    _status(unconfirmed.post("/users/confirm/resend", json={"email": email}), 202)
    confirm = {"email": email, "code": emailed_code(email)}
    _status(unconfirmed.post("/users/confirm", json=confirm), 204)

    client = app.test_client()
    _status(client.get("/health"), 200)
    alice, bob, admin = _account(client), _account(client), _account(client, admin=True)
    wrong = {"email": alice.email, "password": "Wrong-Password-1"}
    _status(client.post("/auth/token", json=wrong), 401)  # the sign-in failure counter

    # Tasks: plain and idempotent creates, a replay, reads, every index, writes.
    task = alice.create_task(title="t", due_date="2026-01-05", tags=["home"])
    keyed = {"json": {"title": "once"}, "headers": {"Idempotency-Key": "k-1"}}
    _status(alice.request("POST", "/tasks", **keyed), 201)
    _status(alice.request("POST", "/tasks", **keyed), 201)  # replayed from the record
    path = f"/tasks/{task['id']}"
    _status(alice.request("GET", path), 200)
    for query in ({"limit": 1}, {"status": "todo"}, {"due_after": "2026-01-01"}, {"tag": "home"}):
        _status(alice.request("GET", "/tasks", query_string=query), 200)
    patch = {"json": {"status": "done"}}
    _status(alice.request("PATCH", path, headers={"If-Match": '"v9"'}, **patch), 412)
    _status(alice.request("PATCH", path, headers={"If-Match": '"v1"'}, **patch), 200)
    _status(alice.request("DELETE", path, headers={"If-Match": '"v2"'}), 204)

    # Sessions: refresh, logout with the refresh token, logout everywhere.
    refresh = {"refresh_token": alice.tokens["refresh_token"]}
    _status(client.post("/auth/refresh", json=refresh), 200)
    _status(alice.request("POST", "/auth/logout", json=refresh), 204)
    alice.tokens = _sign_in(client, alice.email)
    _status(alice.request("POST", "/auth/logout", query_string={"all": "true"}), 204)

    # Passwords: change (signed in), forgot and reset with the emailed code.
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    _status(bob.request("POST", "/auth/password/change", json=change), 204)
    _status(client.post("/auth/password/forgot", json={"email": bob.email}), 202)
    reset = {"email": bob.email, "code": emailed_code(bob.email), "new_password": PASSWORD}
    _status(client.post("/auth/password/reset", json=reset), 204)

    # Users: the directory, a profile, a rename, disable and enable, deletion with tasks.
    _status(admin.request("GET", "/users", query_string={"limit": 1}), 200)
    _status(admin.request("GET", "/users/me"), 200)
    _status(admin.request("PATCH", "/users/me", json={"name": "Renamed"}), 200)
    for enabled in (False, True):
        _status(admin.request("PATCH", f"/users/{bob.id}", json={"enabled": enabled}), 200)
    bob.tokens = _sign_in(client, bob.email)
    bob.create_task(title="goes with the account")
    _status(bob.request("DELETE", f"/users/{bob.id}"), 204)


def test_the_scenario_requests_every_route_that_reaches_aws(recording: Recording) -> None:
    reaching_aws = {
        (method, rule) for method, rule in recording.served if rule not in NO_AWS_ROUTES
    }

    assert reaching_aws - recording.routes == set()


def test_every_call_the_api_makes_is_allowed_by_the_role(
    recording: Recording, settings: Settings, secret_arn: str
) -> None:
    role = Deployment(settings.stage, settings.region, settings.cognito_user_pool_id, secret_arn)
    grants = role.role_grants()

    denied = {call for call in recording.needed if not any(allows(g, call) for g in grants)}

    assert denied == set()


def test_every_grant_of_the_role_is_used_by_some_call(
    recording: Recording, settings: Settings, secret_arn: str
) -> None:
    role = Deployment(settings.stage, settings.region, settings.cognito_user_pool_id, secret_arn)

    unused = {g for g in role.role_grants() if not any(allows(g, c) for c in recording.needed)}

    assert unused == set()


def test_the_unsigned_cognito_calls_are_the_ones_the_template_names(
    recording: Recording,
) -> None:
    """Sent unsigned, so no grant can allow or refuse them; the template's comment lists them."""
    text = (ROOT / "infra" / "api.yaml").read_text()
    comment = text[text.index("# api/auth/identity.py") : text.index("- PolicyName: cognito")]

    assert recording.unsigned == {
        "SignUp",
        "ConfirmSignUp",
        "ResendConfirmationCode",
        "InitiateAuth",
        "GetTokensFromRefreshToken",
        "RevokeToken",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "ChangePassword",
    }
    assert {name for name in recording.unsigned if name not in comment} == set()
