"""infra/api.yaml's web ACL: what each rate rule counts, read as WAF reads it (waf_eval.py).

- Rate-based rules, custom keys (a header) and evaluation windows:
  https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-aggregation-options.html
- RateLimitHeader (the per-token key):
  https://docs.aws.amazon.com/waf/latest/APIReference/API_RateLimitHeader.html
"""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from api.config import Settings
from infra.cfn import INFRA, Tag, load_template
from infra.deploy.stacks import STAGES
from tests.infra.waf_eval import Request, aggregation_key

# Blueprints whose POST routes take a password, a code or a token, or mail a code.
CREDENTIAL_BLUEPRINTS = ("auth", "users")
TOKEN = "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"


def _credential_paths() -> set[str]:
    app = create_app(Settings())
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and rule.endpoint.split(".")[0] in CREDENTIAL_BLUEPRINTS
        and not rule.arguments
    }


def _template() -> dict[str, Any]:
    return load_template(INFRA / "api.yaml")


def _rule(name: str) -> dict[str, Any]:
    (acl,) = [r for r in _template()["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    (rule,) = [r for r in acl["Properties"]["Rules"] if r["Name"] == name]
    return rule


def _rate(name: str) -> dict[str, Any]:
    rule = _rule(name)
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    statement: dict[str, Any] = rule["Statement"]["RateBasedStatement"]
    return statement


def _variants(path: str) -> list[str]:
    """How one route can be spelled so that API Gateway still routes it there."""
    last = path[-1]
    return [
        path,
        f"/dev{path}",  # the execute-api domain carries the stage first
        f"{path[:-1]}%{ord(last):02x}",  # /auth/tok%65n
        f"/dev{path[:-1]}%{ord(last):02X}",
        path.upper(),
    ]


def test_the_credential_routes_are_the_ones_we_know() -> None:
    assert {
        "/auth/token",
        "/auth/refresh",
        "/auth/password/forgot",
        "/auth/password/reset",
        "/users",
        "/users/confirm",
        "/users/confirm/resend",
    } <= _credential_paths()


@pytest.mark.parametrize("path", sorted(_credential_paths()))
def test_every_spelling_of_every_credential_path_is_counted(path: str) -> None:
    rate = _rate("auth-endpoints-rate")

    for spelled in _variants(path):
        assert aggregation_key(rate, Request("POST", spelled)) == ("198.51.100.7",), spelled


def test_the_credential_limit_leaves_other_calls_alone() -> None:
    rate = _rate("auth-endpoints-rate")

    for method, path in (("GET", "/users"), ("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/")):
        assert aggregation_key(rate, Request(method, path)) is None, (method, path)


def test_every_path_is_counted_per_address() -> None:
    rate = _rate("per-address-rate")

    for path in ("/health", "/tasks", "/auth/token", "/docs"):
        assert aggregation_key(rate, Request("GET", path, ip="203.0.113.9")) == ("203.0.113.9",)


def test_signed_in_calls_are_counted_per_token_whatever_the_address() -> None:
    rate = _rate("per-token-rate")
    signed_in = {"Authorization": TOKEN}

    keys = {
        aggregation_key(rate, Request("GET", "/tasks", ip=ip, headers=signed_in))
        for ip in ("203.0.113.9", "198.51.100.7")
    }
    assert keys == {(TOKEN,)}
    other = aggregation_key(rate, Request("GET", "/tasks", headers={"Authorization": TOKEN + "x"}))
    assert other == (TOKEN + "x",)
    assert aggregation_key(rate, Request("GET", "/health")) is None  # the address rule's job


def test_one_address_alone_stays_below_every_stage_throttle() -> None:
    rate = _rate("per-address-rate")
    parameters = _template()["Parameters"]
    assert rate["Limit"] == Tag("Ref", "AddressRateLimit")
    per_second = parameters["AddressRateLimit"]["Default"] / rate["EvaluationWindowSec"]
    token = _rate("per-token-rate")
    token_per_second = parameters["TokenRateLimit"]["Default"] / token["EvaluationWindowSec"]

    assert per_second < min(stage.throttle_rate for stage in STAGES.values())
    assert token_per_second <= per_second
