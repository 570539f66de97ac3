"""Sign-up and account deletion leave no half-done account behind, whatever step fails.

Each failure is injected at the AWS client boundary (tests/faults.py) because the local
engines cannot fail one chosen call on demand; everything above the client runs for real.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import deadline
from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.config import Settings
from api.storage import connection, utcnow
from api.tasks.models import Task
from api.users.models import User
from api.users.service import RESET_MARK_RESERVE_SECONDS
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


def test_a_verified_sign_up_whose_profile_write_fails_undoes_the_unconfirmed_user(
    engines: dict[str, str], emailed_code: Callable[[str], str]
) -> None:
    verifying = create_app(replace(Settings.from_env(engines), require_email_verification=True))
    client, email = verifying.test_client(), unique_email()
    dynamodb = connection(Task).client  # the client this app's models now use
    error = client_error("InternalServerError", "PutItem")

    with injected(dynamodb, "dynamodb", "PutItem", error=error, times=1):
        assert _sign_up(client, email) == 503

    assert not _cognito_user_exists(email)
    assert _sign_up(client, email) == 201  # the email is free again, and still unconfirmed
    code = emailed_code(email)
    assert client.post("/users/confirm", json={"email": email, "code": code}).status_code == 204


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


DELETION_STEPS = [
    ("dynamodb", "UpdateItem", 0, "InternalServerError"),  # the revocation mark
    ("dynamodb", "UpdateItem", 1, "InternalServerError"),  # marking the profile
    (COGNITO, "AdminDeleteUser", 0, "InternalErrorException"),
    ("dynamodb", "BatchWriteItem", 0, "InternalServerError"),  # the tasks
    ("dynamodb", "TransactWriteItems", 0, "InternalServerError"),  # the profile + last mark
]
DELETION_STEP_IDS = ["mark", "profile-mark", "cognito", "tasks", "profile"]


@pytest.mark.parametrize(
    ("service", "operation", "after", "code"), DELETION_STEPS, ids=DELETION_STEP_IDS
)
@pytest.mark.parametrize("by_admin", [True, False], ids=["by-admin", "by-self"])
def test_a_deletion_failing_at_any_step_is_finished_by_the_next_delete(
    admin: Account,
    sign_up: Callable[..., Account],
    *,
    cognito: Any,
    dynamodb: Any,
    service: str,
    operation: str,
    after: int,
    code: str,
    by_admin: bool,
) -> None:
    doomed = sign_up()
    doomed.create_task(title="one")
    target = cognito if service == COGNITO else dynamodb
    deleter = admin if by_admin else doomed
    path = f"/users/{doomed.id}" if by_admin else "/users/me"
    error = client_error(code, operation)

    with injected(target, service, operation, error=error, times=1, after=after):
        assert deleter.request("DELETE", path).status_code == 503

    # Self-deletion: the same token, refused everywhere else by now, finishes the job.
    assert deleter.request("DELETE", path).status_code == 204
    assert _nothing_left(doomed)
    assert doomed.request("GET", "/tasks").status_code == 401
    assert doomed.request("DELETE", "/users/me").status_code == 401


def test_once_deletion_has_begun_the_account_is_unusable_but_to_finish_it(
    admin: Account, sign_up: Callable[..., Account], cognito: Any
) -> None:
    doomed = sign_up()
    error = client_error("InternalErrorException", "AdminDeleteUser")
    with injected(cognito, COGNITO, "AdminDeleteUser", error=error, times=1):
        assert admin.request("DELETE", f"/users/{doomed.id}").status_code == 503

    # Its tokens: refused for everything but finishing the deletion.
    assert doomed.request("GET", "/users/me").status_code == 401
    assert doomed.request("PATCH", "/users/me", json={"name": "back"}).status_code == 401
    assert doomed.request("POST", "/tasks", json={"title": "orphan"}).status_code == 401
    assert doomed.request("GET", "/tasks").status_code == 401
    # The profile: gone to everyone else, an administrator included, but the DELETE.
    assert admin.request("GET", f"/users/{doomed.id}").status_code == 404
    assert admin.request("PATCH", f"/users/{doomed.id}", json={"name": "x"}).status_code == 404
    assert admin.request("PATCH", f"/users/{doomed.id}", json={"enabled": True}).status_code == 404
    assert doomed.request("DELETE", "/users/me").status_code == 204
    assert doomed.request("DELETE", "/users/me").status_code == 401


def test_a_deleting_account_may_not_delete_another(
    admin: Account, sign_up: Callable[..., Account], cognito: Any
) -> None:
    doomed, other = sign_up(), sign_up()
    error = client_error("InternalErrorException", "AdminDeleteUser")
    with injected(cognito, COGNITO, "AdminDeleteUser", error=error, times=1):
        assert doomed.request("DELETE", "/users/me").status_code == 503

    assert doomed.request("DELETE", f"/users/{other.id}").status_code == 401
    assert other.request("GET", "/users/me").status_code == 200


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
    other_session = alice.client.post(
        "/auth/token", json={"email": alice.email, "password": PASSWORD}
    ).json["access_token"]
    other = {"Authorization": f"Bearer {other_session}"}
    # 6 s of the deadline are held for the last batch and the profile (with the last mark):
    # half a second to delete, less on the first DELETE, which marks the account.
    hurried = create_app(replace(Settings.from_env(engines), request_deadline_seconds=6.5))
    client = hurried.test_client()

    statuses = [client.delete("/users/me", headers=alice.auth).status_code]
    # Unusable from the first moment: the other session is refused, and so is this one
    # for anything but finishing the deletion.
    assert client.get("/tasks", headers=other).status_code == 401
    assert client.post("/tasks", json={"title": "x"}, headers=alice.auth).status_code == 401
    while statuses[-1] == 202 and len(statuses) < 30:
        statuses.append(client.delete("/users/me", headers=alice.auth).status_code)

    assert statuses[0] == 202
    assert statuses[-1] == 204
    assert _nothing_left(alice)
    # Deletion done: every earlier token is refused, for the DELETE too.
    for headers in (alice.auth, other):
        assert client.get("/tasks", headers=headers).status_code == 401
        assert client.delete("/users/me", headers=headers).status_code == 401


NEW_PASSWORD = "Battery-Staple-7"
CHANGE = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
# A password endpoint's first UpdateItem is its rate-limit check; the mark comes next.
MARK = 1


def _works(client: FlaskClient, token: str) -> bool:
    status = client.get("/tasks", headers={"Authorization": f"Bearer {token}"}).status_code
    assert status in (200, 401), status
    return status == 200


def _signs_in(client: FlaskClient, email: str, password: str) -> bool:
    response = client.post("/auth/token", json={"email": email, "password": password})
    return response.status_code == 200


def test_a_password_change_whose_mark_fails_changes_nothing_and_can_be_retried(
    client: FlaskClient, alice: Account, dynamodb: Any
) -> None:
    error = client_error("InternalServerError", "UpdateItem")
    with injected(dynamodb, "dynamodb", "UpdateItem", error=error, times=1, after=MARK):
        assert alice.request("POST", "/auth/password/change", json=CHANGE).status_code == 503

    assert _signs_in(client, alice.email, PASSWORD)  # nothing changed, nothing ended
    assert alice.request("POST", "/auth/password/change", json=CHANGE).status_code == 204
    assert not _works(client, alice.tokens["access_token"])
    assert _signs_in(client, alice.email, NEW_PASSWORD)


def test_a_password_change_that_cognito_fails_has_ended_the_sessions_already(
    client: FlaskClient, alice: Account, cognito: Any
) -> None:
    thief = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD}).json
    error = client_error("InternalErrorException", "ChangePassword")
    with injected(cognito, COGNITO, "ChangePassword", error=error, times=1):
        assert alice.request("POST", "/auth/password/change", json=CHANGE).status_code == 503

    assert not _works(client, thief["access_token"])
    assert not _works(client, client.post(
        "/auth/refresh", json={"refresh_token": thief["refresh_token"]}
    ).json["access_token"])  # fmt: skip
    assert _signs_in(client, alice.email, PASSWORD)  # sign in again and retry


def _reset(client: FlaskClient, email: str, code: str) -> Any:
    body = {"email": email, "code": code, "new_password": NEW_PASSWORD}
    return client.post("/auth/password/reset", json=body)


def test_a_password_reset_retries_a_mark_that_failed_once(
    client: FlaskClient, alice: Account, dynamodb: Any, emailed_code: Callable[[str], str]
) -> None:
    assert client.post("/auth/password/forgot", json={"email": alice.email}).status_code == 202
    error = client_error("InternalServerError", "UpdateItem")
    with injected(dynamodb, "dynamodb", "UpdateItem", error=error, times=1, after=MARK):
        assert _reset(client, alice.email, emailed_code(alice.email)).status_code == 204

    assert not _works(client, alice.tokens["access_token"])


def test_a_password_reset_whose_mark_keeps_failing_is_never_a_success(
    client: FlaskClient,
    alice: Account,
    dynamodb: Any,
    emailed_code: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert client.post("/auth/password/forgot", json={"email": alice.email}).status_code == 202
    error = client_error("InternalServerError", "UpdateItem")
    with injected(dynamodb, "dynamodb", "UpdateItem", error=error, after=MARK) as failed:
        assert _reset(client, alice.email, emailed_code(alice.email)).status_code == 503

    assert len(failed) > 1  # retried
    (record,) = [r for r in caplog.records if "sessions not ended" in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert record.reset_user_id == alice.id  # type: ignore[attr-defined]


@pytest.fixture
def half_deleted_twins(alice: Account) -> Iterator[None]:
    """Profiles of half-deleted accounts that keep alice's email (written straight to the table,
    with ids sorting before and after any other, so an email lookup would meet one first);
    removed afterwards, so user listings elsewhere see each email once."""
    now = utcnow()
    twins = [
        User(user_id, email=alice.email, name="Gone", created_at=now, updated_at=now,
             deleting_since=now)
        for user_id in ("00000000-0000-0000-0000-000000000000",
                        "ffffffff-ffff-ffff-ffff-ffffffffffff")
    ]  # fmt: skip
    for twin in twins:
        twin.save()
    yield
    for twin in twins:
        twin.delete()


@pytest.mark.usefixtures("half_deleted_twins")
def test_a_password_reset_ends_the_sessions_of_the_account_that_has_the_email_now(
    client: FlaskClient, alice: Account, emailed_code: Callable[[str], str]
) -> None:
    assert client.post("/auth/password/forgot", json={"email": alice.email}).status_code == 202

    response = _reset(client, alice.email, emailed_code(alice.email))

    assert response.status_code == 204, response.json
    assert not _works(client, alice.tokens["access_token"])
    assert _signs_in(client, alice.email, NEW_PASSWORD)


def test_a_password_reset_never_names_an_account_to_its_anonymous_caller(
    client: FlaskClient, alice: Account, cognito: Any, emailed_code: Callable[[str], str]
) -> None:
    """The Cognito user goes between the reset and its sign-out (a deletion racing it)."""
    assert client.post("/auth/password/forgot", json={"email": alice.email}).status_code == 202
    error = client_error("UserNotFoundException", "AdminUserGlobalSignOut")
    with injected(cognito, COGNITO, "AdminUserGlobalSignOut", error=error, times=1):
        response = _reset(client, alice.email, emailed_code(alice.email))

    assert response.status_code == 204
    assert alice.id not in response.get_data(as_text=True)
    assert not _works(client, alice.tokens["access_token"])


def test_a_password_reset_without_time_left_for_the_mark_changes_nothing(
    engines: dict[str, str], alice: Account, emailed_code: Callable[[str], str]
) -> None:
    """Cognito may not spend the time held back for the mark: with a deadline too short for
    both, the reset is refused before the password changes, never after."""
    held_back = RESET_MARK_RESERVE_SECONDS + deadline.COGNITO.attempt_seconds
    hurried = create_app(replace(Settings.from_env(engines), request_deadline_seconds=held_back))
    client = hurried.test_client()
    assert client.post("/auth/password/forgot", json={"email": alice.email}).status_code == 202

    assert _reset(client, alice.email, emailed_code(alice.email)).status_code == 503

    assert _signs_in(client, alice.email, PASSWORD)
    assert _works(client, alice.tokens["access_token"])
