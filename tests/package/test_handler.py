"""The packaged `handler.lambda_handler`, driven with API Gateway events, on the real engines."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from infra.package.runtime import LambdaProcess
from tests.package.conftest import call

PASSWORD = "Correct-Horse-9"
PROBLEM = "application/problem+json"


def header(response: dict[str, Any], name: str) -> str:
    headers = {key.lower(): value for key, value in (response.get("headers") or {}).items()}
    value: str = headers[name.lower()]
    return value


def sign_in(process: LambdaProcess, emailed_code: Callable[[str], str]) -> dict[str, str]:
    """Sign up, confirm with the emailed code (the dev stage requires it), sign in."""
    email = f"pkg-{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": PASSWORD, "name": "Packaged"}
    created = call(process, "POST", "/users", body=body)
    assert created["statusCode"] == 201, created["body"]
    assert created["json"]["email"] == email
    confirm = {"email": email, "code": emailed_code(email)}
    assert call(process, "POST", "/users/confirm", body=confirm)["statusCode"] == 204
    login = call(process, "POST", "/auth/token", body={"email": email, "password": PASSWORD})
    assert login["statusCode"] == 200, login["body"]
    assert login["json"]["token_type"].lower() == "bearer"
    return {"Authorization": f"Bearer {login['json']['access_token']}"}


def test_openapi_document_is_served(lambda_process: LambdaProcess) -> None:
    response = call(lambda_process, "GET", "/openapi.json")

    assert response["statusCode"] == 200
    assert header(response, "Content-Type").startswith("application/json")
    assert response["json"]["openapi"] == "3.1.0"
    assert {"/tasks", "/tasks/{task_id}", "/users", "/auth/token"} <= set(response["json"]["paths"])


def test_swagger_ui_assets_are_in_the_package(lambda_process: LambdaProcess) -> None:
    response = call(lambda_process, "GET", "/docs/assets/swagger-ui-bundle.js")

    assert response["statusCode"] == 200
    assert "javascript" in header(response, "Content-Type")
    assert len(response["body"]) > 100_000


def test_task_lifecycle_through_the_handler(
    lambda_process: LambdaProcess, emailed_code: Callable[[str], str]
) -> None:
    auth = sign_in(lambda_process, emailed_code)

    created = call(lambda_process, "POST", "/tasks", headers=auth, body={"title": "ship it"})
    assert created["statusCode"] == 201, created["body"]
    task_id = created["json"]["id"]
    assert header(created, "Location").endswith(f"/tasks/{task_id}")
    assert header(created, "ETag") == '"v1"'

    fetched = call(lambda_process, "GET", f"/tasks/{task_id}", headers=auth)
    assert fetched["statusCode"] == 200
    assert fetched["json"]["title"] == "ship it"
    assert header(fetched, "ETag") == '"v1"'

    listed = call(lambda_process, "GET", "/tasks", headers=auth)
    assert listed["statusCode"] == 200
    assert [task["id"] for task in listed["json"]["items"]] == [task_id]

    patched = call(
        lambda_process,
        "PATCH",
        f"/tasks/{task_id}",
        headers={**auth, "If-Match": '"v1"'},
        body={"status": "done"},
    )
    assert patched["statusCode"] == 200, patched["body"]
    assert patched["json"]["status"] == "done"
    assert header(patched, "ETag") == '"v2"'

    stale = call(
        lambda_process,
        "DELETE",
        f"/tasks/{task_id}",
        headers={**auth, "If-Match": '"v1"'},
    )
    assert stale["statusCode"] == 412
    assert header(stale, "Content-Type") == PROBLEM
    assert stale["json"]["status"] == 412

    deleted = call(
        lambda_process, "DELETE", f"/tasks/{task_id}", headers={**auth, "If-Match": '"v2"'}
    )
    assert deleted["statusCode"] == 204
    gone = call(lambda_process, "GET", f"/tasks/{task_id}", headers=auth)
    assert gone["statusCode"] == 404
    assert header(gone, "Content-Type") == PROBLEM


def test_unauthenticated_request_is_a_problem_with_a_challenge(
    lambda_process: LambdaProcess,
) -> None:
    response = call(lambda_process, "GET", "/tasks")

    assert response["statusCode"] == 401
    assert header(response, "Content-Type") == PROBLEM
    assert header(response, "WWW-Authenticate").startswith("Bearer")


def test_log_lines_are_json_with_the_lambda_request_id(lambda_process: LambdaProcess) -> None:
    response = call(lambda_process, "GET", "/openapi.json")

    assert header(response, "X-Request-ID") == response["request_id"]
    entries = [
        json.loads(line) for line in lambda_process.output().splitlines() if line.startswith("{")
    ]
    access = [
        entry
        for entry in entries
        if entry.get("request_id") == response["request_id"] and "_aws" not in entry
    ]
    assert access, lambda_process.output()[-2000:]
    assert access[-1]["logger"] == "tasklake.access"
    assert (access[-1]["method"], access[-1]["path"], access[-1]["status"]) == (
        "GET",
        "/openapi.json",
        200,
    )
    assert access[-1]["lambda_request_id"] == response["request_id"]
    assert access[-1]["apigw_request_id"] == f"gateway-{response['request_id']}"


def test_each_request_prints_its_metrics_as_one_emf_line(
    lambda_process: LambdaProcess, emailed_code: Callable[[str], str]
) -> None:
    auth = sign_in(lambda_process, emailed_code)
    created = call(lambda_process, "POST", "/tasks", headers=auth, body={"title": "measure it"})

    lines = [
        json.loads(line)
        for line in lambda_process.output().splitlines()
        if line.startswith('{"_aws"') and created["request_id"] in line
    ]
    assert len(lines) == 1, lambda_process.output()[-2000:]
    directive_per_route, directive_per_stage = lines[0]["_aws"]["CloudWatchMetrics"]
    assert directive_per_route["Namespace"] == directive_per_stage["Namespace"] == "Tasklake/API"
    assert directive_per_stage["Metrics"] == [{"Name": "TasksCreated", "Unit": "Count"}]
    assert (lines[0]["Stage"], lines[0]["Route"], lines[0]["Method"]) == ("dev", "/tasks", "POST")
    assert (lines[0]["Requests"], lines[0]["Errors4xx"], lines[0]["TasksCreated"]) == (1, 0, 1)
