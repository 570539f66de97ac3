"""Path ids are checked by the route itself: a malformed one is a 404 that costs no DynamoDB call.

DynamoDB rejects keys over 1,024 bytes with a ValidationException; before this check such an
id reached it and came back as a 503 logged at ERROR, which any signed-in client could trigger.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.app import tables
from api.config import Settings
from tests.api.conftest import Account
from tests.dynamodb_calls import counting_dynamodb_calls


def _not_found(response: Any) -> None:
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "task_id",
    [
        "x" * 2000,
        "not-a-ulid",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters
        "01arz3ndektsv4rrffq69g5fav",  # lower case: python-ulid never writes it
        "81ARZ3NDEKTSV4RRFFQ69G5FAV",  # beyond the largest ULID
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_malformed_task_id_is_404_without_asking_dynamodb(
    alice: Account, method: str, task_id: str
) -> None:
    models = [model for model, _ in tables(Settings.from_env())]
    with counting_dynamodb_calls(models) as calls:
        response = alice.request(
            method, f"/tasks/{task_id}", json={"title": "x"}, headers={"If-Match": '"v1"'}
        )

    _not_found(response)
    assert not calls  # routing refuses it, before even the token's revocation check


@pytest.mark.parametrize(
    "user_id", ["y" * 2000, "ME", "12345", "0d3c5b0e-0000-0000-0000-00000000000G"]
)
def test_a_malformed_user_id_is_404_without_asking_dynamodb(admin: Account, user_id: str) -> None:
    models = [model for model, _ in tables(Settings.from_env())]
    with counting_dynamodb_calls(models) as calls:
        response = admin.request("GET", f"/users/{user_id}")

    _not_found(response)
    assert not calls  # routing refuses it, before even the token's revocation check


def test_the_spec_states_the_id_patterns(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    for path in ("/tasks/{task_id}", "/users/{user_id}"):
        (parameter,) = spec["paths"][path]["parameters"]
        assert parameter["schema"]["pattern"].startswith("^(")
