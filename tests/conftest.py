"""Session fixtures: the real local engines, started once on free ports.

DynamoDB Local runs in memory and cognito-local in a temporary folder, so a
test session never touches the developer's `.local/` state, and two sessions
(or a running `make run`) can share the machine.

Every collected test is also marked with what it needs (engines, moto, browser, package,
airflow; see tests/needs.py), so `make test-fast` can leave those out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.local import services
from infra.local.stack import confirmation_code
from tests.harness import COGNITO_STATE, local_engines
from tests.needs import needs_of_item


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with what it needs, read from the fixtures and helpers it uses."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        # pytest has no public way to reach a fixture's function at collection time;
        # `_fixtureinfo.name2fixturedefs` is pinned by tests/api/test_private_api_pins.py.
        fixture_functions = [
            definition.func
            for definitions in item._fixtureinfo.name2fixturedefs.values()
            for definition in definitions
        ]
        needs = needs_of_item(item.path, item.fixturenames, [item.function, *fixture_functions])
        for need in sorted(needs):
            item.add_marker(need)


@pytest.fixture(scope="session")
def engines_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engines")


@pytest.fixture(scope="session")
def engines(engines_dir: Path) -> Iterator[dict[str, str]]:
    """DynamoDB Local + cognito-local with the API's tables and user pool; yields the env."""
    with local_engines(engines_dir, cursor_secret="test-cursor-secret") as environment:
        yield environment


@pytest.fixture(scope="session")
def emailed_code(engines_dir: Path, engines: dict[str, str]) -> Callable[[str], str]:
    """The last code cognito-local "emailed" to an address (sign-up or password reset)."""
    pool_id = engines["COGNITO_USER_POOL_ID"]
    return lambda email: confirmation_code(engines_dir / COGNITO_STATE, pool_id, email)


@pytest.fixture(scope="session")
def cognito_private_key() -> dict[str, str]:
    """cognito-local's published signing key, to mint hostile tokens in tests."""
    path = services.NODE_MODULES / "cognito-local" / "lib" / "keys" / "cognitoLocal.private.json"
    key: dict[str, str] = json.loads(Path(path).read_text())
    return key
