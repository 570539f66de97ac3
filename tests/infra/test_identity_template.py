"""infra/identity.yaml's user pool enforces exactly the password rule the API's sign-up checks.

The API side comes from the sign-up schema (what a client is told) and `password_policy()`
(what the local pool is created with); the template side is read from the file. A password is
then judged by both: the API's schema, and the template's policy read the way Cognito reads it.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest

from api.auth.identity import password_policy
from api.auth.tokens import ADMIN_GROUP
from api.users.schemas import SignUpSchema
from infra.cfn import INFRA, load_template

# Cognito's character classes (its developer guide, "password requirements").
COGNITO_CLASSES = {
    "RequireLowercase": r"[a-z]",
    "RequireUppercase": r"[A-Z]",
    "RequireNumbers": r"[0-9]",
    "RequireSymbols": r"[\^$*.\[\]{}()?\"!@#%&/\\,><':;|_~`=+\- ]",
}


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(INFRA / "identity.yaml")["Resources"]
    return resources


def template_policy() -> dict[str, Any]:
    (pool,) = [r for r in _resources().values() if r["Type"] == "AWS::Cognito::UserPool"]
    policy: dict[str, Any] = pool["Properties"]["Policies"]["PasswordPolicy"]
    return policy


def cognito_accepts(policy: dict[str, Any], password: str) -> bool:
    long_enough = len(password) >= policy["MinimumLength"]
    return long_enough and all(
        re.search(pattern, password) for flag, pattern in COGNITO_CLASSES.items() if policy[flag]
    )


def api_accepts(password: str) -> bool:
    errors = SignUpSchema().validate({"email": "a@example.com", "password": password, "name": "A"})
    return "password" not in errors


def test_template_policy_is_the_apis_policy() -> None:
    assert template_policy() == password_policy()


@pytest.mark.parametrize(
    "password",
    [
        "Correct-Horse-9",  # accepted by both
        "Abcdefg1",  # exactly the minimum length
        "Abcdef1",  # one short
        "abcdefgh1",  # no uppercase
        "ABCDEFGH1",  # no lowercase
        "Abcdefghi",  # no digit
        "Ünïcödé9",  # non-ASCII letters count for neither class
        "pass word 1A",  # spaces are fine, symbols are not required
        "12345678",
    ],
)
def test_a_password_is_accepted_by_the_api_exactly_when_the_pool_accepts_it(password: str) -> None:
    assert api_accepts(password) == cognito_accepts(template_policy(), password)


def test_the_samples_cover_both_answers() -> None:
    assert api_accepts("Correct-Horse-9")
    assert not api_accepts("Abcdef1")


def test_the_local_pool_has_the_same_policy(engines: dict[str, str]) -> None:
    cognito = boto3.client(
        "cognito-idp", endpoint_url=engines["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    )
    pool = cognito.describe_user_pool(UserPoolId=engines["COGNITO_USER_POOL_ID"])["UserPool"]

    local = pool["Policies"]["PasswordPolicy"]
    assert {key: local[key] for key in template_policy()} == template_policy()


def test_the_admin_group_is_the_one_the_api_checks() -> None:
    groups = [r for r in _resources().values() if r["Type"] == "AWS::Cognito::UserPoolGroup"]

    assert [g["Properties"]["GroupName"] for g in groups] == [ADMIN_GROUP]
