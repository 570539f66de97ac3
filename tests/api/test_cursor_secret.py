"""In AWS the cursor key is a Secrets Manager secret, read once per container (here: moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask.testing import FlaskClient

from api import cursor_secret
from api.app import create_app
from api.config import Settings
from api.pagination import CursorCodec
from api.problems import ConfigurationError
from api.tasks.service import TaskFilters
from infra.local import services
from tests.api.conftest import Account
from tests.logged_problems import logged_problems


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path: Path = tmp_path_factory.mktemp("moto") / "moto.log"
    server = services.start_moto(services.free_port(), log_path)
    yield server.url
    server.stop()


@pytest.fixture
def secrets_endpoint(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Points every Secrets Manager client at moto; returns one to arrange secrets with."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
    return boto3.client("secretsmanager", region_name=Settings.from_env().region)


@pytest.fixture
def secret_arn(secrets_endpoint: Any) -> str:
    name = f"tasklake/test/{uuid.uuid4()}"
    arn: str = secrets_endpoint.create_secret(Name=name, SecretString="sm-key")["ARN"]
    return arn


@pytest.fixture
def secret_reads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every GetSecretValue the API sends. moto's server keeps no count of calls, so the
    API's real client gets a botocore hook that records each one on its way out."""
    reads: list[dict[str, Any]] = []
    real = cursor_secret.secrets_manager

    def counted(region: str) -> Any:
        client = real(region)
        client.meta.events.register(
            "before-parameter-build.secrets-manager.GetSecretValue",
            lambda params, **_: reads.append(params),
        )
        return client

    monkeypatch.setattr(cursor_secret, "secrets_manager", counted)
    return reads


def app_client(engines: dict[str, str], **settings: str) -> FlaskClient:
    configured = replace(Settings.from_env(engines), cursor_secret="", **settings)
    return create_app(configured).test_client()


def test_cursors_are_signed_with_the_secret_read_once_for_many_requests(
    engines: dict[str, str], secret_arn: str, secret_reads: list[dict[str, Any]], alice: Account
) -> None:
    for _ in range(3):
        alice.create_task()
    client = app_client(engines, cursor_secret_arn=secret_arn)

    cursor, pages = None, 0
    while pages == 0 or cursor:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/tasks", query_string=query, headers=alice.auth)
        assert page.status_code == 200, page.json
        cursor, pages = page.json["next_cursor"], pages + 1
        if cursor:
            scope = {"user": alice.id, **TaskFilters().scope()}
            assert CursorCodec("sm-key").decode(cursor, scope)  # signed with the secret

    assert pages >= 3
    assert [read["SecretId"] for read in secret_reads] == [secret_arn]


@pytest.mark.parametrize(
    ("arn", "detail"),
    [
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf", "names no secret"),
        ("", "Neither CURSOR_SECRET_ARN nor CURSOR_SECRET is set"),
    ],
)
def test_an_unreadable_or_missing_secret_is_a_problem_not_a_traceback(
    engines: dict[str, str], secrets_endpoint: Any, alice: Account, arn: str, detail: str
) -> None:
    client = app_client(engines, cursor_secret_arn=arn)
    with logged_problems() as logged:
        response = client.get("/tasks", headers=alice.auth)

    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "urn:tasklake:problem:misconfigured"
    assert response.json["detail"] == ConfigurationError.PUBLIC_DETAIL  # names no setting
    assert any(detail in problem for problem in logged)  # the operator's log line does
