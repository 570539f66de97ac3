"""The published spec: valid OpenAPI 3.1, and as precise as the API's own checks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from api.auth.identity import password_problems
from tests.api.conftest import Account


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json
    return body


def test_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_timestamps_are_documented_as_date_time(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for schema, field in [
        ("Task", "created_at"),
        ("Task", "updated_at"),
        ("Task", "completed_at"),
        ("User", "created_at"),
    ]:
        assert schemas[schema]["properties"][field]["format"] == "date-time", (schema, field)


@pytest.mark.parametrize(
    "password",
    ["Correct-Horse-9", "short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere", "Ab1\n" * 2],
)
def test_the_documented_password_rule_is_the_api_rule(spec: dict[str, Any], password: str) -> None:
    rule = spec["components"]["schemas"]["SignUp"]["properties"]["password"]
    documented = len(password) >= rule["minLength"] and re.match(rule["pattern"], password)

    assert bool(documented) == (not password_problems(password))


def test_a_patch_must_change_something(spec: dict[str, Any]) -> None:
    assert spec["components"]["schemas"]["TaskPatch"]["minProperties"] == 1


def test_the_documented_title_rule_is_the_api_rule(spec: dict[str, Any], alice: Account) -> None:
    rule = spec["components"]["schemas"]["TaskCreate"]["properties"]["title"]
    titles = ["Buy milk", " x ", "\t", "   ", "\u3000\u00a0", "\x1c", "\ufeff", "\u200b", "é"]

    for title in titles:
        documented = bool(re.search(rule["pattern"], title))
        response = alice.request("POST", "/tasks", json={"title": title})
        assert (response.status_code == 201) == documented, (title, response.json)
