"""The API answers before API Gateway gives up: one deadline below the Lambda timeout.

The arithmetic is computed from the values the clients are actually configured with,
so changing a timeout or a retry count without re-checking the budget fails here.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.httpsession import URLLib3Session
from flask import Flask

from api import deadline
from api.app import create_app
from api.auth.identity import IdentityProvider
from api.auth.identity import _client as cognito_client
from api.config import Settings
from api.cursor_secret import secrets_manager
from api.storage import connection
from api.tasks.models import Task
from tests.api.conftest import PASSWORD, unique_email

ZAPPA_SETTINGS = Path(__file__).parents[2] / "zappa_settings.json"
# What the Lambda needs after the deadline to log, serialise and return the problem.
ANSWER_MARGIN_SECONDS = 1


def _configured(client: Any) -> deadline.RetryPolicy:
    config = client.meta.config
    return deadline.RetryPolicy(
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        attempts=config.retries["total_max_attempts"],
    )


@pytest.fixture
def clients(app: Flask) -> dict[str, Any]:
    region = Settings.from_env().region
    return {
        "dynamodb": connection(Task).client,
        "cognito": cognito_client(region),
        "secrets manager": secrets_manager(region),
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_deadline_leaves_room_before_the_lambda_timeout(stage: str) -> None:
    stages = json.loads(ZAPPA_SETTINGS.read_text())
    timeout = {**stages["dev"], **stages[stage]}["timeout_seconds"]

    assert Settings().request_deadline_seconds + ANSWER_MARGIN_SECONDS <= timeout


def test_each_clients_worst_case_fits_the_deadline(clients: dict[str, Any]) -> None:
    budget = Settings().request_deadline_seconds
    worst = {name: _configured(client).worst_case_seconds for name, client in clients.items()}
    worst["jwks"] = deadline.JWKS_TIMEOUT_SECONDS * deadline.JWKS_FETCHES

    assert all(seconds < budget for seconds in worst.values()), worst
    # The numbers, for the record: attempts * (connect + read) + the longest backoffs.
    assert worst == {"dynamodb": 7, "cognito": 9, "secrets manager": 9, "jwks": 6}


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("dynamodb", lambda client: client.describe_limits()),
        ("cognito", lambda client: client.list_user_pools(MaxResults=1)),
        ("secrets manager", lambda client: client.list_secrets()),
    ],
)
def test_every_client_checks_the_deadline_before_each_attempt(
    app: Flask, clients: dict[str, Any], name: str, call: Any
) -> None:
    with app.test_request_context():
        deadline.start(0)
        with pytest.raises(deadline.DeadlineExceeded):
            call(clients[name])


def test_loading_the_app_builds_no_aws_client(
    engines: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A botocore client costs ~50 ms to build: a cold start that serves /openapi.json or a
    401 must not pay for one. The DynamoDB client is built, and guarded, on the first call."""
    built: list[str] = []
    create_client = botocore.session.Session.create_client

    def counting(self: botocore.session.Session, service_name: str, *args: Any, **kw: Any) -> Any:
        built.append(service_name)
        return create_client(self, service_name, *args, **kw)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    app = create_app(Settings.from_env(engines))
    assert built == []

    client = connection(Task).client
    assert built == ["dynamodb"]
    with app.test_request_context():
        deadline.start(0)
        with pytest.raises(deadline.DeadlineExceeded):
            client.describe_limits()


def test_the_first_calls_of_two_threads_build_one_client(
    engines: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list or PATCH sends its first two calls from two threads (`storage.alongside`); on a
    cold start both found no client yet and each built a session and client of its own."""
    built: list[str] = []
    create_client = botocore.session.Session.create_client

    def slow_counting(
        self: botocore.session.Session, service_name: str, *args: Any, **kw: Any
    ) -> Any:
        built.append(service_name)
        time.sleep(0.05)  # widen the window the second thread would build in
        return create_client(self, service_name, *args, **kw)

    monkeypatch.setattr(botocore.session.Session, "create_client", slow_counting)
    create_app(Settings.from_env(engines))
    start = threading.Barrier(2)

    def first_call() -> Any:
        start.wait()
        return connection(Task).client

    with ThreadPoolExecutor(max_workers=2) as pool:
        clients = [future.result() for future in [pool.submit(first_call) for _ in range(2)]]

    assert built == ["dynamodb"]
    assert clients[0] is clients[1]


def test_a_client_pynamodb_rebuilds_is_guarded_too(app: Flask) -> None:
    # PynamoDB replaces its client when the old one lost its credentials (pynamodb
    # Connection.client); `_client` is where it keeps it, so this breaks if that changes.
    shared = connection(Task)
    first = shared.client
    shared._client = None

    rebuilt = shared.client

    assert rebuilt is not first
    with app.test_request_context():
        deadline.start(0)
        with pytest.raises(deadline.DeadlineExceeded):
            rebuilt.describe_limits()


def test_a_request_whose_time_cannot_hold_another_attempt_answers_503_at_once(
    engines: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "At once" means without sending anything: every botocore client sends through
    # URLLib3Session.send, so counting its calls shows no attempt left the process.
    # (Counted rather than timed: a wall-clock bound flaked on a loaded CI machine.)
    sent: list[str] = []
    real_send = URLLib3Session.send

    def counting_send(self: URLLib3Session, request: Any) -> Any:
        sent.append(request.url)
        return real_send(self, request)

    short = create_app(replace(Settings.from_env(engines), request_deadline_seconds=0.5))
    monkeypatch.setattr(URLLib3Session, "send", counting_send)

    response = short.test_client().post(
        "/users", json={"email": unique_email(), "password": PASSWORD, "name": "Late"}
    )
    login = short.test_client().post(
        "/auth/token", json={"email": "x@example.com", "password": "p"}
    )

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"]
    assert login.status_code == 503
    assert sent == []  # neither DynamoDB nor Cognito was called


@pytest.mark.parametrize(
    "call",
    [
        lambda idp: idp.set_enabled("00000000-0000-0000-0000-000000000000", enabled=False),
        lambda idp: idp.set_enabled("00000000-0000-0000-0000-000000000000", enabled=True),
        lambda idp: idp.sign_out_everywhere("00000000-0000-0000-0000-000000000000"),
        lambda idp: idp.change_password("token", PASSWORD, "Battery-Staple-7"),
        lambda idp: idp.confirm("x@example.com", "123456"),
        lambda idp: idp.resend_code("x@example.com"),
        lambda idp: idp.forgot_password("x@example.com"),
        lambda idp: idp.reset_password("x@example.com", "123456", "Battery-Staple-7"),
    ],
    ids=["disable", "enable", "global-sign-out", "change", "confirm", "resend", "forgot", "reset"],
)
def test_the_account_calls_send_nothing_the_deadline_cannot_hold(app: Flask, call: Any) -> None:
    identity = IdentityProvider(Settings.from_env())
    with app.test_request_context():
        deadline.start(deadline.COGNITO.attempt_seconds - 0.5)
        with pytest.raises(deadline.DeadlineExceeded):
            call(identity)
