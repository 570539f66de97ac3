"""Configuration, read once from the environment (twelve-factor).

Nothing here talks to the network, and a missing optional setting does not
fail at import: the request that needs it fails with a clear problem+json
instead (see `Settings.require`). Two mistakes are refused when the settings are
read: no STAGE, and a COGNITO_ISSUER that is not a local emulator. Local defaults
for `make run` live in `infra/local/stack.py`, not here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from api.problems import ConfigurationError

DEFAULT_REGION = "us-east-1"
# Only an emulator on this machine may stand in for Cognito's issuer (and its JWKS).
LOCAL_ISSUER_HOSTS = frozenset({"localhost", "127.0.0.1"})


def _flag(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError(f"expected true or false, not {value!r}")
    return value.lower() == "true"


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    region: str = DEFAULT_REGION
    tasks_table: str = "tasklake-dev-tasks"
    users_table: str = "tasklake-dev-users"
    idempotency_table: str = "tasklake-dev-idempotency"
    revoked_tokens_table: str = "tasklake-dev-revoked-tokens"
    rate_limits_table: str = "tasklake-dev-rate-limits"
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
        if self.cognito_issuer:
            url = urlsplit(self.cognito_issuer)
            if url.scheme != "http" or url.hostname not in LOCAL_ISSUER_HOSTS:
                raise ConfigurationError(
                    "COGNITO_ISSUER may only name a local emulator (http://localhost or "
                    "http://127.0.0.1); in AWS the issuer follows from COGNITO_USER_POOL_ID"
                )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment names. STAGE must be one of them: it names every
        table, so a forgotten STAGE must not quietly become another deployment's."""
        stage = environ.get("STAGE", "")
        if not stage:
            raise ConfigurationError("STAGE is not set (dev, prod…; the local stack sets dev)")
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        prefix = f"tasklake-{stage}"
        return cls(
            stage=stage,
            region=region,
            tasks_table=environ.get("TASKS_TABLE", f"{prefix}-tasks"),
            users_table=environ.get("USERS_TABLE", f"{prefix}-users"),
            idempotency_table=environ.get("IDEMPOTENCY_TABLE", f"{prefix}-idempotency"),
            revoked_tokens_table=environ.get("REVOKED_TOKENS_TABLE", f"{prefix}-revoked-tokens"),
            rate_limits_table=environ.get("RATE_LIMITS_TABLE", f"{prefix}-rate-limits"),
            cognito_user_pool_id=environ.get("COGNITO_USER_POOL_ID", ""),
            cognito_client_id=environ.get("COGNITO_CLIENT_ID", ""),
            cognito_issuer=environ.get("COGNITO_ISSUER", ""),
            jwks_cache_seconds=int(environ.get("JWKS_CACHE_SECONDS", 6 * 3600)),
            require_email_verification=_flag(environ.get("REQUIRE_EMAIL_VERIFICATION", "true")),
            cursor_secret_arn=environ.get("CURSOR_SECRET_ARN", ""),
            cursor_secret=environ.get("CURSOR_SECRET", ""),
            idempotency_ttl_seconds=int(environ.get("IDEMPOTENCY_TTL_SECONDS", 24 * 3600)),
            max_tasks_per_user=int(environ.get("MAX_TASKS_PER_USER", 10_000)),
            rate_limit_per_address=int(environ.get("RATE_LIMIT_PER_ADDRESS", 30)),
            sign_in_failure_limit=int(environ.get("SIGN_IN_FAILURE_LIMIT", 10)),
            sign_in_failure_ceiling=int(environ.get("SIGN_IN_FAILURE_CEILING", 100)),
            sign_in_failure_window_seconds=int(
                environ.get("SIGN_IN_FAILURE_WINDOW_SECONDS", 15 * 60)
            ),
            code_emails_per_requester=int(environ.get("CODE_EMAILS_PER_REQUESTER", 10)),
            code_emails_per_recipient=int(environ.get("CODE_EMAILS_PER_RECIPIENT", 5)),
            max_body_bytes=int(environ.get("MAX_BODY_BYTES", 64 * 1024)),
            reauthentication_max_age_seconds=int(
                environ.get("REAUTHENTICATION_MAX_AGE_SECONDS", 5 * 60)
            ),
            request_deadline_seconds=float(environ.get("REQUEST_DEADLINE_SECONDS", 12.0)),
            log_level=environ.get("LOG_LEVEL", "INFO"),
        )

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
