"""Evaluate the WAFv2 statements our templates use against one request, as AWS documents them.

No engine stands in for WAF (moto stores web ACLs but evaluates no rule), so this reads the
statements the way the WAF developer guide describes them, for the subset the templates use:
byte and regex matches on the method, the URI path or one header, after text transformations;
And/Or/Not; and the aggregation key of a rate-based rule.

- Text transformations run in Priority order before matching:
  https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-transformation.html
- A request missing any custom aggregation key is not counted by the rule:
  https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-aggregation-options.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, still percent-encoded
    ip: str = "198.51.100.7"
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers.items() if k.lower() == name.lower()]
        return found[0] if found else None


TRANSFORMS = {
    "NONE": lambda text: text,
    "URL_DECODE": unquote,
    "LOWERCASE": str.lower,
}


def _transformed(text: str, transformations: list[dict[str, Any]]) -> str:
    for step in sorted(transformations, key=lambda t: int(t["Priority"])):
        text = TRANSFORMS[step["Type"]](text)
    return text


def _field(field_to_match: Mapping[str, Any], request: Request) -> str | None:
    (kind,) = field_to_match
    if kind == "Method":
        return request.method
    if kind == "UriPath":
        return request.path
    if kind == "SingleHeader":
        return request.header(field_to_match[kind]["Name"])
    raise NotImplementedError(kind)


def _byte_match(statement: Mapping[str, Any], text: str) -> bool:
    wanted = str(statement["SearchString"])
    constraint = statement["PositionalConstraint"]
    if constraint == "EXACTLY":
        return text == wanted
    if constraint == "STARTS_WITH":
        return text.startswith(wanted)
    if constraint == "ENDS_WITH":
        return text.endswith(wanted)
    if constraint == "CONTAINS":
        return wanted in text
    raise NotImplementedError(constraint)


def matches(statement: Mapping[str, Any], request: Request) -> bool:
    (kind,) = statement
    body = statement[kind]
    if kind == "AndStatement":
        return all(matches(s, request) for s in body["Statements"])
    if kind == "OrStatement":
        return any(matches(s, request) for s in body["Statements"])
    if kind == "NotStatement":
        return not matches(body["Statement"], request)
    if kind in ("ByteMatchStatement", "RegexMatchStatement"):
        value = _field(body["FieldToMatch"], request)
        if value is None:
            return False
        text = _transformed(value, body["TextTransformations"])
        if kind == "ByteMatchStatement":
            return _byte_match(body, text)
        return re.search(body["RegexString"], text) is not None
    raise NotImplementedError(kind)


def aggregation_key(rate_based: Mapping[str, Any], request: Request) -> tuple[str, ...] | None:
    """The instance a rate-based rule counts the request under; None if it is not counted."""
    scope = rate_based.get("ScopeDownStatement")
    if scope is not None and not matches(scope, request):
        return None
    kind = rate_based["AggregateKeyType"]
    if kind == "IP":
        return (request.ip,)
    if kind != "CUSTOM_KEYS":
        raise NotImplementedError(kind)
    key: list[str] = []
    for custom in rate_based["CustomKeys"]:
        (part,) = custom
        if part == "IP":
            key.append(request.ip)
        elif part == "Header":
            value = request.header(custom[part]["Name"])
            if value is None:
                return None
            key.append(_transformed(value, custom[part]["TextTransformations"]))
        else:
            raise NotImplementedError(part)
    return tuple(key)
