"""An app and HTTP client over the real engines, and users to act as."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from ulid import ULID

from api.app import create_app
from api.config import Settings
from api.storage import utcnow
from api.tasks.models import Task, status_key
from tests.harness import PASSWORD, promote_to_admin

__all__ = ["PASSWORD", "Account", "seed_tasks", "unique_email"]


@pytest.fixture(scope="session")
def app(engines: dict[str, str]) -> Flask:
    return create_app(Settings.from_env(engines))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Account:
    """A signed-up, signed-in user and the headers to act as them."""

    id: str
    email: str
    tokens: dict[str, Any]
    client: FlaskClient = field(repr=False)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def create_task(self, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", "/tasks", json={"title": "a task", **fields})
        assert response.status_code == 201, response.json
        body: dict[str, Any] = response.json
        return body


def seed_tasks(account: Account, count: int) -> list[str]:
    """Write tasks straight to the table (fast), with ULIDs in creation order."""
    ids = []
    with Task.batch_write() as batch:
        for n in range(count):
            task_id = str(ULID())
            status = ("todo", "in_progress", "done")[n % 3]
            now = utcnow()
            batch.save(
                Task(
                    account.id,
                    task_id,
                    title=f"task {n}",
                    status=status,
                    priority="medium",
                    due_date=(date(2026, 1, 1) + timedelta(days=n % 60)).isoformat(),
                    tags=["even"] if n % 2 == 0 else ["odd"],
                    created_at=now,
                    updated_at=now,
                    completed_at=now if status == "done" else None,
                    status_key=status_key(account.id, status),
                    version=1,
                )
            )
            ids.append(task_id)
    return ids


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def sign_up(client: FlaskClient) -> Callable[..., Account]:
    def _sign_up(*, admin: bool = False, name: str = "Test User") -> Account:
        email = unique_email()
        created = client.post("/users", json={"email": email, "password": PASSWORD, "name": name})
        assert created.status_code == 201, created.json
        if admin:
            promote_to_admin(email)
        login = client.post("/auth/token", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.json
        return Account(created.json["id"], email, login.json, client)

    return _sign_up


@pytest.fixture
def alice(sign_up: Callable[..., Account]) -> Account:
    return sign_up(name="Alice")


@pytest.fixture
def bob(sign_up: Callable[..., Account]) -> Account:
    return sign_up(name="Bob")


@pytest.fixture
def admin(sign_up: Callable[..., Account]) -> Account:
    return sign_up(admin=True, name="Admin")
