"""The app client has a secret: Cognito's unauthenticated calls need it, and the API has it.

cognito-local stores a client's secret but checks no SECRET_HASH; infra/local/cognito-local-gaps.js
makes it check them as Cognito does, so every flow the other test files drive through the API
(sign-up, confirm, sign-in, refresh, logout, password change and reset, delete) is also a check
that the API signs its calls correctly. Here: the same calls made without the secret, as anyone
holding the public client id (it is in every token) could make them, are refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from flask import Flask

from api.app import create_app
from api.auth.identity import secret_hash
from api.config import Settings
from api.problems import ConfigurationError
from tests.api.conftest import PASSWORD, Account, unique_email
from tests.logged_problems import logged_problems


@pytest.fixture(scope="module")
def cognito(engines: dict[str, str]) -> Any:
    return boto3.client(
        "cognito-idp", endpoint_url=engines["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    )


def _refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    return str(refused.value.response["Error"]["Message"])


def test_sign_up_and_sign_in_around_the_api_need_the_secret(
    cognito: Any, engines: dict[str, str], alice: Account
) -> None:
    client_id = engines["COGNITO_CLIENT_ID"]
    attributes = [{"Name": "email", "Value": "x@example.com"}, {"Name": "name", "Value": "X"}]

    sign_up = _refusal(
        lambda: cognito.sign_up(
            ClientId=client_id,
            Username=unique_email(),
            Password=PASSWORD,
            UserAttributes=attributes,
        )
    )
    sign_in = _refusal(
        lambda: cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": alice.email, "PASSWORD": PASSWORD},
        )
    )

    assert "SECRET_HASH was not received" in sign_up
    assert "SECRET_HASH was not received" in sign_in


@pytest.mark.parametrize("operation", ["forgot_password", "resend_confirmation_code"])
def test_code_mails_around_the_api_need_the_secret(
    cognito: Any, engines: dict[str, str], alice: Account, operation: str
) -> None:
    call = getattr(cognito, operation)

    _refusal(lambda: call(ClientId=engines["COGNITO_CLIENT_ID"], Username=alice.email))


def test_a_hash_made_with_another_secret_is_refused(
    cognito: Any, engines: dict[str, str], alice: Account
) -> None:
    client_id = engines["COGNITO_CLIENT_ID"]

    message = _refusal(
        lambda: cognito.forgot_password(
            ClientId=client_id,
            Username=alice.email,
            SecretHash=secret_hash("not-the-secret", alice.email, client_id),
        )
    )

    assert "Unable to verify secret hash" in message


def test_refresh_tokens_cannot_be_used_or_revoked_without_the_secret(
    cognito: Any, engines: dict[str, str], alice: Account
) -> None:
    client_id, refresh_token = engines["COGNITO_CLIENT_ID"], alice.tokens["refresh_token"]

    _refusal(
        lambda: cognito.get_tokens_from_refresh_token(
            ClientId=client_id, RefreshToken=refresh_token
        )
    )
    _refusal(lambda: cognito.revoke_token(ClientId=client_id, Token=refresh_token))

    refreshed = alice.client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 200, refreshed.json


def test_an_app_client_without_a_secret_is_a_configuration_error(
    cognito: Any, engines: dict[str, str]
) -> None:
    public = cognito.create_user_pool_client(
        UserPoolId=engines["COGNITO_USER_POOL_ID"], ClientName="public-by-mistake"
    )["UserPoolClient"]["ClientId"]
    settings = dataclasses.replace(Settings.from_env(engines), cognito_client_id=public)
    app: Flask = create_app(settings)

    with logged_problems() as logged:
        answer = app.test_client().post("/auth/password/forgot", json={"email": unique_email()})

    assert answer.status_code == 500
    assert answer.content_type == "application/problem+json"
    assert answer.json["detail"] == ConfigurationError.PUBLIC_DETAIL  # names no setting
    assert any("has no secret" in problem for problem in logged)
