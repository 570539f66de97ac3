"""The policy evaluator's own cases: what IAM decides, per the IAM user guide's evaluation logic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.policy_eval import Request, decide, kms_decision

ROLE = "arn:aws:iam::123456789012:role/app"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::999999999999:role/app"
ROOT = {"AWS": "arn:aws:iam::123456789012:root"}
BUCKET = "arn:aws:s3:::lake"


def allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", **fields}


def deny(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Deny", **fields}


def request(action: str, resource: str = BUCKET, **context: Any) -> Request:
    return Request(ROLE, action, resource, context)


@pytest.mark.parametrize(
    ("statement", "req", "expected"),
    [
        # Actions: case-insensitive, * and ? wildcards, NotAction.
        (allow(Action="s3:GetObject", Resource="*"), request("S3:getobject"), "Allow"),
        (allow(Action="s3:Get*", Resource="*"), request("s3:GetBucketLocation"), "Allow"),
        (allow(Action="s3:Get?bject", Resource="*"), request("s3:GetObject"), "Allow"),
        (allow(Action="s3:Get*", Resource="*"), request("s3:PutObject"), "ImplicitDeny"),
        (allow(NotAction="s3:Delete*", Resource="*"), request("s3:PutObject"), "Allow"),
        (allow(NotAction="s3:Delete*", Resource="*"), request("s3:DeleteObject"), "ImplicitDeny"),
        # Resources: case-sensitive wildcards; NotResource.
        (
            allow(Action="s3:*", Resource=f"{BUCKET}/silver/*"),
            request("s3:GetObject", f"{BUCKET}/silver/a"),
            "Allow",
        ),
        (
            allow(Action="s3:*", Resource=f"{BUCKET}/silver/*"),
            request("s3:GetObject", f"{BUCKET}/Silver/a"),
            "ImplicitDeny",
        ),
        (
            allow(Action="s3:*", Resource=f"{BUCKET}/silver/*"),
            request("s3:ListBucket", BUCKET),
            "ImplicitDeny",
        ),
        (
            allow(Action="s3:*", NotResource=f"{BUCKET}/secret/*"),
            request("s3:GetObject", f"{BUCKET}/a"),
            "Allow",
        ),
        # StringEquals / StringLike: any listed value; an absent key fails.
        (
            allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"kms:ViaService": ["s3.x", "sqs.x"]}},
            ),
            request("kms:Decrypt", "*", **{"kms:ViaService": "sqs.x"}),
            "Allow",
        ),
        (
            allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"kms:ViaService": ["s3.x", "sqs.x"]}},
            ),
            request("kms:Decrypt", "*", **{"kms:ViaService": "lambda.x"}),
            "ImplicitDeny",
        ),
        (
            allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"kms:ViaService": "s3.x"}},
            ),
            request("kms:Decrypt", "*"),
            "ImplicitDeny",
        ),
        (
            allow(
                Action="s3:ListBucket",
                Resource=BUCKET,
                Condition={"StringLike": {"s3:prefix": "bronze/*"}},
            ),
            request("s3:ListBucket", **{"s3:prefix": "bronze/x/"}),
            "Allow",
        ),
        (
            allow(
                Action="s3:ListBucket",
                Resource=BUCKET,
                Condition={"StringLike": {"s3:prefix": "bronze/*"}},
            ),
            request("s3:ListBucket", **{"s3:prefix": "gold/x/"}),
            "ImplicitDeny",
        ),
        # Condition key names are case-insensitive, values are not.
        (
            allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"KMS:viaservice": "s3.x"}},
            ),
            request("kms:Decrypt", "*", **{"kms:ViaService": "s3.x"}),
            "Allow",
        ),
        (
            allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={"StringEquals": {"kms:ViaService": "S3.x"}},
            ),
            request("kms:Decrypt", "*", **{"kms:ViaService": "s3.x"}),
            "ImplicitDeny",
        ),
        # Several keys and operators: all must hold.
        (
            allow(
                Action="kms:Decrypt",
                Resource="*",
                Condition={
                    "StringEquals": {"kms:ViaService": "s3.x", "kms:CallerAccount": "123456789012"}
                },
            ),
            request(
                "kms:Decrypt",
                "*",
                **{"kms:ViaService": "s3.x", "kms:CallerAccount": "999999999999"},
            ),
            "ImplicitDeny",
        ),
        # Negated operators and IfExists hold when the key is absent.
        (
            allow(
                Action="s3:*",
                Resource="*",
                Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},
            ),
            request("s3:GetObject"),
            "Allow",
        ),
        (
            allow(
                Action="s3:*",
                Resource="*",
                Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}},
            ),
            request("s3:GetObject"),
            "Allow",
        ),
        (
            allow(
                Action="s3:*",
                Resource="*",
                Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}},
            ),
            request("s3:GetObject", **{"aws:SourceVpce": "vpce-2"}),
            "ImplicitDeny",
        ),
        # ArnLike on an encryption-context key.
        (
            allow(
                Action="kms:Encrypt",
                Resource="*",
                Condition={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:r:1:log-group:*"
                    }
                },
            ),
            request(
                "kms:Encrypt",
                "*",
                **{"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:r:1:log-group:/a"},
            ),
            "Allow",
        ),
        (
            allow(
                Action="kms:Encrypt",
                Resource="*",
                Condition={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:r:1:log-group:*"
                    }
                },
            ),
            request(
                "kms:Encrypt",
                "*",
                **{"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:r:2:log-group:/a"},
            ),
            "ImplicitDeny",
        ),
        # ForAnyValue / ForAllValues on a multi-valued key.
        (
            allow(
                Action="dynamodb:Query",
                Resource="*",
                Condition={"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["a"]}},
            ),
            request("dynamodb:Query", "*", **{"dynamodb:Attributes": ["b", "a"]}),
            "Allow",
        ),
        (
            allow(
                Action="dynamodb:Query",
                Resource="*",
                Condition={"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a"]}},
            ),
            request("dynamodb:Query", "*", **{"dynamodb:Attributes": ["b", "a"]}),
            "ImplicitDeny",
        ),
        (
            allow(
                Action="dynamodb:Query",
                Resource="*",
                Condition={"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a"]}},
            ),
            request("dynamodb:Query", "*"),
            "Allow",
        ),
        (
            allow(
                Action="dynamodb:Query",
                Resource="*",
                Condition={"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["a"]}},
            ),
            request("dynamodb:Query", "*"),
            "ImplicitDeny",
        ),
    ],
)
def test_one_statement(statement: dict[str, Any], req: Request, expected: str) -> None:
    assert decide([statement], req) == expected


def test_an_explicit_deny_wins_over_any_allow() -> None:
    statements = [
        allow(Action="s3:*", Resource="*"),
        deny(Action="s3:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
    ]

    assert (
        decide(statements, request("s3:GetObject", **{"aws:SecureTransport": "false"}))
        == "ExplicitDeny"
    )
    assert decide(statements, request("s3:GetObject", **{"aws:SecureTransport": "true"})) == "Allow"
    assert decide([], request("s3:GetObject")) == "ImplicitDeny"


def test_a_principal_names_a_role_a_service_or_an_account() -> None:
    role = allow(Principal={"AWS": ROLE}, Action="kms:Decrypt", Resource="*")
    service = allow(
        Principal={"Service": "logs.us-east-1.amazonaws.com"}, Action="kms:Decrypt", Resource="*"
    )
    account = allow(Principal=ROOT, Action="kms:Decrypt", Resource="*")

    assert decide([role], Request(ROLE, "kms:Decrypt", "*")) == "Allow"
    assert decide([service], Request(ROLE, "kms:Decrypt", "*")) == "ImplicitDeny"
    assert decide([service], Request("logs.us-east-1.amazonaws.com", "kms:Decrypt", "*")) == "Allow"
    assert decide([account], Request(ROLE, "kms:Decrypt", "*")) == "Allow"
    assert decide([account], Request(OTHER_ACCOUNT_ROLE, "kms:Decrypt", "*")) == "ImplicitDeny"


def test_a_key_policy_naming_the_account_needs_the_callers_iam_policy_too() -> None:
    key_policy = [allow(Principal=ROOT, Action="kms:Decrypt", Resource="*")]
    decrypt = Request(ROLE, "kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k")

    assert kms_decision(key_policy, [], decrypt) == "ImplicitDeny"
    assert kms_decision(key_policy, [allow(Action="kms:Decrypt", Resource="*")], decrypt) == "Allow"
    assert kms_decision(key_policy, None, decrypt) == "Allow"  # an operator's own IAM policy
    assert kms_decision([], [allow(Action="kms:Decrypt", Resource="*")], decrypt) == "ImplicitDeny"


def test_a_key_policy_naming_the_principal_needs_no_iam_policy() -> None:
    key_policy = [allow(Principal={"AWS": ROLE}, Action="kms:Decrypt", Resource="*")]
    decrypt = Request(ROLE, "kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k")

    assert kms_decision(key_policy, [], decrypt) == "Allow"
    assert kms_decision(key_policy, [deny(Action="kms:*", Resource="*")], decrypt) == "ExplicitDeny"


@pytest.mark.parametrize(
    "statement",
    [
        allow(Action="s3:*", Resource="*", Condition={"NumericLessThan": {"s3:max-keys": "10"}}),
        allow(
            Action="s3:*",
            Resource="*",
            Condition={"DateGreaterThan": {"aws:CurrentTime": "2026-01-01"}},
        ),
        allow(NotPrincipal={"AWS": ROLE}, Action="s3:*", Resource="*"),
        allow(
            Principal={"Federated": "cognito-identity.amazonaws.com"}, Action="s3:*", Resource="*"
        ),
    ],
)
def test_what_the_evaluator_does_not_know_is_refused_not_guessed(statement: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"not supported|unsupported"):
        decide([statement], request("s3:GetObject", **{"s3:max-keys": "5", "aws:CurrentTime": "x"}))
