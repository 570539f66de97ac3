"""IAM's decision on one request against policy statements, for the subset our templates use.

moto accepts every call whatever the key policy or the role says, so the templates' policies are
evaluated here instead, as the IAM user guide's "Policy evaluation logic" describes it:

- a statement applies when its Principal (resource policies only), Action or NotAction, Resource
  or NotResource and every Condition match the request;
- an explicit Deny wins over any Allow; with no applicable Allow the request is implicitly denied;
- Action matches case-insensitively, Resource case-sensitively, both with `*` and `?` wildcards;
- a condition block holds when every operator holds, an operator when every key holds, a key when
  any of the policy's values matches; a key absent from the request fails a positive operator and
  satisfies a negated one (`StringNotEquals`…) or an `…IfExists` one; `ForAnyValue:` needs one
  request value to match, `ForAllValues:` every request value (true when the key is absent).

Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike, StringNotLike,
ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool. Anything else (NotPrincipal, numeric or date
operators, policy variables) raises ValueError instead of being guessed at.

A KMS key policy that names the account (`arn:aws:iam::<account>:root`) delegates to IAM: the
principal's own IAM policy must allow the request as well (`kms_decision`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
Statement = Mapping[str, Any]

_STRING_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda value, pattern: value == pattern, False),
    "StringNotEquals": (lambda value, pattern: value == pattern, True),
    "StringEqualsIgnoreCase": (lambda value, pattern: value.lower() == pattern.lower(), False),
    "StringLike": (lambda value, pattern: _glob(pattern).fullmatch(value) is not None, False),
    "StringNotLike": (lambda value, pattern: _glob(pattern).fullmatch(value) is not None, True),
    "ArnEquals": (lambda value, pattern: value == pattern, False),
    "ArnNotEquals": (lambda value, pattern: value == pattern, True),
    "ArnLike": (lambda value, pattern: _glob(pattern).fullmatch(value) is not None, False),
    "ArnNotLike": (lambda value, pattern: _glob(pattern).fullmatch(value) is not None, True),
    "Bool": (lambda value, pattern: value.lower() == pattern.lower(), False),
}


@dataclass(frozen=True)
class Request:
    """One authorization request: who, what, on which resource, with which context keys."""

    principal: str  # an IAM principal's ARN, or a service principal such as logs.<region>…
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise ValueError(f"unsupported Principal {principal!r}")
    for kind, names in principal.items():
        for name in _listed(names):
            if kind == "Service" and name == request.principal:
                return True
            if kind == "AWS" and name in {"*", request.principal}:
                return True
            account = _root_account(name) if kind == "AWS" else None
            if account and _account_of(request.principal) == account:
                return True
            if kind not in {"Service", "AWS"}:
                raise ValueError(f"unsupported Principal type {kind!r}")
    return False


def _root_account(arn: str) -> str | None:
    match = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", arn)
    return match.group(1) if match else None


def _account_of(arn: str) -> str | None:
    match = re.fullmatch(r"arn:[^:]+:(?:iam|sts)::(\d{12}):.+", arn)
    return match.group(1) if match else None


def _matches_any(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    return any(
        _glob(pattern, ignore_case=ignore_case).fullmatch(value) for pattern in _listed(patterns)
    )


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    if name not in _STRING_OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not supported")
    compare, negated = _STRING_OPERATORS[name]
    context = {k.lower(): v for k, v in request.context.items()}
    if key.lower() not in context:
        if qualifier == "ForAllValues":
            return True
        return qualifier != "ForAnyValue" and (negated or if_exists)
    values = _listed(context[key.lower()])
    patterns = [str(pattern) for pattern in _listed(expected)]

    def matches(value: str) -> bool:
        return any(compare(value, pattern) for pattern in patterns)

    if qualifier == "ForAllValues":
        found = all(matches(value) for value in values)
    elif qualifier in {"ForAnyValue", ""}:
        found = any(matches(value) for value in values)
    else:
        raise ValueError(f"condition qualifier {qualifier!r} is not supported")
    return not found if negated else found


def applies(statement: Statement, request: Request) -> bool:
    """Whether the statement's principal, action, resource and conditions all match."""
    if "NotPrincipal" in statement:
        raise ValueError("NotPrincipal is not supported")
    if "Principal" in statement and not _principal_matches(statement["Principal"], request):
        return False
    if "Action" in statement:
        acts = _matches_any(statement["Action"], request.action, ignore_case=True)
    else:
        acts = not _matches_any(statement["NotAction"], request.action, ignore_case=True)
    if "Resource" in statement:
        on = _matches_any(statement["Resource"], request.resource, ignore_case=False)
    else:
        on = not _matches_any(statement["NotResource"], request.resource, ignore_case=False)
    return (
        acts
        and on
        and all(
            _condition_holds(operator, key, expected, request)
            for operator, keys in statement.get("Condition", {}).items()
            for key, expected in keys.items()
        )
    )


def decide(statements: Iterable[Statement], request: Request) -> Decision:
    """Explicit Deny, then Allow, else implicit deny."""
    effects = {statement["Effect"] for statement in statements if applies(statement, request)}
    if "Deny" in effects:
        return "ExplicitDeny"
    return "Allow" if "Allow" in effects else "ImplicitDeny"


def kms_decision(
    key_policy: Sequence[Statement],
    identity_policy: Sequence[Statement] | None,
    request: Request,
) -> Decision:
    """A same-account request on a KMS key: the key policy, then IAM where it delegates to it.

    `identity_policy` is the caller's IAM policy, or None for a principal whose IAM policy is not
    in these templates (an operator deploying the stacks), which is then taken to allow.
    """
    applicable = [statement for statement in key_policy if applies(statement, request)]
    iam = None if identity_policy is None else decide(identity_policy, request)
    if iam == "ExplicitDeny" or any(statement["Effect"] == "Deny" for statement in applicable):
        return "ExplicitDeny"
    allows = [statement for statement in applicable if statement["Effect"] == "Allow"]
    if any(not _delegates_to_iam(statement["Principal"]) for statement in allows):
        return "Allow"  # names the principal (a role or a service) itself
    if not allows:
        return "ImplicitDeny"
    return "Allow" if iam is None else iam


def _delegates_to_iam(principal: Any) -> bool:
    return isinstance(principal, Mapping) and all(
        kind == "AWS" and all(_root_account(name) for name in _listed(names))
        for kind, names in principal.items()
    )
