"""The monitoring stack's alarms fire on the metric data our code emits, and stay quiet otherwise.

Each test produces metric data the way production does (the API's EMF lines from real requests
on DynamoDB Local and cognito-local; the ETL's datapoints from etl/run_metrics.py) and asks
tests/infra/alarm_eval.py what the alarm, as written in infra/monitoring.yaml, would decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from api.app import create_app, tables
from api.config import Settings
from api.storage import bind_tables
from api.tasks.models import Task
from infra.local.services import free_port
from tests.api.conftest import PASSWORD, Account, unique_email
from tests.infra.alarm_eval import Datapoint, alarm_state, from_emf, query_values
from tests.infra.monitoring_template import Alarm, alarms

Burst = Callable[[int, int], list[Datapoint]]


def stack_alarm(logical_id: str) -> Alarm:
    """The alarm as the stack deploys it for the stage the local app reports as."""
    return alarms({"Environment": Settings.from_env().stage})[logical_id]


@contextmanager
def tasks_table_unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the tasks model at a DynamoDB endpoint nobody listens on, as in an outage.

    Only the tasks table goes: sign-in and token revocation (other tables) keep working, so the
    request gets as far as reading the task and fails there, for real, with a refused connection.
    """
    settings = Settings.from_env()
    with monkeypatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
        bind_tables([(Task, settings.tasks_table)], settings.region)
        try:
            yield
        finally:
            patch.undo()
            bind_tables(tables(settings), settings.region)


@pytest.fixture(scope="module")
def app(engines: dict[str, str]) -> Flask:
    return create_app(Settings.from_env(engines))


@pytest.fixture
def alice(app: Flask) -> Account:
    client, email = app.test_client(), unique_email()
    created = client.post("/users", json={"email": email, "password": PASSWORD, "name": "Alice"})
    login = client.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert (created.status_code, login.status_code) == (201, 200), login.json
    user: dict[str, Any] = created.json or {}
    tokens: dict[str, Any] = login.json or {}
    return Account(user["id"], email, tokens, client)


@pytest.fixture
def burst(
    alice: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Burst:
    """`burst(requests, failing)`: GET one task `requests` times, every n-th with its table gone.

    Returns the datapoints of the EMF lines those requests printed (and nothing from before).
    """

    def run(requests: int, failing: int) -> list[Datapoint]:
        task = alice.create_task()
        capsys.readouterr()
        every = requests // failing if failing else 0
        statuses = []
        for number in range(1, requests + 1):
            if every and number % every == 0:
                with tasks_table_unreachable(monkeypatch):
                    statuses.append(alice.request("GET", f"/tasks/{task['id']}").status_code)
            else:
                statuses.append(alice.request("GET", f"/tasks/{task['id']}").status_code)
        assert statuses.count(503) == failing
        assert statuses.count(200) == requests - failing
        return from_emf(capsys.readouterr().out.splitlines())

    return run


def test_ten_percent_5xx_over_five_minutes_fires_the_error_rate_alarm(burst: Burst) -> None:
    alarm = stack_alarm("ApiErrorRateAlarm")

    points = burst(200, 20)
    now = datetime.now(UTC)

    assert query_values(alarm, alarm.returned, points, [now]) == [10.0]
    assert alarm_state(alarm, points, now) == "ALARM"


def test_a_healthy_burst_leaves_the_error_rate_and_latency_alarms_ok(burst: Burst) -> None:
    points = burst(200, 0)
    now = datetime.now(UTC)

    assert alarm_state(stack_alarm("ApiErrorRateAlarm"), points, now) == "OK"
    assert alarm_state(stack_alarm("ApiLatencyAlarm"), points, now) == "OK"


def test_a_failing_burst_below_the_minimum_request_count_stays_ok(burst: Burst) -> None:
    alarm = stack_alarm("ApiErrorRateAlarm")

    points = burst(18, 6)  # a third of the requests fail, but 18 < 20 requests
    now = datetime.now(UTC)

    assert query_values(alarm, alarm.returned, points, [now]) == [0.0]
    assert alarm_state(alarm, points, now) == "OK"


def test_no_traffic_is_not_an_error() -> None:
    assert alarm_state(stack_alarm("ApiErrorRateAlarm"), [], datetime.now(UTC)) == "OK"
