"""A throwaway user's life through the API: sign up, confirm, sign in, a task, delete.

Everything goes through the API as a client would, except the confirmation: a stage that
requires a verified address mails a code, so the account is confirmed with Cognito's
AdminConfirmSignUp instead. The account deletes itself through the API at the end, even
when a task step failed, so a failed smoke leaves nothing behind once it has a token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.exceptions
import requests

from infra.smoke.results import Result, fail, first_line, ok

# Each request answers well within this on any stage (the API's own deadline is 12 s).
REQUEST_SECONDS = 15.0
# DELETE /users/me answers 202 while the deletion is unfinished: send it again.
DELETE_ATTEMPTS = 3


class StepFailed(RuntimeError):
    pass


def throwaway_email(domain: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"smoke-{stamp}-{secrets.token_hex(3)}@{domain}"


def throwaway_password() -> str:
    """Random, and meets any Cognito policy: upper, lower, digit and symbol."""
    return f"{secrets.token_urlsafe(18)}Aa9!"


@dataclass
class RoundTrip:
    api_url: str
    user_pool_id: str
    email: str
    password: str = field(default_factory=throwaway_password)
    session: requests.Session = field(default_factory=requests.Session)
    user_id: str = ""
    token: str = ""
    task_id: str = ""

    def call(
        self, method: str, path: str, expected: tuple[int, ...], **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.session.request(
                method, f"{self.api_url.rstrip('/')}{path}", headers=headers,
                timeout=REQUEST_SECONDS, **kwargs,
            )  # fmt: skip
        except requests.ConnectionError:
            raise StepFailed(f"{method} {path}: cannot connect to {self.api_url}") from None
        except requests.Timeout:
            raise StepFailed(f"{method} {path}: no answer within {REQUEST_SECONDS:g} s") from None
        except requests.RequestException as error:
            raise StepFailed(f"{method} {path}: {first_line(error)}") from None
        if response.status_code not in expected:
            raise StepFailed(f"{method} {path} answered {response.status_code}: {_why(response)}")
        return response

    def sign_up(self) -> str:
        body = {"email": self.email, "password": self.password, "name": "smoke test"}
        self.user_id = self.call("POST", "/users", (201,), json=body).json()["id"]
        return f"{self.email} (id {self.user_id})"

    def confirm(self) -> str:
        cognito = boto3.client("cognito-idp")
        try:
            user = cognito.admin_get_user(UserPoolId=self.user_pool_id, Username=self.user_id)
            if user["UserStatus"] != "UNCONFIRMED":
                return f"already {user['UserStatus']} (this stage confirms at sign-up)"
            cognito.admin_confirm_sign_up(UserPoolId=self.user_pool_id, Username=self.user_id)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise StepFailed(f"AdminConfirmSignUp: {first_line(error)}") from None
        return f"confirmed with AdminConfirmSignUp in {self.user_pool_id}"

    def sign_in(self) -> str:
        body = {"email": self.email, "password": self.password}
        self.token = self.call("POST", "/auth/token", (200,), json=body).json()["access_token"]
        return "access token issued"

    def create_task(self) -> str:
        created = self.call("POST", "/tasks", (201,), json={"title": "smoke check"})
        self.task_id = created.json()["id"]
        return f"task {self.task_id}"

    def list_tasks(self) -> str:
        items = self.call("GET", "/tasks", (200,)).json()["items"]
        if self.task_id not in {item["id"] for item in items}:
            raise StepFailed(f"GET /tasks does not list task {self.task_id}")
        return f"task {self.task_id} listed ({len(items)} on the first page)"

    def delete_task(self) -> str:
        self.call("DELETE", f"/tasks/{self.task_id}", (204,))
        return f"task {self.task_id} deleted"

    def delete_user(self) -> str:
        for _ in range(DELETE_ATTEMPTS):
            if self.call("DELETE", "/users/me", (202, 204)).status_code == 204:
                self.token = ""
                return f"{self.email} deleted"
        raise StepFailed(f"DELETE /users/me still unfinished after {DELETE_ATTEMPTS} tries")


def _why(response: requests.Response) -> str:
    """problem+json's detail (or title), else the start of the body."""
    try:
        problem = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or problem)[:200]
    return str(problem)[:200]


def run(api_url: str, user_pool_id: str, email_domain: str) -> list[Result]:
    trip = RoundTrip(api_url, user_pool_id, throwaway_email(email_domain))
    steps: list[tuple[str, Callable[[], str]]] = [
        ("signup", trip.sign_up),
        ("confirm", trip.confirm),
        ("token", trip.sign_in),
        ("create-task", trip.create_task),
        ("list-tasks", trip.list_tasks),
        ("delete-task", trip.delete_task),
        ("delete-user", trip.delete_user),
    ]
    results: list[Result] = []
    for name, step in steps:
        try:
            results.append(ok(name, step()))
        except StepFailed as error:
            results.append(fail(name, str(error)))
            break
    if trip.token and results[-1].check != "delete-user":
        results.append(_clean_up(trip))
    elif trip.user_id and not trip.token and results[-1].failed:
        results.append(fail("delete-user", f"not signed in: {trip.email} is left behind"))
    return results


def _clean_up(trip: RoundTrip) -> Result:
    try:
        return ok("delete-user", trip.delete_user())
    except StepFailed as error:
        return fail("delete-user", f"{error}; {trip.email} is left behind")
