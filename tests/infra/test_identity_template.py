"""infra/identity.yaml's user pool enforces exactly the password rule the API's sign-up checks.

The API side comes from the sign-up schema (what a client is told) and `password_policy()`
(what the local pool is created with); the template side is read from the file. A password is
then judged by both: the API's schema, and the template's policy read the way Cognito reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from api.auth.identity import password_policy
from api.auth.tokens import ADMIN_GROUP
from api.users.schemas import SignUpSchema
from infra.cfn import INFRA, Tag, load_template

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


# What a deployed stage sees: the template's !Ref, !If, !Equals and !Not worked out for some
# parameter values, the way CloudFormation does it (only those the identity template uses).
def _resolved(node: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    def resolve(value: Any) -> Any:
        return _resolved(value, parameters, conditions)

    intrinsics: dict[str, Callable[[Any], Any]] = {
        "Ref": lambda name: parameters.get(name, name),
        "Equals": lambda pair: resolve(pair[0]) == resolve(pair[1]),
        "Not": lambda one: not resolve(one[0]),
        "If": lambda branch: resolve(branch[1] if resolve(conditions[branch[0]]) else branch[2]),
    }
    if isinstance(node, Tag) and node.name in intrinsics:
        return intrinsics[node.name](node.value)
    if isinstance(node, dict):
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value) for value in node]
    return node


def _stage(environment: str, **ses: str) -> dict[str, Any]:
    """The template's resources and rule verdicts for one stage's parameters."""
    template = load_template(INFRA / "identity.yaml")
    parameters = {name: spec.get("Default", "") for name, spec in template["Parameters"].items()}
    parameters.update(Environment=environment, **ses)
    conditions = template["Conditions"]
    resources = _resolved(template["Resources"], parameters, conditions)
    refused = [
        assertion["AssertDescription"]
        for rule in template["Rules"].values()
        if _resolved(rule["RuleCondition"], parameters, conditions)
        for assertion in rule["Assertions"]
        if not _resolved(assertion["Assert"], parameters, conditions)
    ]
    return {"pool": _of_type(resources, "AWS::Cognito::UserPool"), "refused": refused,
            "client": _of_type(resources, "AWS::Cognito::UserPoolClient")}  # fmt: skip


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    (properties,) = [r["Properties"] for r in resources.values() if r["Type"] == kind]
    return dict(properties)


SES = {
    "SesIdentityArn": "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
    "SesFromAddress": "tasklake <no-reply@example.com>",
}


def test_the_app_client_has_a_secret_and_writes_no_more_than_sign_up_does() -> None:
    client = _stage("prod", **SES)["client"]

    assert client["GenerateSecret"] is True
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    sign_up_writes = {"email", "name"}  # api/auth/identity.py register()
    assert set(client["WriteAttributes"]) == sign_up_writes
    assert set(client["ReadAttributes"]) == {"email", "email_verified", "name"}


def test_the_local_app_client_is_made_like_the_templates(engines: dict[str, str]) -> None:
    cognito = boto3.client(
        "cognito-idp", endpoint_url=engines["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    )
    local = cognito.describe_user_pool_client(
        UserPoolId=engines["COGNITO_USER_POOL_ID"], ClientId=engines["COGNITO_CLIENT_ID"]
    )["UserPoolClient"]
    template = _stage("dev")["client"]

    assert local["ClientSecret"]
    for setting in ("ExplicitAuthFlows", "ReadAttributes", "WriteAttributes"):
        assert sorted(local[setting]) == sorted(template[setting]), setting


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_a_new_email_waits_for_its_code_on_every_stage(environment: str) -> None:
    pool = _stage(environment, **SES)["pool"]

    assert pool["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }


@pytest.mark.parametrize(
    ("environment", "mode", "tier"),
    [("dev", "OFF", "ESSENTIALS"), ("staging", "OFF", "ESSENTIALS"), ("prod", "ENFORCED", "PLUS")],
)
def test_threat_protection_blocks_in_prod_only(environment: str, mode: str, tier: str) -> None:
    pool = _stage(environment, **SES)["pool"]

    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": mode}
    assert pool["UserPoolTier"] == tier


def test_with_an_ses_identity_cognito_mails_through_it() -> None:
    stage = _stage("prod", **SES)

    assert stage["pool"]["EmailConfiguration"] == {
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": SES["SesIdentityArn"],
        "From": SES["SesFromAddress"],
    }
    assert stage["refused"] == []


def test_only_dev_may_use_cognitos_own_sender() -> None:
    dev = _stage("dev")

    assert dev["pool"]["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert dev["refused"] == []
    for environment in ("staging", "prod"):
        assert len(_stage(environment)["refused"]) == 2, environment
        assert _stage(environment, SesIdentityArn=SES["SesIdentityArn"])["refused"] == [
            "staging and prod mail through SES; set SesFromAddress"
        ]


# Cognito forwards selected headers to WAF and names a native API call in
# x-amzn-cognito-operation-name (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-waf.html,
# "x-amzn-cognito-operation-name header values of AssociateSoftwareToken and
# VerifySoftwareToken"); x-amz-target is the SDK's header. Each header is written its own way.
HEADER_VALUES: dict[str, Callable[[str], str]] = {
    "x-amzn-cognito-operation-name": lambda operation: operation,
    "x-amz-target": lambda operation: f"AWSCognitoIdentityProviderService.{operation}",
}


def _blocked_targets() -> tuple[dict[str, Any], Callable[[str], dict[str, bool]]]:
    """The pool's web ACL, and per operation: which header's rule would block it."""
    resources = _resources()
    (acl_name,) = [n for n, r in resources.items() if r["Type"] == "AWS::WAFv2::WebACL"]
    (rule,) = resources[acl_name]["Properties"]["Rules"]
    assert rule["Action"] == {"Block": {}}
    statements = [s["RegexMatchStatement"] for s in rule["Statement"]["OrStatement"]["Statements"]]
    patterns = {
        s["FieldToMatch"]["SingleHeader"]["Name"]: re.compile(s["RegexString"]) for s in statements
    }
    assert set(patterns) == set(HEADER_VALUES)

    def blocked(operation: str) -> dict[str, bool]:
        return {
            header: bool(pattern.fullmatch(HEADER_VALUES[header](operation)))
            for header, pattern in patterns.items()
        }

    return resources, blocked


def _operations_the_api_calls() -> set[str]:
    """Every Cognito operation api/auth/identity.py names, by its boto3 method."""
    source = (INFRA.parent / "api" / "auth" / "identity.py").read_text()
    methods = set(re.findall(r"(?:cognito|\(region\))\.([a-z_]+)\b", source))
    mapping = boto3.client("cognito-idp", region_name="us-east-1").meta.method_to_api_mapping
    return {mapping[method] for method in methods if method in mapping}


def test_the_pool_refuses_account_changes_made_around_the_api() -> None:
    resources, blocked = _blocked_targets()
    (association,) = [
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::WAFv2::WebACLAssociation"
    ]

    assert association["ResourceArn"] == Tag("GetAtt", "UserPool.Arn")
    for operation in ("DeleteUser", "UpdateUserAttributes", "GetUserAttributeVerificationCode"):
        assert blocked(operation) == dict.fromkeys(HEADER_VALUES, True), operation
    assert not any(blocked("DeleteUserPool").values())  # whole names only


def test_both_headers_block_the_same_operations() -> None:
    _, blocked = _blocked_targets()
    operations = boto3.client("cognito-idp", region_name="us-east-1").meta.method_to_api_mapping

    for operation in operations.values():
        assert len(set(blocked(operation).values())) == 1, (operation, blocked(operation))


def test_the_web_acl_blocks_no_call_the_api_makes() -> None:
    _, blocked = _blocked_targets()
    calls = _operations_the_api_calls()

    assert {"SignUp", "InitiateAuth", "ChangePassword", "AdminDeleteUser"} <= calls
    assert {operation for operation in calls if any(blocked(operation).values())} == set()


def test_the_client_lets_the_api_pass_on_the_callers_address() -> None:
    # https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UserPoolClientType.html:
    # with EnablePropagateAdditionalUserContextData, Cognito accepts the IpAddress sent in
    # UserContextData; it can only be activated on an app client that has a client secret.
    (client,) = [r for r in _resources().values() if r["Type"] == "AWS::Cognito::UserPoolClient"]

    assert client["Properties"]["EnablePropagateAdditionalUserContextData"] is True
    assert client["Properties"]["GenerateSecret"] is True
