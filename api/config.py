"""Configuration, read once from the environment (twelve-factor).

Nothing here talks to the network, and a missing optional setting does not
fail at import: the request that needs it fails with a clear problem+json
instead (see `Settings.require`). Two mistakes are refused when the settings are
read: no STAGE, and a COGNITO_ISSUER that is not a local emulator. Local defaults
for `make run` live in `infra/local/stack.py`, not here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from api.problems import ConfigurationError

DEFAULT_REGION = "us-east-1"
# Only an emulator on this machine may stand in for Cognito's issuer (and its JWKS).
LOCAL_ISSUER_HOSTS = frozenset({"localhost", "127.0.0.1"})


def _flag(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError(f"expected true or false, not {value!r}")
    return value.lower() == "true"


# How a variable's text becomes a field of each annotated type (annotations are strings here).
_PARSERS: dict[str, Callable[[str], Any]] = {"str": str, "int": int, "float": float, "bool": _flag}
TABLE_FIELD_SUFFIX = "_table"


def table_name(stage: str, kind: str) -> str:
    """A stage's table of one kind unless its variable names another: `tasklake-dev-rate-limits`."""
    return f"tasklake-{stage}-{kind.replace('_', '-')}"


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    region: str = DEFAULT_REGION
    # Empty: the stage's own table, `table_name(stage, …)` (filled in by __post_init__).
    tasks_table: str = ""
    users_table: str = ""
    idempotency_table: str = ""
    revoked_tokens_table: str = ""
    rate_limits_table: str = ""
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    # Issuer of the pool's tokens; empty means the real Cognito issuer for the pool.
    cognito_issuer: str = ""
    # How long the pool's signing keys are trusted without fetching them again (api/auth/tokens.py).
    jwks_cache_seconds: int = 6 * 3600
    # Sign-up leaves the account unconfirmed until the emailed code comes back (ADR 0003).
    require_email_verification: bool = True
    # In AWS the cursor key is a Secrets Manager secret (api/cursor_secret.py); locally a value.
    cursor_secret_arn: str = ""
    cursor_secret: str = ""
    idempotency_ttl_seconds: int = 24 * 3600
    # Tasks one account may hold (any status): one user must not become an unbounded lake bucket.
    max_tasks_per_user: int = 10_000
    # Unauthenticated endpoints (api/rate_limits.py): requests per client address and minute;
    # wrong passwords per window for an email from one address, and from all addresses; and
    # code mails an hour asked for from one address (twice that per IPv6 /56, four times per
    # /48) and sent to one recipient. Mail for everyone together is an alarm, not a limit
    # (infra/monitoring.yaml, ADR 0004).
    rate_limit_per_address: int = 30
    sign_in_failure_limit: int = 10
    sign_in_failure_ceiling: int = 100
    sign_in_failure_window_seconds: int = 15 * 60
    code_emails_per_requester: int = 10
    code_emails_per_recipient: int = 5
    max_body_bytes: int = 64 * 1024
    # Deleting an account needs a password sign-in at most this old (api/auth/recent_sign_in.py).
    reauthentication_max_age_seconds: int = 5 * 60
    # Below the Lambda timeout (zappa_settings.json), so the API answers before API Gateway does.
    request_deadline_seconds: float = 12.0
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        for setting in fields(self):
            if setting.name.endswith(TABLE_FIELD_SUFFIX) and not getattr(self, setting.name):
                kind = setting.name.removesuffix(TABLE_FIELD_SUFFIX)
                # A frozen dataclass completes itself only this way.
                object.__setattr__(self, setting.name, table_name(self.stage, kind))
        if self.cognito_issuer:
            url = urlsplit(self.cognito_issuer)
            if url.scheme != "http" or url.hostname not in LOCAL_ISSUER_HOSTS:
                raise ConfigurationError(
                    "COGNITO_ISSUER may only name a local emulator (http://localhost or "
                    "http://127.0.0.1); in AWS the issuer follows from COGNITO_USER_POOL_ID"
                )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment names; a variable left unset keeps the field's default
        above. STAGE must be one of them: it names every table, so a forgotten STAGE must not
        quietly become another deployment's."""
        stage = environ.get("STAGE", "")
        if not stage:
            raise ConfigurationError("STAGE is not set (dev, prod…; the local stack sets dev)")
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        # Each variable named once, literally: docs/runbook.md's settings table is checked
        # against these reads (tests/docs/test_claim_settings.py).
        read: dict[str, str | None] = {
            "tasks_table": environ.get("TASKS_TABLE"),
            "users_table": environ.get("USERS_TABLE"),
            "idempotency_table": environ.get("IDEMPOTENCY_TABLE"),
            "revoked_tokens_table": environ.get("REVOKED_TOKENS_TABLE"),
            "rate_limits_table": environ.get("RATE_LIMITS_TABLE"),
            "cognito_user_pool_id": environ.get("COGNITO_USER_POOL_ID"),
            "cognito_client_id": environ.get("COGNITO_CLIENT_ID"),
            "cognito_issuer": environ.get("COGNITO_ISSUER"),
            "jwks_cache_seconds": environ.get("JWKS_CACHE_SECONDS"),
            "require_email_verification": environ.get("REQUIRE_EMAIL_VERIFICATION"),
            "cursor_secret_arn": environ.get("CURSOR_SECRET_ARN"),
            "cursor_secret": environ.get("CURSOR_SECRET"),
            "idempotency_ttl_seconds": environ.get("IDEMPOTENCY_TTL_SECONDS"),
            "max_tasks_per_user": environ.get("MAX_TASKS_PER_USER"),
            "rate_limit_per_address": environ.get("RATE_LIMIT_PER_ADDRESS"),
            "sign_in_failure_limit": environ.get("SIGN_IN_FAILURE_LIMIT"),
            "sign_in_failure_ceiling": environ.get("SIGN_IN_FAILURE_CEILING"),
            "sign_in_failure_window_seconds": environ.get("SIGN_IN_FAILURE_WINDOW_SECONDS"),
            "code_emails_per_requester": environ.get("CODE_EMAILS_PER_REQUESTER"),
            "code_emails_per_recipient": environ.get("CODE_EMAILS_PER_RECIPIENT"),
            "max_body_bytes": environ.get("MAX_BODY_BYTES"),
            "reauthentication_max_age_seconds": environ.get("REAUTHENTICATION_MAX_AGE_SECONDS"),
            "request_deadline_seconds": environ.get("REQUEST_DEADLINE_SECONDS"),
            "log_level": environ.get("LOG_LEVEL"),
        }
        types = {setting.name: str(setting.type) for setting in fields(cls)}
        values = {name: _PARSERS[types[name]](raw) for name, raw in read.items() if raw is not None}
        return cls(stage=stage, region=region, **values)

    def require(self, name: str) -> str:
        """The value of a setting the current request cannot do without."""
        value = getattr(self, name)
        if not value:
            env_name = name.upper()
            raise ConfigurationError(f"{env_name} is not set")
        return str(value)

    @property
    def issuer(self) -> str:
        if self.cognito_issuer:
            return self.cognito_issuer.rstrip("/")
        pool = self.require("cognito_user_pool_id")
        return f"https://cognito-idp.{self.region}.amazonaws.com/{pool}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"
