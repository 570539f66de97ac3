"""Session fixtures: the real local engines, started once on free ports.

DynamoDB Local runs in memory and cognito-local in a temporary folder, so a
test session never touches the developer's `.local/` state, and two sessions
(or a running `make run`) can share the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local import services
from tests.harness import local_engines


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """DynamoDB Local + cognito-local with the API's tables and user pool; yields the env."""
    workdir = tmp_path_factory.mktemp("engines")
    with local_engines(workdir, cursor_secret="test-cursor-secret") as environment:
        yield environment


@pytest.fixture(scope="session")
def cognito_private_key() -> dict[str, str]:
    """cognito-local's published signing key, to mint hostile tokens in tests."""
    path = services.NODE_MODULES / "cognito-local" / "lib" / "keys" / "cognitoLocal.private.json"
    key: dict[str, str] = json.loads(Path(path).read_text())
    return key
