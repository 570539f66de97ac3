"""Real engines, a served app and signed-in users, for pytest and plain programs alike.

The session fixture `engines`, the fuzz run (`make fuzz`) and the benchmarks
(`make bench-api`) all start the engines through `local_engines`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import boto3
from flask import Flask
from werkzeug.serving import make_server

from api.config import Settings
from infra.local import services
from infra.local.stack import ADMIN_GROUP, api_environment, ensure_user_pool, provision

PASSWORD = "Correct-Horse-9"
# Where `local_engines` keeps cognito-local's state, under its work folder.
COGNITO_STATE = "cognito"


@contextmanager
def local_engines(workdir: Path, *, cursor_secret: str) -> Iterator[dict[str, str]]:
    """DynamoDB Local (in memory) + cognito-local on free ports, provisioned and exported.

    Yields the API's environment; on exit stops both and restores os.environ.
    """
    saved = dict(os.environ)
    with ExitStack() as stack:
        dynamodb = services.start_dynamodb(
            services.free_port(), None, log_path=workdir / "logs" / "dynamodb.log"
        )
        stack.callback(dynamodb.stop)
        cognito = services.start_cognito(
            services.free_port(), workdir / COGNITO_STATE, log_path=workdir / "logs" / "cognito.log"
        )
        stack.callback(cognito.stop)
        try:
            pool_id, client_id = ensure_user_pool(cognito.url)
            environment = api_environment(
                dynamodb.url, cognito.url, pool_id, client_id, cursor_secret
            )
            # Every test and fuzz request comes from one loopback address; the per-address
            # limit is tested with its own settings (tests/api/test_rate_limits.py).
            environment["RATE_LIMIT_PER_ADDRESS"] = "1000000"
            environment["CODE_EMAILS_PER_REQUESTER"] = "1000000"  # likewise for code mails
            environment["CODE_EMAILS_PER_RECIPIENT"] = "1000000"
            provision(environment)  # also exports the environment to this process
            yield environment
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app on a free loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", services.free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def sign_up(app: Flask, email: str, name: str = "Test User") -> None:
    """Create an account through the API."""
    created = app.test_client().post(
        "/users", json={"email": email, "password": PASSWORD, "name": name}
    )
    if created.status_code != 201:
        raise RuntimeError(f"sign-up failed: {created.status_code} {created.get_data(True)}")


def promote_to_admin(email: str) -> None:
    """Put an account in the pool's admin group (tokens issued afterwards carry it)."""
    settings = Settings.from_env()
    boto3.client("cognito-idp", region_name=settings.region).admin_add_user_to_group(
        UserPoolId=settings.cognito_user_pool_id, Username=email, GroupName=ADMIN_GROUP
    )


def signed_in_token(app: Flask, email: str) -> str:
    """Sign an existing account in through the API and return its access token."""
    client = app.test_client()
    login = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    if login.status_code != 200:
        raise RuntimeError(f"sign-in failed: {login.status_code} {login.get_data(True)}")
    token: str = login.json["access_token"]  # type: ignore[index]
    return token
