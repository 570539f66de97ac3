"""Limits on the unauthenticated endpoints, counted in DynamoDB so they hold across containers.

Fixed windows: one item per (rule, subject, window), bumped by one atomic UpdateItem
(`ADD hits 1` on the condition that the window's budget is not spent) and removed by
TTL once the window has passed. Subjects (client addresses, emails) are stored hashed.

| rule                     | subject                  | default                  |
|--------------------------|--------------------------|--------------------------|
| `<endpoint>`             | client address           | 30 requests per minute   |
| `sign-in-failures`       | email and client address | 10 failures per 15 min   |
| `sign-in-failures-56`    | email and IPv6 /56       | 20 failures per 15 min   |
| `sign-in-failures-48`    | email and IPv6 /48       | 40 failures per 15 min   |
| `sign-in-failures-email` | email                    | 100 failures per 15 min  |
| `code-emails-requester`  | client address           | 10 code mails an hour    |
| `code-emails-requester-56`, `-48` | IPv6 /56, /48   | 20, 40 code mails an hour |
| `code-emails-recipient`  | email (not on a known device) | 5 code mails an hour |

A client address is an IPv4 address, or an IPv6 address's /64: one subscriber usually holds
a whole /64 and can rotate through it, and often a /56 or /48 too. Wrong passwords from one
address lock the email for that address only; the wider budgets and the per-email ceiling
stop a botnet guessing one password, but never where the email signed in from before
(api/auth/known_sign_ins.py): strangers' failures cannot lock the owner out there
(docs/adr/0004-api-conventions.md). A sign-in reserves a slot of each before asking Cognito,
so concurrent guesses cannot overshoot, and gives them back when the password was right.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from flask_jwt_extended import get_jwt_identity
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from api import dependencies
from api.auth import known_sign_ins
from api.caller import caller_ip
from api.problems import ApiProblem, TooManyRequests, Unauthorized
from api.smorest import Blueprint
from api.storage import BaseModel, conditional_update

F = TypeVar("F", bound=Callable[..., Any])
SIGN_IN_FAILURES = "sign-in-failures"
CODE_EMAILS_PER_REQUESTER = "code-emails-requester"
CODE_EMAILS_PER_RECIPIENT = "code-emails-recipient"
MAIL_REFUSAL = "Too many codes were asked for; retry after the time Retry-After gives"
TOO_MANY = "Too many requests; retry after the time Retry-After gives"
SIGN_IN_FAILURES_PER_EMAIL = "sign-in-failures-email"
IPV6_SUBSCRIBER_PREFIX = 64
# Wider IPv6 blocks one party often holds, a subscriber's /56 and a site's /48, and how many
# times an address's budget each gets.
WIDER_IPV6_BUDGETS = ((56, 2), (48, 4))
CODE_EMAIL_WINDOW_SECONDS = 3600


def _now() -> float:
    return time.time()


class RateLimitCounter(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "rate-limits"

    # "<rule>#<sha256 of the subject>#<window start, epoch seconds>"
    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute()
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Limit:
    rule: str
    max_hits: int
    window_seconds: int
    refusal: str = TOO_MANY

    def _window(self, subject: str, now: float) -> tuple[RateLimitCounter, int]:
        start = int(now) // self.window_seconds * self.window_seconds
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return RateLimitCounter(f"{self.rule}#{digest}#{start}"), start + self.window_seconds

    def consume(self, subject: str, *, now: float | None = None) -> None:
        """Count one hit for `subject`, or raise TooManyRequests when its window is spent."""
        now = _now() if now is None else now
        counter, ends = self._window(subject, now)
        counted = conditional_update(
            counter,
            [
                RateLimitCounter.hits.add(1),
                RateLimitCounter.expires_at.set(datetime.fromtimestamp(ends, UTC)),
            ],
            condition=RateLimitCounter.hits.does_not_exist()
            | (RateLimitCounter.hits < self.max_hits),
        )
        if not counted:
            raise TooManyRequests(self.refusal, retry_after=int(ends - now) + 1)

    def give_back(self, subject: str, *, now: float) -> None:
        counter, _ = self._window(subject, now)
        # Refused: the window's item is already gone, so there is nothing to give back.
        conditional_update(
            counter, [RateLimitCounter.hits.add(-1)], condition=RateLimitCounter.hits > 0
        )


def client_address() -> str:
    """The caller's address (api/caller.py) as the subject its limits count (`address_subject`)."""
    return address_subject(caller_ip() or "unknown")


def address_subject(address: str) -> str:
    """What one client controls: an IPv4 address, or the /64 an IPv6 address is in."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_SUBSCRIBER_PREFIX}", strict=False))
    return str(ip)


def per_client_address(blp: Blueprint, endpoint: str) -> Callable[[F], F]:
    """Limit each client address on this endpoint (RATE_LIMIT_PER_ADDRESS a minute); 429 after."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            settings = dependencies.settings()
            Limit(endpoint, settings.rate_limit_per_address, 60).consume(client_address())
            return view(*args, **kwargs)

        documented: F = blp.alt_response(429, description="Too many requests from this address")(
            limited
        )
        return documented

    return decorate


def per_signed_in_user[F: Callable[..., Any]](endpoint: str) -> Callable[[F], F]:
    """Limit each signed-in user on this endpoint (RATE_LIMIT_PER_ADDRESS a minute), however
    many addresses their token is used from; 429 after. Below `jwt_required`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            per_minute = dependencies.settings().rate_limit_per_address
            Limit(f"{endpoint}-user", per_minute, 60).consume(str(get_jwt_identity()))
            return view(*args, **kwargs)

        return cast(F, limited)

    return decorate


def spend_code_email_budgets(email: str, device_token: str | None = None) -> None:
    """Count one code mail asked for, from this client and to `email`; 429 past either budget.

    The requester's budgets come first (its address, and for IPv6 its /56 and /48, which one
    party often holds whole), so one client cannot use up a recipient's. A spent recipient's
    budget does not refuse a device the email signed in on (`device_token`, known_sign_ins),
    so strangers cannot hold back the owner's reset. Not its address: anyone behind a shared
    IPv4 holds that too, and only existing accounts have one, so the answer there would tell
    whether the account exists. Only the token's holder can tell 202 from 429; to everyone
    else the answers never differ. Mail for everyone together is not limited: the identity
    provider counts what it actually sends (`metrics.CODE_EMAILS_SENT`) and the monitoring
    stack alarms on it (ADR 0004).
    """
    settings, window = dependencies.settings(), CODE_EMAIL_WINDOW_SECONDS
    per_requester, address = settings.code_emails_per_requester, client_address()
    budgets = [(Limit(CODE_EMAILS_PER_REQUESTER, per_requester, window, MAIL_REFUSAL), address)]
    for prefix, times, network in _wider_networks(address):
        rule = f"{CODE_EMAILS_PER_REQUESTER}-{prefix}"
        budgets.append((Limit(rule, per_requester * times, window, MAIL_REFUSAL), network))
    for limit, subject in budgets:
        limit.consume(subject)
    per_recipient, recipient = settings.code_emails_per_recipient, email.strip().lower()
    try:
        Limit(CODE_EMAILS_PER_RECIPIENT, per_recipient, window, MAIL_REFUSAL).consume(recipient)
    except TooManyRequests:
        # Strangers' asks count too: on a device the email signed in on, its owner still
        # gets a code (within this address's own budgets).
        if not (device_token and known_sign_ins.is_known_device(recipient, device_token)):
            raise


def _failure_reservations(email: str, address: str, known: bool) -> list[tuple[Limit, str]]:
    """The failure budgets a sign-in of `email` from `address` must find room in.

    From an address or device the email signed in from before (`known`), only the address's
    own: other people's failures must not lock the owner out where they always sign in. From
    anywhere else, also the email's budget per /56 and /48 (one subscriber's and one site's
    usual IPv6 allocation) and its ceiling over all addresses.
    """
    settings = dependencies.settings()
    window = settings.sign_in_failure_window_seconds
    per_address = settings.sign_in_failure_limit
    reservations = [(Limit(SIGN_IN_FAILURES, per_address, window), f"{email}#{address}")]
    if known:
        return reservations
    for prefix, times, network in _wider_networks(address):
        limit = Limit(f"{SIGN_IN_FAILURES}-{prefix}", per_address * times, window)
        reservations.append((limit, f"{email}#{network}"))
    ceiling = Limit(SIGN_IN_FAILURES_PER_EMAIL, settings.sign_in_failure_ceiling, window)
    return [*reservations, (ceiling, email)]


def _wider_networks(subject: str) -> list[tuple[int, int, str]]:
    """(prefix, budget multiple, network) of each WIDER_IPV6_BUDGETS block an IPv6 client's
    /64 lies in; none for an IPv4 client."""
    try:
        network = ipaddress.ip_network(subject)
    except ValueError:
        return []
    if network.version != 6:
        return []
    return [
        (prefix, times, str(network.supernet(new_prefix=prefix)))
        for prefix, times in WIDER_IPV6_BUDGETS
    ]


@contextmanager
def counting_sign_in_failures(email: str, device_token: str | None) -> Iterator[str]:
    """Reserve a failure in each of the sign-in's budgets (`_failure_reservations`), 429 when
    one is spent; a wrong password keeps them, anything else gives them back. Yields the
    device token to hand out: a right password makes this address and device known."""
    address = client_address()
    if not (device_token and known_sign_ins.is_known_device(email, device_token)):
        device_token = None  # only a token we handed out counts, or is kept
    known = bool(device_token) or known_sign_ins.is_known_address(email, address)
    handed_out = device_token or known_sign_ins.new_device_token()
    reservations = _failure_reservations(email, address, known)
    now = _now()
    taken: list[tuple[Limit, str]] = []

    def give_back() -> None:
        for limit, subject in taken:
            limit.give_back(subject, now=now)

    try:
        for limit, subject in reservations:
            limit.consume(subject, now=now)
            taken.append((limit, subject))
    except TooManyRequests:
        give_back()  # the attempt is not made: the slots already taken are not spent
        raise
    try:
        yield handed_out
    except Unauthorized:
        raise  # a wrong password: the slots stay taken
    except ApiProblem:
        give_back()  # not the caller's failure (Cognito down, its own lockout, a reset...)
        raise
    give_back()
    known_sign_ins.remember(email, address, handed_out)
