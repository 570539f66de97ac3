"""Verified sign-up, as the AWS stages run it (REQUIRE_EMAIL_VERIFICATION=true).

The session's app runs with verification off, as `make run` does by default; these tests
build a second app over the same engines with it on, and read the codes cognito-local
"emails" from its state, as `make code EMAIL=…` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Settings
from tests.api.conftest import PASSWORD, unique_email


@pytest.fixture(scope="module")
def verifying_app(app: Flask) -> Flask:
    settings = dataclasses.replace(Settings.from_env(), require_email_verification=True)
    return create_app(settings)


@pytest.fixture
def verifying(verifying_app: Flask) -> FlaskClient:
    return verifying_app.test_client()


def sign_up(client: FlaskClient, email: str) -> None:
    created = client.post("/users", json={"email": email, "password": PASSWORD, "name": "V"})
    assert created.status_code == 201, created.json


def sign_in_status(client: FlaskClient, email: str) -> int:
    status: int = client.post(
        "/auth/token", json={"email": email, "password": PASSWORD}
    ).status_code
    return status


def test_an_unconfirmed_account_cannot_sign_in_until_its_code_comes_back(
    verifying: FlaskClient, emailed_code: Callable[[str], str]
) -> None:
    email = unique_email()
    sign_up(verifying, email)

    refused = verifying.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 403
    assert refused.json["type"] == "urn:tasklake:problem:account-not-confirmed"
    assert "confirm" in refused.json["detail"]

    confirmed = verifying.post("/users/confirm", json={"email": email, "code": emailed_code(email)})

    assert confirmed.status_code == 204
    assert sign_in_status(verifying, email) == 200


def test_a_wrong_code_is_422_and_confirms_nothing(verifying: FlaskClient) -> None:
    email = unique_email()
    sign_up(verifying, email)

    response = verifying.post("/users/confirm", json={"email": email, "code": "000000x"})

    assert response.status_code == 422
    assert "code" in response.json["errors"]["json"]
    assert sign_in_status(verifying, email) == 403


def test_resend_issues_a_new_code_and_answers_alike_for_anyone(
    verifying: FlaskClient, emailed_code: Callable[[str], str]
) -> None:
    email = unique_email()
    sign_up(verifying, email)
    first = emailed_code(email)

    resent = verifying.post("/users/confirm/resend", json={"email": email})
    unknown = verifying.post("/users/confirm/resend", json={"email": unique_email()})

    assert resent.status_code == unknown.status_code == 202
    assert resent.get_data() == unknown.get_data()
    assert verifying.post("/users/confirm", json={"email": email, "code": first}).status_code == 422
    confirmed = verifying.post("/users/confirm", json={"email": email, "code": emailed_code(email)})
    assert confirmed.status_code == 204


def test_confirming_an_unknown_account_is_the_same_422(verifying: FlaskClient) -> None:
    response = verifying.post("/users/confirm", json={"email": unique_email(), "code": "123456"})
    assert response.status_code == 422


def test_without_verification_an_account_signs_in_at_once(client: FlaskClient) -> None:
    email = unique_email()
    sign_up(client, email)
    assert sign_in_status(client, email) == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/users/confirm", {"email": "a@example.com"}),
        ("/users/confirm", {"email": "a@example.com", "code": "1", "extra": 1}),
        ("/users/confirm/resend", {"email": "not-an-email"}),
        ("/auth/password/forgot", {}),
        ("/auth/password/reset", {"email": "a@example.com", "code": "1", "new_password": "weak"}),
    ],
)
def test_bad_bodies_are_422(client: FlaskClient, path: str, body: dict[str, object]) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
