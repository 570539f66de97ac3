"""Limits on the unauthenticated endpoints: per client address, wrong passwords per email from
an address, a /56, a /48 and all (but not at an address the email signed in from before), code
mails per requester and per recipient (but not on a device the email signed in on), and mail
for everyone together as an alarm."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from flask import Flask
from flask.testing import FlaskClient

from api import rate_limits
from api.app import create_app
from api.auth.identity import _client as cognito_client
from api.config import Settings
from api.metrics import CODE_EMAILS_SENT, NAMESPACE
from api.rate_limits import Limit, RateLimitCounter
from infra.local.stack import api_environment
from tests.api.conftest import PASSWORD, Account, unique_email
from tests.faults import injected
from tests.infra.alarm_eval import alarm_state, from_emf
from tests.infra.monitoring_template import alarms, resolved_resources

COGNITO = "cognito-identity-provider"

PER_ADDRESS = 3
FAILURES = 2
CEILING = 4


NOW = time.time()


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows are fixed (minute, quarter hour): a test straddling one's end would see two."""
    monkeypatch.setattr(rate_limits, "_now", lambda: NOW)


def _seconds_left(window: int, now: float = NOW) -> int:
    return int(now // window * window + window - now) + 1


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
    assert (settings.code_emails_per_requester, settings.code_emails_per_recipient) == (10, 5)


@pytest.mark.parametrize(("stage", "threshold"), [("dev", 40), ("staging", 180), ("prod", 10_000)])
def test_mail_for_everyone_together_is_an_alarm_near_the_senders_quota(
    stage: str, threshold: int
) -> None:
    """Cognito's sender: 50 a day; SES's sandbox: 200
    (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-email.html)."""
    alarm = resolved_resources({"Environment": stage})["CodeEmailsAlarm"]["Properties"]

    assert (alarm["Namespace"], alarm["MetricName"]) == (NAMESPACE, CODE_EMAILS_SENT.name)
    assert alarm["Dimensions"] == [{"Name": "Stage", "Value": stage}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 86400, threshold)


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


def test_rotating_through_the_56s_of_one_48_stops_at_the_48s_budget(
    app: Flask, alice: Account
) -> None:
    """The defaults: 10 failures per address, 20 per /56, 40 per /48, 100 per email. Each
    guess from a new /56 of one /48 spends one of each; only the /48's budget runs out. The
    owner's home is in that /48 too: a known address passes its spent budget."""
    client = app.test_client()
    group = uuid.uuid4().int % 0xFFFF
    site = f"2001:db8:{group:x}"
    home = f"{site}:ff00::7"  # a /56 of the attacked /48 that no guess comes from

    def sign_in(address: str, password: str) -> int:
        body = {"email": alice.email, "password": password}
        environ = {"REMOTE_ADDR": address}
        return client.post("/auth/token", json=body, environ_base=environ).status_code

    assert sign_in(home, PASSWORD) == 200
    guesses = [sign_in(f"{site}:{n:02x}00::1", f"Wrong-Guess-{n}") for n in range(45)]

    assert guesses == [401] * 40 + [429] * 5
    assert sign_in(home, PASSWORD) == 200  # the owner's own address, in the spent /48
    # Another /48 is another party: the email's ceiling (100) is far off.
    assert sign_in(f"2001:db8:{group ^ 1:x}:1::1", PASSWORD) == 200


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


def test_a_device_the_owner_signed_in_on_passes_the_ceiling_from_any_address(
    strict: Flask, alice: Account
) -> None:
    """A phone's address changes; the device token it got at its last sign-in does not."""
    client = strict.test_client()

    def sign_in(password: str, device_token: str | None = None) -> Any:
        body = {"email": alice.email, "password": password}
        body |= {"device_token": device_token} if device_token else {}
        return client.post("/auth/token", json=body, environ_base={"REMOTE_ADDR": _address()})

    phone = sign_in(PASSWORD).json["device_token"]
    botnet = [sign_in("Wrong-Guess-1", device_token="guessed").status_code for _ in range(CEILING)]
    again = sign_in(PASSWORD, device_token=phone)

    assert botnet == [401] * CEILING  # a token we never handed out counts for nothing
    assert again.status_code == 200
    assert again.json["device_token"] == phone
    assert sign_in(PASSWORD).status_code == 429  # a new device at a new address waits


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


# The documented defaults, which the test engines lift (tests/harness.py).
MAIL_BUDGETS = {"CODE_EMAILS_PER_REQUESTER": "10", "CODE_EMAILS_PER_RECIPIENT": "5"}


@pytest.fixture
def own_day(monkeypatch: pytest.MonkeyPatch) -> float:
    """A day (and hour) of its own, so no other test's code mails are in its counts."""
    day = NOW + 86_400 * (3650 + uuid.uuid4().int % 36_500)
    monkeypatch.setattr(rate_limits, "_now", lambda: day)
    return day


@pytest.fixture
def mailing(engines: dict[str, str], own_day: float) -> Flask:
    """The stage's mail budgets, in a stage that mails a code at sign-up as AWS's stages do."""
    environment = {**engines, **MAIL_BUDGETS, "REQUIRE_EMAIL_VERIFICATION": "true"}
    return create_app(Settings.from_env(environment))


def _ask(client: FlaskClient, path: str, email: str, address: str) -> Any:
    body = (
        {"email": email, "password": PASSWORD, "name": "M"}
        if path == "/users"
        else {"email": email}
    )
    return client.post(path, json=body, environ_base={"REMOTE_ADDR": address})


def test_one_address_mailing_strangers_spends_its_own_budget_not_everyones(
    mailing: Flask, alice: Account, emailed_code: Callable[[str], str]
) -> None:
    """The issue's sequence: 30 resets and 10 resends for unregistered emails from one address
    used to spend dev's 40 a day, and every sign-up and reset got 429 until midnight."""
    client, attacker = mailing.test_client(), _address()
    paths = ["/auth/password/forgot"] * 30 + ["/users/confirm/resend"] * 10

    asked = [_ask(client, path, unique_email(), attacker) for path in paths]
    signed_up = _ask(client, "/users", unique_email(), _address())
    reset = _ask(client, "/auth/password/forgot", alice.email, _address())

    assert [answer.status_code for answer in asked] == [202] * 10 + [429] * 30
    assert int(asked[-1].headers["Retry-After"]) == _seconds_left(3600, rate_limits._now())
    assert signed_up.status_code == 201
    assert reset.status_code == 202
    assert emailed_code(alice.email)  # the reset code went out


def test_rotating_through_a_48_does_not_multiply_the_requesters_budget(mailing: Flask) -> None:
    client, site = mailing.test_client(), f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}"

    # A new /56 of the same /48 for every request: 10 a /64, 20 a /56, 40 a /48.
    statuses = [
        _ask(client, "/auth/password/forgot", unique_email(), f"{site}:{n:02x}00::1").status_code
        for n in range(45)
    ]
    neighbour = f"2001:db8:{(uuid.uuid4().int % 0xFFFF) ^ 1:x}:100::1"

    assert statuses == [202] * 40 + [429] * 5
    assert _ask(client, "/auth/password/forgot", unique_email(), neighbour).status_code == 202


def test_rotating_through_the_64s_of_a_56_stops_at_the_56s_mail_budget(
    mailing: Flask,
) -> None:
    group = uuid.uuid4().int % 0xFFFF
    client, subscriber = mailing.test_client(), f"2001:db8:{group:x}:12"

    # A new /64 of the same /56 for every request: 10 a /64, 20 a /56.
    statuses = [
        _ask(client, "/auth/password/forgot", unique_email(), f"{subscriber}{n:02x}::1").status_code
        for n in range(25)
    ]
    next_56 = f"2001:db8:{group:x}:1300::1"  # the same /48, whose 40 are not spent

    assert statuses == [202] * 20 + [429] * 5
    assert _ask(client, "/auth/password/forgot", unique_email(), next_56).status_code == 202


def test_one_recipient_gets_its_budget_and_the_answers_do_not_tell_if_it_exists(
    mailing: Flask, alice: Account
) -> None:
    client = mailing.test_client()

    def from_everywhere(email: str) -> list[tuple[int, Any]]:
        answers = [_ask(client, "/auth/password/forgot", email, _address()) for _ in range(6)]
        return [(answer.status_code, answer.json) for answer in answers]

    existing, unknown = from_everywhere(alice.email), from_everywhere(unique_email())

    assert [status for status, _ in existing] == [202] * 5 + [429]
    assert existing == unknown


def _forgot(client: FlaskClient, email: str, address: str, device_token: str) -> Any:
    body = {"email": email, "device_token": device_token}
    return client.post("/auth/password/forgot", json=body, environ_base={"REMOTE_ADDR": address})


def test_strangers_spending_a_recipients_budget_do_not_hold_back_the_owners_reset(
    mailing: Flask,
    alice: Account,
    emailed_code: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The recipient's budget counts every requester, so five strangers' asks used to make the
    owner's own reset wait the hour; on a device the email signed in on, it goes out."""
    client = mailing.test_client()
    body = {"email": alice.email, "password": PASSWORD}
    phone = client.post("/auth/token", json=body, environ_base={"REMOTE_ADDR": _address()})

    strangers = [_ask(client, "/auth/password/forgot", alice.email, _address()) for _ in range(6)]
    strangers_code, _ = emailed_code(alice.email), _mails_sent(capsys)
    owner = _forgot(client, alice.email, _address(), phone.json["device_token"])

    assert [answer.status_code for answer in strangers] == [202] * 5 + [429]
    assert owner.status_code == 202
    # The strangers' asks mailed codes too: the owner's own ask must have sent one more.
    assert _mails_sent(capsys) == [1]
    assert emailed_code(alice.email) != strangers_code
    # A token never handed out, or none: the trade-off ADR 0004 states.
    assert _forgot(client, alice.email, _address(), "guessed").status_code == 429
    assert _ask(client, "/auth/password/forgot", alice.email, _address()).status_code == 429


def test_behind_the_owners_address_a_spent_budget_does_not_tell_if_the_account_exists(
    mailing: Flask, alice: Account
) -> None:
    """Everyone behind a shared IPv4 (an office, carrier NAT) holds the owner's address, and
    only an existing account has signed in anywhere: sparing the address told them apart."""
    client, home, nobody = mailing.test_client(), _address(), unique_email()
    body = {"email": alice.email, "password": PASSWORD}
    signed_in = client.post("/auth/token", json=body, environ_base={"REMOTE_ADDR": home})
    for email in (alice.email, nobody):
        for _ in range(5):
            assert _ask(client, "/auth/password/forgot", email, _address()).status_code == 202

    existing = _ask(client, "/auth/password/forgot", alice.email, home)
    unknown = _ask(client, "/auth/password/forgot", nobody, home)

    assert signed_in.status_code == 200
    assert (existing.status_code, existing.json) == (unknown.status_code, unknown.json)
    assert existing.status_code == 429


def _mails_sent(capsys: pytest.CaptureFixture[str]) -> list[float]:
    """CodeEmailsSent of each request's metrics line since the last call (0 when absent)."""
    lines = capsys.readouterr().out.splitlines()
    documents = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    return [document.get(CODE_EMAILS_SENT.name, 0) for document in documents]


def test_only_mail_that_is_actually_sent_is_counted_for_the_alarm(
    mailing: Flask, alice: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cognito answers unknown emails as if it mailed them (PreventUserExistenceErrors), so the
    recipient's state decides: a reset for a confirmed account, a resend for an unconfirmed
    one, and every sign-up where the stage verifies emails."""
    client, newcomer = mailing.test_client(), unique_email()
    _mails_sent(capsys)

    requests = [
        ("/auth/password/forgot", unique_email(), 202, 0),
        ("/users/confirm/resend", unique_email(), 202, 0),
        ("/auth/password/forgot", alice.email, 202, 1),
        ("/users/confirm/resend", alice.email, 202, 0),  # confirmed already: no code
        ("/users", newcomer, 201, 1),
        ("/users/confirm/resend", newcomer, 202, 1),
        ("/auth/password/forgot", newcomer, 202, 0),  # unconfirmed: no reset code
    ]
    for path, email, status, mailed in requests:
        assert _ask(client, path, email, _address()).status_code == status, (path, email)
        assert _mails_sent(capsys) == [mailed], (path, email)


def test_a_stack_that_mails_no_code_at_sign_up_spends_no_mail_budget_on_it(
    engines: dict[str, str], own_day: float, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make run`: cognito-local mails nothing and sign-up confirms at once; the 41st local
    sign-up of the day used to get 429 until midnight UTC."""
    local = create_app(Settings.from_env({**engines, **MAIL_BUDGETS}))
    client, developer = local.test_client(), _address()

    statuses = [_ask(client, "/users", unique_email(), developer).status_code for _ in range(41)]

    assert statuses == [201] * 41
    assert set(_mails_sent(capsys)) == {0}


def test_a_request_refused_for_its_body_spends_no_code_mail(mailing: Flask) -> None:
    client, address = mailing.test_client(), _address()

    invalid = [
        client.post(
            "/auth/password/forgot",
            json={"email": "not an email"},
            environ_base={"REMOTE_ADDR": address},
        )
        for _ in range(5)
    ]
    mailed = [_ask(client, "/auth/password/forgot", unique_email(), address) for _ in range(10)]

    assert {answer.status_code for answer in invalid} == {422}
    assert [answer.status_code for answer in mailed] == [202] * 10


def test_the_dev_alarm_fires_on_40_mails_sent_not_on_any_number_asked_for_strangers(
    mailing: Flask, alice: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    """The EMF lines real requests print, judged as infra/monitoring.yaml's alarm would."""
    client, alarm = mailing.test_client(), alarms({"Environment": "dev"})["CodeEmailsAlarm"]
    capsys.readouterr()

    strangers = [
        _ask(client, "/auth/password/forgot", unique_email(), _address()) for _ in range(60)
    ]
    asked = from_emf(capsys.readouterr().out.splitlines())
    sign_ups = [_ask(client, "/users", unique_email(), _address()) for _ in range(40)]
    sent = from_emf(capsys.readouterr().out.splitlines())
    now = datetime.now(UTC) + timedelta(seconds=1)

    assert {answer.status_code for answer in strangers} == {202}
    assert {answer.status_code for answer in sign_ups} == {201}
    assert alarm_state(alarm, asked, now) == "OK"
    assert alarm_state(alarm, asked + sent, now) == "ALARM"
    # An alarm, not a wall: the day's 41st mail, a password reset, still goes out.
    assert _ask(client, "/auth/password/forgot", alice.email, _address()).status_code == 202
    assert _mails_sent(capsys) == [1]
