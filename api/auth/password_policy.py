"""The pool's password policy, written once.

infra/identity.yaml and the local stack create the pool from `password_policy()`, and the
sign-up schema checks the same rules, so the answer never depends on the emulator.
"""

from __future__ import annotations

import re

PASSWORD_MIN_LENGTH = 8
# Each rule: (Cognito PasswordPolicy flag, regex, how we say it).
PASSWORD_RULES: tuple[tuple[str, str, str], ...] = (
    ("RequireLowercase", r"[a-z]", "a lowercase letter"),
    ("RequireUppercase", r"[A-Z]", "an uppercase letter"),
    ("RequireNumbers", r"[0-9]", "a digit"),
)
COGNITO_PASSWORD_FLAGS = (
    "RequireLowercase",
    "RequireUppercase",
    "RequireNumbers",
    "RequireSymbols",
)
# The same rules as one ECMA-262 pattern for the OpenAPI spec ([\s\S]: newlines too).
PASSWORD_PATTERN = "^" + "".join(f"(?=[\\s\\S]*{rule})" for _, rule, _ in PASSWORD_RULES)


def password_policy() -> dict[str, int | bool]:
    """The rules above as a Cognito `PasswordPolicy`, the form the user pool declares them in."""
    required = {flag for flag, _, _ in PASSWORD_RULES}
    flags = {flag: flag in required for flag in COGNITO_PASSWORD_FLAGS}
    return {"MinimumLength": PASSWORD_MIN_LENGTH, **flags}


def password_problems(password: str) -> list[str]:
    too_short = len(password) < PASSWORD_MIN_LENGTH
    problems = [f"at least {PASSWORD_MIN_LENGTH} characters"] if too_short else []
    problems += [what for _, pattern, what in PASSWORD_RULES if not re.search(pattern, password)]
    return problems
