"""The transform's SQL gives the pyarrow tables on an export of the local stack's own data too.

tests/etl/test_sql_transform.py proves it on synthetic exports; here the items are the ones the
API writes. Users sign up and sign in through the API (cognito-local), and create, complete and
reopen tasks through it (DynamoDB Local); older tasks are written by the same service functions
on back-dated clocks, as `make seed` does, so the export spans several weeks and users. The tasks
table is then exported as the DAG's `export_scan` task exports it locally: one consistent scan,
each item one DYNAMODB_JSON line made by `scan_item_to_export_line`. Both engines transform that
export for the day of the API's own writes: pyarrow as the `transform` task does, the Athena SQL
on DuckDB.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Settings
from api.tasks.schemas import TaskCreateSchema
from api.tasks.service import create_task, update_task
from etl.bronze import scan_item_to_export_line
from etl.dynamodb_export import find_export_files
from etl.schemas import TABLES
from etl.transform import transform_export
from etl.transform_sql import table_query
from infra.local.seed import plan_task
from tests.etl.conftest import read_partition
from tests.etl.sql_on_duckdb import differences, duckdb_over_export, run_on_duckdb
from tests.harness import PASSWORD

USERS = 5
API_TASKS_PER_USER = 7
BACKDATED_TASKS = 400


@dataclass
class SignedIn:
    id: str
    client: FlaskClient
    token: str

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code < 300, response.json
        return response.json


def _sign_up(app: Flask, n: int) -> SignedIn:
    client = app.test_client()
    email = f"lake-{n}-{uuid.uuid4().hex[:12]}@example.com"
    created = client.post("/users", json={"email": email, "password": PASSWORD, "name": f"U{n}"})
    assert created.status_code == 201, created.json
    login = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.json
    return SignedIn(created.get_json()["id"], client, login.get_json()["access_token"])


def _write_through_the_api(user: SignedIn, n: int) -> str:
    """Today's API_TASKS_PER_USER tasks: bare, empty tags, tagged, overdue, completed, started,
    reopened.

    Returns the completion time of the task it completes."""
    user.request("POST", "/tasks", json={"title": "only a title"})
    user.request("POST", "/tasks", json={"title": "no tags", "tags": []})
    user.request(
        "POST", "/tasks", json={"title": "tagged", "tags": ["home", f"user-{n}"], "priority": "low"}
    )
    user.request(
        "POST",
        "/tasks",
        json={"title": "overdue", "due_date": "2026-01-02", "description": "long past its date"},
    )
    done = user.request("POST", "/tasks", json={"title": "finish", "tags": ["work"]})
    completed = user.request(
        "PATCH", f"/tasks/{done['id']}", json={"status": "done"}, headers={"If-Match": '"v1"'}
    )
    started = user.request("POST", "/tasks", json={"title": "start", "priority": "high"})
    user.request(
        "PATCH",
        f"/tasks/{started['id']}",
        json={"status": "in_progress"},
        headers={"If-Match": '"v1"'},
    )
    reopened = user.request("POST", "/tasks", json={"title": "reopen", "tags": ["work"]})
    for version, status in (("v1", "done"), ("v2", "todo")):
        user.request(
            "PATCH",
            f"/tasks/{reopened['id']}",
            json={"status": status},
            headers={"If-Match": f'"{version}"'},
        )
    completed_at: str = completed["completed_at"]
    return completed_at


def _write_history(app: Flask, user_ids: list[str], now: datetime) -> None:
    """Tasks of the past three weeks, as `make seed` writes them (infra/local/seed.py)."""
    rng = random.Random(12)
    schema = TaskCreateSchema()
    with app.app_context():
        for _ in range(BACKDATED_TASKS):
            plan = plan_task(rng, now, weeks=3)
            user_id = rng.choice(user_ids)
            task, _ = create_task(user_id, schema.load(plan.fields), now=plan.created)
            change = ("in_progress", plan.started) if plan.started else ("done", plan.completed)
            if change[1] is not None:
                update_task(
                    user_id,
                    task.task_id,
                    {"status": change[0]},
                    expected_version=task.version,
                    now=change[1],
                )


def _scan_export(table_name: str, export_dir: Path) -> list[Path]:
    """The table exported as the DAG's `export_scan` does it locally.

    That task is the amazon provider's DynamoDBToS3Operator: a paginated `Table.scan` with
    ConsistentRead, `process_func=scan_item_to_export_line` on every item, the lines in one file.
    """
    table = boto3.resource("dynamodb").Table(table_name)
    data = export_dir / "data"
    data.mkdir(parents=True)
    scan: dict[str, Any] = {"ConsistentRead": True}
    with (data / "00000.json.gz").open("wb") as lines:
        while True:
            page = table.scan(**scan)
            for item in page["Items"]:
                lines.write(scan_item_to_export_line(item))
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return find_export_files(export_dir)


@dataclass
class LocalExport:
    files: list[Path]
    snapshot: date
    pyarrow_lake: Path
    user_ids: set[str]


@pytest.fixture(scope="module")
def local_export(engines: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> LocalExport:
    settings = Settings.from_env(engines)
    app = create_app(settings)
    users = [_sign_up(app, n) for n in range(USERS)]
    completed = [_write_through_the_api(user, n) for n, user in enumerate(users)]
    _write_history(app, [user.id for user in users], datetime.now(UTC))
    snapshot = datetime.fromisoformat(completed[-1]).date()
    root = tmp_path_factory.mktemp("local-stack")
    files = _scan_export(settings.tasks_table, root / "export")
    transform_export(files, root / "lake", snapshot)
    return LocalExport(files, snapshot, root / "lake", {user.id for user in users})


def test_the_export_holds_what_makes_the_comparison_meaningful(local_export: LocalExport) -> None:
    tasks = read_partition(local_export.pyarrow_lake, "tasks", local_export.snapshot)
    users = read_partition(local_export.pyarrow_lake, "user_daily_stats", local_export.snapshot)
    # The engines are shared by the whole session: other tests' tasks are in the table too (and
    # are compared as well); the counts are this module's users' own.
    rows = [row for row in tasks.to_pylist() if row["user_id"] in local_export.user_ids]
    ours = [row for row in users.to_pylist() if row["user_id"] in local_export.user_ids]

    assert len(rows) == USERS * API_TASKS_PER_USER + BACKDATED_TASKS
    assert len(ours) == USERS
    assert len({row["created_at"].date() for row in rows}) >= 10
    assert {row["status"] for row in rows} == {"todo", "in_progress", "done"}
    assert any(row["is_overdue"] for row in rows)
    for column in ("due_date", "completed_at", "hours_to_complete"):
        assert any(row[column] is None for row in rows), column
        assert any(row[column] is not None for row in rows), column
    assert any(row["tags"] == [] for row in rows)
    assert any(len(row["tags"]) > 1 for row in rows)


@pytest.mark.parametrize("table", list(TABLES))
def test_sql_on_duckdb_gives_the_pyarrow_rows_on_the_local_stacks_export(
    table: str, local_export: LocalExport
) -> None:
    expected = read_partition(local_export.pyarrow_lake, table, local_export.snapshot)

    actual = run_on_duckdb(
        duckdb_over_export(local_export.files), table_query(table, local_export.snapshot)
    )

    assert expected.num_rows > 0
    assert differences(table, expected, actual) == []
