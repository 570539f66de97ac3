"""Limits on the unauthenticated endpoints: per client address, wrong passwords per email from
one address and from all, and code mails for everyone together."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from flask import Flask
from flask.testing import FlaskClient

from api import rate_limits
from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.config import Settings
from api.rate_limits import Limit, RateLimitCounter
from infra.local.stack import api_environment
from tests.api.conftest import PASSWORD, Account
from tests.faults import injected

COGNITO = "cognito-identity-provider"

PER_ADDRESS = 3
FAILURES = 2
CEILING = 4


NOW = time.time()


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows are fixed (minute, quarter hour): a test straddling one's end would see two."""
    monkeypatch.setattr(rate_limits, "_now", lambda: NOW)


def _seconds_left(window: int) -> int:
    return int(NOW // window * window + window - NOW) + 1


@pytest.fixture
def strict(engines: dict[str, str]) -> Flask:
    settings = Settings.from_env(engines)
    return create_app(
        replace(
            settings,
            rate_limit_per_address=PER_ADDRESS,
            sign_in_failure_limit=FAILURES,
            sign_in_failure_ceiling=CEILING,
        )
    )


def _address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"


def _refresh(client: FlaskClient, address: str, **environ: object) -> int:
    response = client.post(
        "/auth/refresh",
        json={"refresh_token": "garbage"},
        environ_base={"REMOTE_ADDR": address, **environ},
        headers={"X-Forwarded-For": str(uuid.uuid4())},  # never trusted
    )
    return response.status_code


def test_the_defaults_are_the_documented_ones_and_make_run_keeps_them() -> None:
    settings = Settings.from_env(
        api_environment("http://127.0.0.1:1", "http://127.0.0.1:2", "pool", "client", "s")
    )
    assert (settings.rate_limit_per_address, settings.sign_in_failure_limit) == (30, 10)
    assert settings.sign_in_failure_ceiling == 100
    assert settings.sign_in_failure_window_seconds == 15 * 60
    assert settings.code_email_limit == 40  # under Cognito's own sender's 50 a day


@pytest.mark.parametrize(
    ("environment", "limit"),
    [
        ({"STAGE": "dev"}, 40),
        ({"STAGE": "staging"}, 180),
        ({"STAGE": "prod"}, 10_000),
        ({"STAGE": "pr-123"}, 40),
        ({"STAGE": "prod", "CODE_EMAIL_LIMIT": "500"}, 500),
    ],
)
def test_the_code_mail_cap_is_per_stage(environment: dict[str, str], limit: int) -> None:
    assert Settings.from_env(environment).code_email_limit == limit


def test_an_address_over_its_budget_gets_429_with_retry_after_and_others_do_not(
    strict: Flask,
) -> None:
    client, address = strict.test_client(), _address()

    statuses = [_refresh(client, address) for _ in range(PER_ADDRESS)]
    limited = client.post(
        "/auth/refresh", json={"refresh_token": "x"}, environ_base={"REMOTE_ADDR": address}
    )

    assert statuses == [401] * PER_ADDRESS
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) == _seconds_left(60)
    assert _refresh(client, _address()) == 401


def test_behind_api_gateway_the_source_ip_counts_not_the_proxy(strict: Flask) -> None:
    client, proxy = strict.test_client(), _address()

    def via_gateway(source: str) -> int:
        event = {"requestContext": {"identity": {"sourceIp": source}}}
        return _refresh(client, proxy, **{"lambda.event": event})

    first = _address()
    assert [via_gateway(first) for _ in range(PER_ADDRESS + 1)][-1] == 429
    assert via_gateway(_address()) == 401  # same proxy, another caller


LIMITED_PATHS = (
    "/users",
    "/auth/token",
    "/auth/refresh",
    "/users/confirm",
    "/users/confirm/resend",
    "/auth/password/forgot",
    "/auth/password/reset",
    "/auth/password/change",
    "/auth/logout",
)


def test_every_credential_endpoint_is_limited(strict: Flask) -> None:
    spec = strict.test_client().get("/openapi.json").json
    for path in LIMITED_PATHS:
        assert "429" in spec["paths"][path]["post"]["responses"], path


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/users/confirm", {"email": "nobody@example.com", "code": "123456"}),
        ("/users/confirm/resend", {"email": "nobody@example.com"}),
        ("/auth/password/forgot", {"email": "nobody@example.com"}),
        ("/auth/password/reset",
         {"email": "nobody@example.com", "code": "123456", "new_password": "Battery-Staple-7"}),
    ],
)  # fmt: skip
def test_the_confirmation_and_password_endpoints_answer_429_past_the_address_budget(
    strict: Flask, path: str, body: dict[str, str]
) -> None:
    client, address = strict.test_client(), _address()

    def post() -> int:
        return client.post(path, json=body, environ_base={"REMOTE_ADDR": address}).status_code

    statuses = [post() for _ in range(PER_ADDRESS + 1)]

    assert all(status < 429 for status in statuses[:-1]), statuses
    assert statuses[-1] == 429


def test_the_count_lives_in_dynamodb_so_every_container_shares_it(
    strict: Flask, engines: dict[str, str]
) -> None:
    other_container = create_app(replace(Settings.from_env(engines), rate_limit_per_address=3))
    address = _address()

    assert _refresh(strict.test_client(), address) == 401
    assert _refresh(other_container.test_client(), address) == 401
    assert _refresh(strict.test_client(), address) == 401
    assert _refresh(other_container.test_client(), address) == 429


def test_an_ipv6_client_is_counted_by_its_64_so_rotating_addresses_does_not_help(
    strict: Flask,
) -> None:
    client, prefix = strict.test_client(), f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:1"

    statuses = [_refresh(client, f"{prefix}::{n + 1:x}") for n in range(PER_ADDRESS + 1)]

    assert statuses == [401] * PER_ADDRESS + [429]
    assert _refresh(client, f"{prefix[:-1]}2::1") == 401  # the neighbouring /64


@pytest.mark.parametrize(
    ("address", "subject"),
    [
        ("2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("198.51.100.7", "198.51.100.7"),
        ("unknown", "unknown"),
    ],
)
def test_an_address_is_counted_as_what_one_client_holds(address: str, subject: str) -> None:
    assert rate_limits.address_subject(address) == subject


def test_wrong_passwords_from_one_address_lock_the_email_for_that_address_only(
    strict: Flask, alice: Account
) -> None:
    client, attacker = strict.test_client(), _address()

    def sign_in(address: str, password: str) -> int:
        body = {"email": alice.email, "password": password}
        return client.post("/auth/token", json=body, environ_base={"REMOTE_ADDR": address})

    guesses = [sign_in(attacker, "Wrong-Guess-1").status_code for _ in range(FAILURES)]
    locked = sign_in(attacker, PASSWORD)

    assert guesses == [401] * FAILURES
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == _seconds_left(15 * 60)
    assert sign_in(_address(), PASSWORD).status_code == 200  # the owner, elsewhere


def test_wrong_passwords_from_many_addresses_lock_only_that_email_at_the_ceiling(
    strict: Flask, alice: Account, bob: Account
) -> None:
    client = strict.test_client()

    def sign_in(account: Account, password: str) -> int:
        environ = {"REMOTE_ADDR": _address()}  # a botnet: every guess from a new address
        body = {"email": account.email, "password": password}
        return client.post("/auth/token", json=body, environ_base=environ).status_code

    assert [sign_in(alice, "Wrong-Guess-1") for _ in range(CEILING)] == [401] * CEILING
    locked = client.post(
        "/auth/token",
        json={"email": alice.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": _address()},
    )

    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == _seconds_left(15 * 60)
    assert sign_in(bob, PASSWORD) == 200


def test_ten_64s_of_one_56_cannot_lock_the_owner_out_at_their_own_address(
    app: Flask, alice: Account
) -> None:
    """The defaults: 10 failures per address, 20 per /56, 100 per email."""
    client, home = app.test_client(), f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:100::7"
    site = f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:{uuid.uuid4().int % 0xFF:02x}"

    def sign_in(address: str, password: str) -> int:
        body = {"email": alice.email, "password": password}
        return client.post("/auth/token", json=body, environ_base={"REMOTE_ADDR": address})

    assert sign_in(home, PASSWORD).status_code == 200
    guesses = [
        sign_in(f"{site}{n:02x}::{guess + 1:x}", f"Wrong-Guess-{guess}").status_code
        for n in range(10)
        for guess in range(10)
    ]
    owner = sign_in(home, PASSWORD)

    assert guesses.count(401) == 20  # the /56's budget, not the email's 100
    assert set(guesses[20:]) == {429}
    assert owner.status_code == 200, owner.json


def test_an_address_the_owner_signed_in_from_passes_a_ceiling_strangers_filled(
    strict: Flask, alice: Account
) -> None:
    client, home = strict.test_client(), _address()

    def sign_in(address: str, password: str) -> int:
        body = {"email": alice.email, "password": password}
        environ = {"REMOTE_ADDR": address}
        return client.post("/auth/token", json=body, environ_base=environ).status_code

    assert sign_in(home, PASSWORD) == 200
    botnet = [sign_in(_address(), "Wrong-Guess-1") for _ in range(CEILING)]

    assert botnet == [401] * CEILING
    assert sign_in(home, PASSWORD) == 200
    # The trade-off (ADR 0004): from an address never used before, the owner waits or resets.
    assert sign_in(_address(), PASSWORD) == 429


def test_cognitos_own_lockout_points_to_a_reset_and_is_not_counted(
    strict: Flask, alice: Account
) -> None:
    """cognito-local has no lockout: Cognito's answer is injected at the client boundary.
    Its message: https://docs.aws.amazon.com/cognito/latest/developerguide/authentication.html#authentication-flow-lockout-behavior
    """
    client, address = strict.test_client(), _address()
    body, environ = {"email": alice.email, "password": PASSWORD}, {"REMOTE_ADDR": address}
    lockout = ClientError(
        {"Error": {"Code": "NotAuthorizedException", "Message": "Password attempts exceeded"}},
        "InitiateAuth",
    )

    with injected(
        cognito_client(Settings.from_env().region), COGNITO, "InitiateAuth", error=lockout
    ):
        locked = [
            client.post("/auth/token", json=body, environ_base=environ) for _ in range(FAILURES)
        ]
    after = client.post("/auth/token", json=body, environ_base=environ)

    for answer in locked:
        assert answer.status_code == 429
        assert answer.json["type"] == "urn:tasklake:problem:password-attempts-exceeded"
        assert "/auth/password/forgot" in answer.json["detail"]
        assert int(answer.headers["Retry-After"]) > 0
    assert after.status_code == 200  # this address's failure budget is untouched


def test_successful_sign_ins_do_not_count_as_failures(strict: Flask, alice: Account) -> None:
    client = strict.test_client()

    def sign_in(password: str) -> int:
        body, environ = {"email": alice.email, "password": password}, {"REMOTE_ADDR": _address()}
        return client.post("/auth/token", json=body, environ_base=environ).status_code

    assert [sign_in(PASSWORD) for _ in range(FAILURES + 2)] == [200] * (FAILURES + 2)
    assert sign_in("Wrong-Guess-1") == 401


def test_a_new_window_starts_a_new_count(app: Flask) -> None:
    limit, subject, start = Limit("test-window", 1, 60), _address(), 1_800_000_000.0

    limit.consume(subject, now=start)
    with pytest.raises(Exception, match="Too many requests"):
        limit.consume(subject, now=start + 59)
    limit.consume(subject, now=start + 60)

    stored = list(RateLimitCounter.scan(RateLimitCounter.key.startswith("test-window#")))
    assert {item.hits for item in stored} == {1}
    assert all(item.expires_at.timestamp() > start for item in stored)
    assert subject not in {item.key for item in stored}  # stored hashed


CODE_MAILS = 3
CODE_MAILING = (
    ("/users", {"password": PASSWORD, "name": "Mailed"}),
    ("/users/confirm/resend", {}),
    ("/auth/password/forgot", {}),
)


@pytest.fixture
def mail_capped(engines: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """A cap of CODE_MAILS a day, on a day of its own: the cap is one count for every caller,
    so the other tests' mails today must not be in it."""
    own_day = NOW + 86_400 * (3650 + uuid.uuid4().int % 36_500)
    monkeypatch.setattr(rate_limits, "_now", lambda: own_day)
    settings = replace(Settings.from_env(engines), code_email_limit=CODE_MAILS)
    return create_app(settings)


def _mail_code(client: FlaskClient, path: str, extra: dict[str, str]) -> Any:
    body = {"email": f"mail-{uuid.uuid4().hex[:10]}@example.com", **extra}
    return client.post(path, json=body, environ_base={"REMOTE_ADDR": _address()})


def test_code_mails_share_one_cap_for_everyone_then_429_with_retry_after(
    mail_capped: Flask,
) -> None:
    client = mail_capped.test_client()

    mailed = [_mail_code(client, path, extra).status_code for path, extra in CODE_MAILING]
    refused = [_mail_code(client, path, extra) for path, extra in CODE_MAILING]

    assert mailed == [201, 202, 202]
    for answer in refused:  # each from a new address: the cap is not per caller
        assert answer.status_code == 429
        assert answer.content_type == "application/problem+json"
        assert "codes were emailed" in answer.json["detail"]
        assert (
            int(answer.headers["Retry-After"])
            == int(rate_limits._now() // 86_400 * 86_400 + 86_400 - rate_limits._now()) + 1
        )
    sign_in = client.post("/auth/token", json={"email": "x@example.com", "password": PASSWORD})
    assert sign_in.status_code == 401  # what sends no code is not capped


def test_a_request_refused_for_its_body_spends_no_code_mail(mail_capped: Flask) -> None:
    client = mail_capped.test_client()

    invalid = [client.post("/auth/password/forgot", json={"email": "not an email"})] * 5
    mailed = [_mail_code(client, "/auth/password/forgot", {}) for _ in range(CODE_MAILS)]

    assert {answer.status_code for answer in invalid} == {422}
    assert [answer.status_code for answer in mailed] == [202] * CODE_MAILS
