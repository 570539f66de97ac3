"""Session fixtures: the real local engines, started once on free ports.

DynamoDB Local runs in memory and cognito-local in a temporary folder, so a
test session never touches the developer's `.local/` state, and two sessions
(or a running `make run`) can share the machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local import services
from infra.local.stack import api_environment, ensure_user_pool, provision


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """DynamoDB Local + cognito-local with the API's tables and user pool; yields the env."""
    logs = tmp_path_factory.mktemp("engine-logs")
    dynamodb = services.start_dynamodb(services.free_port(), None, log_path=logs / "dynamodb.log")
    cognito = services.start_cognito(
        services.free_port(), tmp_path_factory.mktemp("cognito"), log_path=logs / "cognito.log"
    )
    saved = dict(os.environ)
    try:
        pool_id, client_id = ensure_user_pool(cognito.url)
        environment = api_environment(
            dynamodb.url, cognito.url, pool_id, client_id, cursor_secret="test-cursor-secret"
        )
        provision(environment)  # also exports the environment to this process
        yield environment
    finally:
        cognito.stop()
        dynamodb.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def cognito_private_key() -> dict[str, str]:
    """cognito-local's published signing key, to mint hostile tokens in tests."""
    path = services.NODE_MODULES / "cognito-local" / "lib" / "keys" / "cognitoLocal.private.json"
    key: dict[str, str] = json.loads(Path(path).read_text())
    return key
