"""Every upstream failure gets its deliberate answer (api/upstream.py), never a bare 500.

Faults are injected at the AWS client boundary (tests/faults.py): DynamoDB Local and
cognito-local cannot be made to throttle or fail on demand, and injecting there runs
all of the API's own code exactly as a real service failure would.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.auth.identity import _client as cognito_client
from api.config import Settings
from api.storage import connection
from api.tasks.models import Task
from tests.api.conftest import PASSWORD, Account, unique_email
from tests.faults import client_error, injected

DYNAMODB = "dynamodb"
COGNITO = "cognito-identity-provider"


@pytest.fixture
def dynamodb(app: Flask) -> Any:
    return connection(Task).client


@pytest.fixture
def cognito(app: Flask) -> Any:
    return cognito_client(Settings.from_env().region)


def _problem(response: Any, status: int, type_: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    if type_:
        assert response.json["type"] == type_
    body: dict[str, Any] = response.json
    return body


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_dynamodb_throttling_is_429_with_retry_after(
    alice: Account, dynamodb: Any, code: str
) -> None:
    task = alice.create_task()
    # Reading one task is one BatchGetItem of the task and its session's marks (ADR 0003).
    with injected(dynamodb, DYNAMODB, "BatchGetItem", error=client_error(code, "BatchGetItem")):
        response = alice.request("GET", f"/tasks/{task['id']}")

    _problem(response, 429, "urn:tasklake:problem:too-many-requests")
    assert int(response.headers["Retry-After"]) >= 1


def test_dynamodb_failing_is_503_with_retry_after(alice: Account, dynamodb: Any) -> None:
    error = client_error("InternalServerError", "Query")
    with injected(dynamodb, DYNAMODB, "Query", error=error):
        response = alice.request("GET", "/tasks")

    _problem(response, 503, "urn:tasklake:problem:dependency-unavailable")
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (client_error("InternalServerError", "TransactWriteItems"), 503),
        (
            client_error(
                "TransactionCanceledException",
                "TransactWriteItems",
                CancellationReasons=[{"Code": "None"}, {"Code": "ThrottlingError"}],
            ),
            429,
        ),
    ],
    ids=["internal-error", "item-throttled"],
)
def test_a_transaction_failing_other_than_by_its_condition_is_not_a_500(
    alice: Account, dynamodb: Any, error: Exception, status: int
) -> None:
    with injected(dynamodb, DYNAMODB, "TransactWriteItems", error=error):
        response = alice.request(
            "POST", "/tasks", json={"title": "t"}, headers={"Idempotency-Key": unique_email()}
        )

    _problem(response, status)
    assert "Retry-After" in response.headers


def test_a_rejected_request_is_our_bug_500_logged_once_with_its_trace(
    alice: Account, dynamodb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    task = alice.create_task()
    with (
        caplog.at_level(logging.ERROR),
        injected(
            dynamodb, DYNAMODB, "BatchGetItem", error=client_error("ValidationException", "x")
        ),
    ):
        response = alice.request("GET", f"/tasks/{task['id']}")

    body = _problem(response, 500)
    assert "injected" not in body["detail"]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info


def test_access_denied_is_a_misconfiguration(alice: Account, dynamodb: Any) -> None:
    error = client_error("AccessDeniedException", "Query")
    with injected(dynamodb, DYNAMODB, "Query", error=error):
        response = alice.request("GET", "/tasks")

    _problem(response, 500, "urn:tasklake:problem:misconfigured")


@pytest.mark.parametrize("code", ["TooManyRequestsException", "LimitExceededException"])
def test_cognito_throttling_is_429_with_retry_after(
    client: FlaskClient, alice: Account, cognito: Any, code: str
) -> None:
    with injected(cognito, COGNITO, "InitiateAuth", error=client_error(code, "InitiateAuth")):
        response = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})

    _problem(response, 429, "urn:tasklake:problem:too-many-requests")
    assert int(response.headers["Retry-After"]) >= 1


def test_cognito_failing_is_503_with_retry_after(
    client: FlaskClient, alice: Account, cognito: Any
) -> None:
    error = client_error("InternalErrorException", "InitiateAuth")
    with injected(cognito, COGNITO, "InitiateAuth", error=error):
        response = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})

    _problem(response, 503)
    assert "Retry-After" in response.headers


def test_password_reset_required_says_so(client: FlaskClient, alice: Account, cognito: Any) -> None:
    error = client_error("PasswordResetRequiredException", "InitiateAuth")
    with injected(cognito, COGNITO, "InitiateAuth", error=error):
        response = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})

    body = _problem(response, 403, "urn:tasklake:problem:password-reset-required")
    assert "reset" in body["detail"]


def test_a_sign_in_challenge_is_a_clear_problem(client: FlaskClient, app: Flask) -> None:
    """An account an administrator created with a temporary password must choose a new one."""
    settings = Settings.from_env()
    email = unique_email()
    boto3.client("cognito-idp", region_name=settings.region).admin_create_user(
        UserPoolId=settings.cognito_user_pool_id,
        Username=email,
        TemporaryPassword=PASSWORD,
        MessageAction="SUPPRESS",
    )

    response = client.post("/auth/token", json={"email": email, "password": PASSWORD})

    body = _problem(response, 403, "urn:tasklake:problem:sign-in-challenge")
    assert "NEW_PASSWORD_REQUIRED" in body["detail"]


def test_sign_up_never_echoes_the_identity_providers_message(
    client: FlaskClient, cognito: Any
) -> None:
    error = client_error("InvalidPasswordException", "SignUp")
    with injected(cognito, COGNITO, "SignUp", error=error):
        response = client.post(
            "/users", json={"email": unique_email(), "password": PASSWORD, "name": "X"}
        )

    body = _problem(response, 422)
    assert "injected" not in response.get_data(as_text=True)
    assert body["errors"]["json"]["password"]


def test_an_unconfirmed_account_is_403_not_401(
    client: FlaskClient, alice: Account, cognito: Any
) -> None:
    error = client_error("UserNotConfirmedException", "InitiateAuth")
    with injected(cognito, COGNITO, "InitiateAuth", error=error):
        response = client.post("/auth/token", json={"email": alice.email, "password": PASSWORD})

    _problem(response, 403, "urn:tasklake:problem:account-not-confirmed")


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("AdminDisableUser", "TooManyRequestsException", 429),
        ("AdminDisableUser", "InternalErrorException", 503),
        ("AdminUserGlobalSignOut", "TooManyRequestsException", 429),
        ("AdminUserGlobalSignOut", "InternalErrorException", 503),
        ("AdminDisableUser", "AccessDeniedException", 500),
    ],
)
def test_the_account_admin_calls_are_answered_by_the_same_table(
    admin: Account, bob: Account, cognito: Any, *, operation: str, code: str, status: int
) -> None:
    with injected(cognito, COGNITO, operation, error=client_error(code, operation)):
        response = admin.request("PATCH", f"/users/{bob.id}", json={"enabled": False})

    _problem(response, status)
    if status != 500:
        assert int(response.headers["Retry-After"]) >= 1
    assert "injected" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "operation", "body"),
    [
        ("/auth/logout?all=true", "AdminUserGlobalSignOut", None),
        ("/auth/password/change", "ChangePassword",
         {"current_password": PASSWORD, "new_password": "Battery-Staple-7"}),
    ],
)  # fmt: skip
def test_the_session_calls_are_throttled_with_retry_after(
    alice: Account, cognito: Any, path: str, operation: str, body: Any
) -> None:
    error = client_error("TooManyRequestsException", operation)
    with injected(cognito, COGNITO, operation, error=error):
        response = alice.request("POST", path, json=body)

    _problem(response, 429, "urn:tasklake:problem:too-many-requests")
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("path", "operation", "body"),
    [
        ("/users/confirm", "ConfirmSignUp", {"email": "x@example.com", "code": "123456"}),
        ("/users/confirm/resend", "ResendConfirmationCode", {"email": "x@example.com"}),
        ("/auth/password/forgot", "ForgotPassword", {"email": "x@example.com"}),
        ("/auth/password/reset", "ConfirmForgotPassword",
         {"email": "x@example.com", "code": "123456", "new_password": "Battery-Staple-7"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "code", ["LimitExceededException", "TooManyRequestsException", "TooManyFailedAttemptsException"]
)
def test_the_code_flows_answer_cognitos_limits_with_429(
    client: FlaskClient, cognito: Any, *, path: str, operation: str, body: Any, code: str
) -> None:
    with injected(cognito, COGNITO, operation, error=client_error(code, operation)):
        response = client.post(path, json=body)

    _problem(response, 429, "urn:tasklake:problem:too-many-requests")
    assert "injected" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "code",
    ["InvalidParameterException", "UserLambdaValidationException", "UnsupportedUserStateException"],
)
def test_cognito_refusing_the_callers_details_is_422_naming_why(
    client: FlaskClient, cognito: Any, code: str
) -> None:
    with injected(cognito, COGNITO, "InitiateAuth", error=client_error(code, "InitiateAuth")):
        response = client.post("/auth/token", json={"email": unique_email(), "password": "p"})

    body = _problem(response, 422)
    assert code in body["detail"]
    assert "injected" not in response.get_data(as_text=True)


def test_a_refused_new_password_is_422_when_changing_it(alice: Account, cognito: Any) -> None:
    error = client_error("PasswordHistoryPolicyViolationException", "ChangePassword")
    with injected(cognito, COGNITO, "ChangePassword", error=error):
        response = alice.request(
            "POST",
            "/auth/password/change",
            json={"current_password": PASSWORD, "new_password": "Battery-Staple-7"},
        )

    _problem(response, 422)


def _email(length: int) -> str:
    local = uuid.uuid4().hex + "a" * 32  # 64, the longest local part
    return f"{local}@{'b' * (length - len(local) - len('@.com'))}.com"


def test_an_email_over_cognitos_username_limit_is_refused_before_cognito(
    client: FlaskClient, cognito: Any
) -> None:
    too_long, longest = _email(129), _email(128)
    with injected(cognito, COGNITO, "SignUp", error=client_error("InvalidParameterException", "x")):
        refused = [
            client.post(path, json=body)
            for path, body in [
                ("/users", {"email": too_long, "password": PASSWORD, "name": "Long"}),
                ("/auth/token", {"email": too_long, "password": PASSWORD}),
                ("/auth/password/forgot", {"email": too_long}),
            ]
        ]

    for response in refused:
        assert _problem(response, 422)["errors"]["json"]["email"]
    created = client.post("/users", json={"email": longest, "password": PASSWORD, "name": "Long"})
    assert len(longest) == 128
    assert created.status_code == 201, created.json
