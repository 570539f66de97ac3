"""The local stack behind `make run`: real engines, persistent state under `.local/`.

    python -m infra.local.stack run [--port 5000]   # start everything, serve the API
    python -m infra.local.stack admin EMAIL PASSWORD  # create or promote an admin
    python -m infra.local.stack code EMAIL            # the last code cognito-local "emailed"

This module is the one place that knows the local defaults (ports, state
folders, endpoint variables). The API itself only ever reads its environment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from marshmallow import ValidationError

from api.app import create_app, tables
from api.auth.identity import IdentityProvider
from api.auth.password_policy import password_policy
from api.config import Settings
from api.problems import ApiProblem, Conflict
from api.storage import bind_tables, create_missing_tables
from api.users.schemas import SignUpSchema
from api.users.service import register
from infra.local import services

ROOT = Path(__file__).resolve().parents[2]
# One ignored folder for all local state; `make clean-local` removes it.
STATE = Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local")).resolve()
STACK_FILE = STATE / "stack.json"
POOL_NAME = "tasklake-local"
CLIENT_NAME = "tasklake-api"
ADMIN_GROUP = "admin"
# What a token holder may read and write through the app client (infra/identity.yaml says why).
CLIENT_READ_ATTRIBUTES = ("email", "email_verified", "name")
CLIENT_WRITE_ATTRIBUTES = ("email", "name")


@dataclass(frozen=True)
class Ports:
    """Where the engines listen; override with LOCAL_<NAME>_PORT if a port is taken."""

    dynamodb: int = 8000
    cognito: int = 9229
    moto: int = 4566

    @classmethod
    def from_env(cls) -> Ports:
        defaults = cls()
        return cls(
            dynamodb=int(os.environ.get("LOCAL_DYNAMODB_PORT", defaults.dynamodb)),
            cognito=int(os.environ.get("LOCAL_COGNITO_PORT", defaults.cognito)),
            moto=int(os.environ.get("LOCAL_MOTO_PORT", defaults.moto)),
        )


class StackError(RuntimeError):
    """The local stack cannot do what was asked; the message says why."""


def _cognito_client(endpoint: str) -> Any:
    credentials = services.DUMMY_AWS_ENV
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=credentials["AWS_DEFAULT_REGION"],
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )


def ensure_user_pool(cognito_endpoint: str) -> tuple[str, str]:
    """The pool and app client, created once and found again on every later start."""
    client = _cognito_client(cognito_endpoint)
    pools = client.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == POOL_NAME), None)
    if pool_id is None:
        pool_id = client.create_user_pool(
            PoolName=POOL_NAME,
            Policies={"PasswordPolicy": password_policy()},
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
    client_id = _api_client_with_secret(client, pool_id)
    with contextlib.suppress(client.exceptions.GroupExistsException):
        client.create_group(UserPoolId=pool_id, GroupName=ADMIN_GROUP)
    return pool_id, client_id


def _api_client_with_secret(client: Any, pool_id: str) -> str:
    """The API's app client, as infra/identity.yaml makes it: with a secret, and only the
    attributes the API writes. A client from before secrets (an old `.local/`) is replaced."""
    clients = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    for found in (c for c in clients if c["ClientName"] == CLIENT_NAME):
        described = client.describe_user_pool_client(UserPoolId=pool_id, ClientId=found["ClientId"])
        if described["UserPoolClient"].get("ClientSecret"):
            return str(found["ClientId"])
        client.delete_user_pool_client(UserPoolId=pool_id, ClientId=found["ClientId"])
    created = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=CLIENT_NAME,
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=list(CLIENT_READ_ATTRIBUTES),
        WriteAttributes=list(CLIENT_WRITE_ATTRIBUTES),
    )
    return str(created["UserPoolClient"]["ClientId"])


def api_environment(
    dynamodb_url: str, cognito_url: str, pool_id: str, client_id: str, cursor_secret: str
) -> dict[str, str]:
    """The environment the API needs to run against local engines.

    Email verification is off unless REQUIRE_EMAIL_VERIFICATION=true is exported: sign-up
    then leaves accounts unconfirmed, and `code EMAIL` prints the code to confirm with.
    """
    return {
        **services.DUMMY_AWS_ENV,
        # Local runs use the dev stage's names (the local DAGs read tasklake-dev-tasks too).
        "STAGE": "dev",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": cognito_url,
        "COGNITO_USER_POOL_ID": pool_id,
        "COGNITO_CLIENT_ID": client_id,
        "COGNITO_ISSUER": f"{cognito_url}/{pool_id}",
        "CURSOR_SECRET": cursor_secret,
        "REQUIRE_EMAIL_VERIFICATION": os.environ.get("REQUIRE_EMAIL_VERIFICATION", "false"),
    }


def provision(environment: dict[str, str]) -> list[str]:
    """Create the API's tables if missing, with the same settings the app will use."""
    os.environ.update(environment)
    settings = Settings.from_env()
    bound = tables(settings)
    bind_tables(bound, settings.region)
    return create_missing_tables(model for model, _ in bound)


def _cursor_secret() -> str:
    path = STATE / "cursor-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


@contextmanager
def running_stack(ports: Ports) -> Iterator[dict[str, str]]:
    """Start the engines on persistent state; yield the API's environment; stop them."""
    logs = STATE / "logs"
    with ExitStack() as stack:
        dynamodb = services.start_dynamodb(
            ports.dynamodb, STATE / "dynamodb", log_path=logs / "dynamodb.log"
        )
        stack.callback(dynamodb.stop)
        cognito = services.start_cognito(
            ports.cognito, STATE / "cognito", log_path=logs / "cognito.log"
        )
        stack.callback(cognito.stop)
        moto = services.start_moto(ports.moto, log_path=logs / "moto.log")
        stack.callback(moto.stop)
        pool_id, client_id = ensure_user_pool(cognito.url)
        environment = api_environment(
            dynamodb.url, cognito.url, pool_id, client_id, _cursor_secret()
        )
        environment.update(
            {
                "AWS_ENDPOINT_URL_S3": moto.url,
                "AWS_ENDPOINT_URL_GLUE": moto.url,
                "AWS_ENDPOINT_URL_CLOUDWATCH": moto.url,
            }
        )
        created = provision(environment)
        if created:
            print(f"created tables: {', '.join(created)}", flush=True)
        STACK_FILE.write_text(json.dumps(environment, indent=2))
        stack.callback(STACK_FILE.unlink, missing_ok=True)
        yield environment


def run(port: int, ports: Ports) -> int:
    stop = {"requested": False}

    def _request_stop(_signum: int, _frame: object) -> None:
        stop["requested"] = True

    # SIGTERM to the process group (or Ctrl-C) ends the server, then the engines.
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    with running_stack(ports) as environment:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "api.wsgi", "run", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **environment},
            preexec_fn=services.die_with_parent,  # noqa: PLW1509 (no threads yet)
        )
        print(
            f"tasklake API on http://127.0.0.1:{port}  (Swagger UI: /docs, spec: /openapi.json)",
            flush=True,
        )
        while not stop["requested"] and server.poll() is None:
            time.sleep(0.2)
        if server.poll() is None:
            server.terminate()
            server.wait(10)
    return 0 if stop["requested"] else (server.returncode or 1)


def confirmation_code(cognito_state: Path, pool_id: str, email: str) -> str:
    """The last sign-up or password-reset code cognito-local sent to `email`.

    cognito-local keeps it in its pool file (and prints it in a "Confirmation Code
    Delivery" box in its log) until it is used.
    """
    pool = json.loads((cognito_state / ".cognito" / "db" / f"{pool_id}.json").read_text())
    for user in pool.get("Users", {}).values():
        attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
        if attributes.get("email") == email and user.get("ConfirmationCode"):
            return str(user["ConfirmationCode"])
    raise StackError(f"no pending code for {email}")


def load_running_environment() -> dict[str, str]:
    if not STACK_FILE.exists():
        raise StackError("the local stack is not running: start it with `make run`")
    environment: dict[str, str] = json.loads(STACK_FILE.read_text())
    return environment


def make_admin(email: str, password: str, environment: dict[str, str]) -> str:
    """Create the account if it does not exist, then put it in the admin group.

    A new account goes through the sign-up schema, so it meets the same rules as one
    made through the API; an existing account keeps its password.
    """
    os.environ.update(environment)
    try:
        account = SignUpSchema().load({"email": email, "password": password, "name": "admin"})
    except ValidationError as error:
        raise StackError(f"refused: {error.messages}") from None
    address = account["email"]
    settings = Settings.from_env()
    pool_id = environment["COGNITO_USER_POOL_ID"]
    cognito = _cognito_client(environment["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"])
    with create_app(settings).app_context():
        try:
            register(IdentityProvider(settings), address, password, address.split("@")[0])
            if settings.require_email_verification:
                cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=address)
            outcome = "created and promoted"
        except Conflict:
            outcome = "existing account (password unchanged) promoted"
        except ApiProblem as problem:
            raise StackError(problem.detail) from None
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=address, GroupName=ADMIN_GROUP)
    return f"{address}: {outcome} to {ADMIN_GROUP}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.stack")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the local stack and serve the API")
    run_parser.add_argument("--port", type=int, default=5000)
    admin_parser = commands.add_parser("admin", help="create or promote an administrator")
    admin_parser.add_argument("email")
    admin_parser.add_argument("password")
    code_parser = commands.add_parser("code", help="print the last code sent to an email")
    code_parser.add_argument("email")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run(args.port, Ports.from_env())
        if args.command == "code":
            pool_id = load_running_environment()["COGNITO_USER_POOL_ID"]
            print(confirmation_code(STATE / "cognito", pool_id, args.email.strip().lower()))
            return 0
        print(make_admin(args.email, args.password, load_running_environment()))
        return 0
    except (StackError, services.ServiceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
