"""Settings refuse the two mistakes that would quietly point the API elsewhere."""

from __future__ import annotations

import pytest

from api.config import Settings
from api.problems import ConfigurationError

POOL = {"STAGE": "dev", "COGNITO_USER_POOL_ID": "us-east-1_abc"}


def test_stage_must_be_named() -> None:
    with pytest.raises(ConfigurationError, match="STAGE"):
        Settings.from_env({"COGNITO_USER_POOL_ID": "us-east-1_abc"})


def test_the_stage_names_the_tables() -> None:
    settings = Settings.from_env({"STAGE": "prod"})
    assert settings.tasks_table == "tasklake-prod-tasks"
    assert settings.rate_limits_table == "tasklake-prod-rate-limits"


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:9229/local_pool", "http://localhost:9229/local_pool/"]
)
def test_a_local_emulator_may_stand_in_for_the_issuer(issuer: str) -> None:
    settings = Settings.from_env({**POOL, "COGNITO_ISSUER": issuer})
    assert settings.issuer == issuer.rstrip("/")
    assert settings.jwks_url == f"{issuer.rstrip('/')}/.well-known/jwks.json"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://evil.example.com/pool",
        "http://127.0.0.1.evil.example.com/pool",
        "https://localhost/pool",  # no emulator speaks TLS here; a proxy would
        "http://10.0.0.5:9229/pool",
    ],
)
def test_any_other_issuer_is_refused(issuer: str) -> None:
    with pytest.raises(ConfigurationError, match="COGNITO_ISSUER"):
        Settings.from_env({**POOL, "COGNITO_ISSUER": issuer})


def test_without_an_override_the_issuer_is_the_pools() -> None:
    settings = Settings.from_env(POOL)
    assert settings.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
