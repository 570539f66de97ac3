"""Sign-up and account deletion leave no half-done account behind, whatever step fails.

Each failure is injected at the AWS client boundary (tests/faults.py) because the local
engines cannot fail one chosen call on demand; everything above the client runs for real.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.config import Settings
from api.storage import connection
from api.tasks.models import Task
from api.users.models import User
from tests.api.conftest import PASSWORD, Account, seed_tasks, unique_email
from tests.faults import client_error, injected

COGNITO = "cognito-identity-provider"


@pytest.fixture
def cognito(app: Flask) -> Any:
    return cognito_client(Settings.from_env().region)


@pytest.fixture
def dynamodb(app: Flask) -> Any:
    return connection(Task).client


def _cognito_user_exists(username: str) -> bool:
    settings = Settings.from_env()
    admin = boto3.client("cognito-idp", region_name=settings.region)
    try:
        admin.admin_get_user(UserPoolId=settings.cognito_user_pool_id, Username=username)
    except admin.exceptions.UserNotFoundException:
        return False
    return True


def _sign_up(client: FlaskClient, email: str) -> int:
    body = {"email": email, "password": PASSWORD, "name": "Half"}
    return client.post("/users", json=body).status_code


@pytest.mark.parametrize(
    ("service", "operation"),
    [(COGNITO, "AdminConfirmSignUp"), ("dynamodb", "PutItem")],
    ids=["confirming-fails", "profile-write-fails"],
)
def test_a_sign_up_failing_after_cognito_created_the_user_undoes_it(
    client: FlaskClient, cognito: Any, dynamodb: Any, service: str, operation: str
) -> None:
    email, target = unique_email(), cognito if service == COGNITO else dynamodb
    error = client_error("InternalServerError", operation)

    with injected(target, service, operation, error=error, times=1):
        assert _sign_up(client, email) == 503

    assert not _cognito_user_exists(email)
    assert _sign_up(client, email) == 201  # the email is free again


def test_an_undo_that_fails_too_is_logged_with_what_to_remove(
    client: FlaskClient, cognito: Any, dynamodb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    put_fails = client_error("InternalServerError", "PutItem")
    delete_fails = client_error("InternalErrorException", "AdminDeleteUser")
    with (
        injected(dynamodb, "dynamodb", "PutItem", error=put_fails, times=1),
        injected(cognito, COGNITO, "AdminDeleteUser", error=delete_fails),
    ):
        assert _sign_up(client, unique_email()) == 503

    (undo,) = [r for r in caplog.records if r.getMessage().startswith("undo failed")]
    assert undo.levelno == logging.ERROR
    assert "without a profile" in undo.leftover  # type: ignore[attr-defined]


def _nothing_left(account: Account) -> bool:
    profile = User.get(account.id, consistent_read=True) if User.count(account.id) else None
    tasks = Task.count(account.id, consistent_read=True)
    return profile is None and tasks == 0 and not _cognito_user_exists(account.id)


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "UpdateItem", "InternalServerError"),  # marking the profile
        (COGNITO, "AdminDeleteUser", "InternalErrorException"),
        ("dynamodb", "BatchWriteItem", "InternalServerError"),  # the tasks
        ("dynamodb", "DeleteItem", "InternalServerError"),  # the profile
    ],
)
def test_a_deletion_failing_at_any_step_is_finished_by_the_next_delete(
    admin: Account,
    sign_up: Callable[..., Account],
    *,
    cognito: Any,
    dynamodb: Any,
    service: str,
    operation: str,
    code: str,
) -> None:
    doomed = sign_up()
    doomed.create_task(title="one")
    target = cognito if service == COGNITO else dynamodb

    with injected(target, service, operation, error=client_error(code, operation), times=1):
        assert admin.request("DELETE", f"/users/{doomed.id}").status_code == 503

    assert admin.request("DELETE", f"/users/{doomed.id}").status_code == 204
    assert _nothing_left(doomed)


def test_once_deletion_has_begun_the_profile_is_gone_to_everyone_else(
    admin: Account, sign_up: Callable[..., Account], cognito: Any
) -> None:
    doomed = sign_up()
    error = client_error("InternalErrorException", "AdminDeleteUser")
    with injected(cognito, COGNITO, "AdminDeleteUser", error=error, times=1):
        admin.request("DELETE", f"/users/{doomed.id}")

    assert doomed.request("GET", "/users/me").status_code == 404
    assert doomed.request("PATCH", "/users/me", json={"name": "back"}).status_code == 404


def test_thousands_of_tasks_are_deleted_within_the_deadline(alice: Account) -> None:
    seed_tasks(alice, 3000)
    started = time.monotonic()

    response = alice.request("DELETE", "/users/me")

    assert response.status_code == 204
    assert time.monotonic() - started < Settings().request_deadline_seconds
    assert Task.count(alice.id, consistent_read=True) == 0


def test_a_deletion_that_runs_out_of_time_says_so_and_continues_on_the_next_delete(
    engines: dict[str, str], alice: Account
) -> None:
    seed_tasks(alice, 3000)
    # 6 s of the deadline are held for the last batch and the profile: half a second to delete.
    hurried = create_app(replace(Settings.from_env(engines), request_deadline_seconds=6.5))
    client = hurried.test_client()

    statuses = [client.delete("/users/me", headers=alice.auth).status_code]
    while statuses[-1] == 202 and len(statuses) < 30:
        statuses.append(client.delete("/users/me", headers=alice.auth).status_code)

    assert statuses[0] == 202
    assert statuses[-1] == 204
    assert _nothing_left(alice)
