"""Hostile and wrong tokens are refused with 401 + WWW-Authenticate, and nothing leaks.

Valid-looking tokens are signed with cognito-local's own published key, so the
real verification path (JWKS fetch, kid lookup, RS256, claims) is exercised.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from infra.local import services
from tests.api.conftest import Account


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(account: Account, **overrides: Any) -> dict[str, Any]:
    claims = jwt.decode(account.tokens["access_token"], options={"verify_signature": False})
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(claims: dict[str, Any], key: Any, kid: str = "CognitoLocal") -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _assert_refused(client: FlaskClient, token: str) -> dict[str, Any]:
    response = client.get("/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body: dict[str, Any] = response.json
    return body


def test_a_genuine_token_is_accepted(
    client: FlaskClient, alice: Account, cognito_private_key: dict[str, str]
) -> None:
    token = _sign(_claims(alice), cognito_private_key["pem"])
    response = client.get("/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200  # the forging helper itself is sound


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a.b.c.d"],
)
def test_missing_or_malformed_authorization_is_401(client: FlaskClient, header: str) -> None:
    response = client.get("/tasks", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401(
    client: FlaskClient, alice: Account, cognito_private_key: dict[str, str]
) -> None:
    past = int(time.time()) - 3600
    token = _sign(_claims(alice, iat=past - 3600, exp=past), cognito_private_key["pem"])
    assert "expired" in _assert_refused(client, token)["detail"]


def test_tampered_payload_is_401(client: FlaskClient, alice: Account) -> None:
    header, _, signature = alice.tokens["access_token"].split(".")
    forged_payload = _b64(_claims(alice, sub="someone-else", **{"cognito:groups": ["admin"]}))
    _assert_refused(client, f"{header}.{forged_payload}.{signature}")


def test_alg_none_is_401(client: FlaskClient, alice: Account) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'CognitoLocal'})}.{_b64(_claims(alice))}."
    _assert_refused(client, token)


def test_hs256_signed_with_the_public_key_is_401(client: FlaskClient, alice: Account) -> None:
    # The classic algorithm-confusion attack: HMAC keyed with the RSA public key.
    public_pem = (
        services.NODE_MODULES / "cognito-local/lib/keys/cognitoLocal.public.json"
    ).read_text()
    header = {"alg": "HS256", "typ": "JWT", "kid": "CognitoLocal"}
    signing_input = f"{_b64(header)}.{_b64(_claims(alice))}".encode()
    signature = hmac.new(public_pem.encode(), signing_input, hashlib.sha256).digest()
    token = f"{signing_input.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    _assert_refused(client, token)


def test_token_signed_by_another_key_is_401(client: FlaskClient, alice: Account) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _assert_refused(client, _sign(_claims(alice), pem))
    _assert_refused(client, _sign(_claims(alice), pem, kid="unknown-kid"))


def test_id_token_is_not_an_access_token(client: FlaskClient, alice: Account) -> None:
    _assert_refused(client, alice.tokens["id_token"])


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "another-app-client"},
        {"token_use": "id"},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"},
        {"client_id": None},
    ],
)
def test_wrong_client_use_or_issuer_is_401(
    client: FlaskClient,
    alice: Account,
    cognito_private_key: dict[str, str],
    overrides: dict[str, Any],
) -> None:
    _assert_refused(client, _sign(_claims(alice, **overrides), cognito_private_key["pem"]))


def test_refresh_token_is_not_an_access_token(client: FlaskClient, alice: Account) -> None:
    response = client.get(
        "/tasks", headers={"Authorization": f"Bearer {alice.tokens['refresh_token']}"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("claim", ["jti", "origin_jti", "auth_time"])
def test_a_token_that_names_no_session_is_401(
    client: FlaskClient, alice: Account, cognito_private_key: dict[str, str], claim: str
) -> None:
    # It could never be revoked: logout and "sign out everywhere" would not reach it.
    token = _sign(_claims(alice, **{claim: None}), cognito_private_key["pem"])
    assert "Not an access token" in _assert_refused(client, token)["detail"]


# infra/api.yaml's per-token WAF rule counts each distinct Authorization value
# (https://docs.aws.amazon.com/waf/latest/APIReference/API_RateLimitHeader.html). If the API
# took one token under many spellings, one client could send it under as many keys.
@pytest.mark.parametrize(
    "spelling",
    [
        "Bearer  {token}",
        "Bearer\t{token}",
        "Bearer {token},",
        "Bearer {token}, Basic {nonce}",
        "Basic {nonce}, Bearer {token}",
        "Bearer {token}=",
    ],
)
def test_a_token_is_taken_in_one_spelling_only(
    client: FlaskClient, alice: Account, spelling: str
) -> None:
    header = spelling.format(token=alice.tokens["access_token"], nonce=uuid.uuid4().hex)

    response = client.get("/tasks", headers={"Authorization": header})

    assert response.status_code == 401, response.json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/tasks", headers=alice.auth).status_code == 200
