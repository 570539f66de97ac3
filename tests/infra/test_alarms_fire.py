"""The monitoring stack's alarms fire on the metric data our code emits, and stay quiet otherwise.

Each test produces metric data the way production does (the API's EMF lines from real requests
on DynamoDB Local and cognito-local; the ETL's datapoints from etl/run_metrics.py) and asks
tests/infra/alarm_eval.py what the alarm, as written in infra/monitoring.yaml, would decide.
The two alarms on AWS's own metrics (Lambda and DynamoDB throttles) get synthetic datapoints
instead, shaped as AWS publishes them; see the section at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from api.app import create_app, tables
from api.config import Settings
from api.storage import bind_tables
from api.tasks.models import Task
from etl.run_metrics import (
    FRESHNESS_ALARM_AFTER,
    RunReport,
    data_freshness_seconds,
    erasure_blocked_data,
    erasure_failed_data,
    erasure_metric_data,
    run_metric_data,
)
from etl.run_metrics import NAMESPACE as ETL_NAMESPACE
from infra.local.services import free_port
from tests.api.conftest import PASSWORD, Account, unique_email
from tests.infra.alarm_eval import (
    Datapoint,
    InsightsQuery,
    alarm_state,
    from_emf,
    from_metric_data,
    insights_values,
    parse_insights,
    query_values,
)
from tests.infra.monitoring_template import Alarm, alarms

Burst = Callable[[int, int], list[Datapoint]]


def stack_alarm(logical_id: str) -> Alarm:
    """The alarm as the stack deploys it for the stage the local app reports as."""
    return alarms({"Environment": Settings.from_env().stage})[logical_id]


# Tests that run no app fix the stage themselves: STAGE is set only once the engines have started.
STAGE = "dev"


def stage_alarm(logical_id: str) -> Alarm:
    """The alarm as the stack deploys it for STAGE."""
    return alarms({"Environment": STAGE})[logical_id]


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
    assert alarm_state(stage_alarm("ApiErrorRateAlarm"), [], datetime.now(UTC)) == "OK"


# --- the ETL: datapoints as the DAG's report task builds them ---

REPORTED_AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def run_report(
    *, succeeded: bool, newest_day: date | None, at: datetime = REPORTED_AT
) -> list[Datapoint]:
    """The datapoints of one tasks_daily run that reported at `at`."""
    report = RunReport(
        "tasks_daily",
        succeeded=succeeded,
        duration_seconds=240.0,
        rows_exported=10 if succeeded else None,
        rows_written={"tasks": 10} if succeeded else {},
        partitions_published=3 if succeeded else None,
        freshness_seconds=data_freshness_seconds(newest_day, at),
    )
    return from_metric_data(ETL_NAMESPACE, run_metric_data(report, at))


def test_a_failed_run_fires_the_etl_failure_alarm_and_a_good_one_does_not() -> None:
    alarm = stage_alarm("EtlRunFailedAlarm")
    later = REPORTED_AT + timedelta(minutes=5)

    failed = run_report(succeeded=False, newest_day=date(2026, 11, 28))
    succeeded = run_report(succeeded=True, newest_day=date(2026, 11, 29))

    assert alarm_state(alarm, failed, later) == "ALARM"
    assert alarm_state(alarm, succeeded, later) == "OK"
    assert alarm_state(alarm, [], later) == "OK"  # no run reported: the freshness alarm's case


def test_a_failed_or_refused_erasure_fires_its_alarm_and_rows_erased_do_not() -> None:
    alarm = stage_alarm("EtlErasureFailedAlarm")
    later = REPORTED_AT + timedelta(minutes=5)

    refused = erasure_blocked_data("lake_erasure", REPORTED_AT) + erasure_failed_data(
        "lake_erasure", REPORTED_AT
    )
    erased = erasure_metric_data("lake_erasure", {"tasks": 3, "users": 1}, REPORTED_AT)

    assert alarm_state(alarm, from_metric_data(ETL_NAMESPACE, refused), later) == "ALARM"
    assert alarm_state(alarm, from_metric_data(ETL_NAMESPACE, erased), later) == "OK"
    assert alarm_state(alarm, [], later) == "OK"


def test_the_freshness_alarm_fires_on_a_34_hour_old_partition_not_a_2_hour_old_one() -> None:
    alarm = stage_alarm("EtlDataFreshnessAlarm")
    stale_at = REPORTED_AT + timedelta(hours=4)
    later = stale_at + timedelta(minutes=5)

    # Reported at 10:00 on the 30th: the 28th ended 34 h earlier, past the 8-hour SLA.
    stale = run_report(succeeded=False, newest_day=date(2026, 11, 28), at=stale_at)
    fresh_at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 2 h after the 29th ended
    fresh = run_report(succeeded=True, newest_day=date(2026, 11, 29), at=fresh_at)

    assert [point.value for point in stale if point.name == "DataFreshnessSeconds"] == [122_400]
    assert alarm_state(alarm, stale, later) == "ALARM"
    assert alarm_state(alarm, fresh, fresh_at + timedelta(minutes=5)) == "OK"


def states_every_hour(
    alarm: Alarm, points: list[Datapoint], since: datetime, hours: int
) -> list[str]:
    """The alarm's state at each hour from `since` on, each evaluation starting from the last."""
    state, states = "INSUFFICIENT_DATA", []
    for hour in range(hours + 1):
        state = alarm_state(alarm, points, since + timedelta(hours=hour, minutes=5), state)
        states.append(state)
    return states


def test_a_new_stack_without_any_run_stays_quiet() -> None:
    """A new alarm starts in INSUFFICIENT_DATA, which notifies no one; with no report it stays
    there for good (a stage deployed and never run, or runs that found an empty lake)."""
    alarm = stage_alarm("EtlDataFreshnessAlarm")
    nothing_published = run_report(succeeded=False, newest_day=None)

    assert set(states_every_hour(alarm, [], REPORTED_AT, 24 * 7)) == {"INSUFFICIENT_DATA"}
    assert set(states_every_hour(alarm, nothing_published, REPORTED_AT, 24 * 7)) == {
        "INSUFFICIENT_DATA"
    }


def test_a_pipeline_that_ran_once_then_stopped_alarms_and_stays_in_alarm() -> None:
    alarm = stage_alarm("EtlDataFreshnessAlarm")
    # At 06:00 on the 30th the newest day (the 29th) ended 6 h earlier: it turns 32 h old at
    # 08:00 on the 1st, 26 h after the report. Ages count in whole periods from the report's,
    # so the alarm sees it in the next hour.
    once = run_report(succeeded=True, newest_day=date(2026, 11, 29))

    states = states_every_hour(alarm, once, REPORTED_AT, 24 * 7)

    assert set(states[:27]) == {"OK"}
    assert set(states[27:]) == {"ALARM"}  # also once the report has left the 33-hour range


def test_an_ordinary_slow_day_does_not_page() -> None:
    """Within the SLA: the 29th published at 05:00 on the 30th, the 30th only at 07:30 on the
    1st (a 7.5-hour run). The 29th is then 31.5 h old: late, not lost.
    """
    alarm = stage_alarm("EtlDataFreshnessAlarm")
    published_29th = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    published_30th = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    reports = run_report(
        succeeded=True, newest_day=date(2026, 11, 29), at=published_29th
    ) + run_report(succeeded=True, newest_day=date(2026, 11, 30), at=published_30th)

    states = states_every_hour(alarm, reports, published_29th, 30)

    assert (published_30th - datetime(2026, 11, 30, tzinfo=UTC)) < FRESHNESS_ALARM_AFTER
    assert set(states) == {"OK"}
    assert alarm.threshold == FRESHNESS_ALARM_AFTER.total_seconds()


def test_the_next_fresh_run_clears_the_alarm_of_a_stopped_pipeline() -> None:
    alarm = stage_alarm("EtlDataFreshnessAlarm")
    once = run_report(succeeded=True, newest_day=date(2026, 11, 29))
    resumed_at = REPORTED_AT + timedelta(days=3)
    resumed = run_report(succeeded=True, newest_day=date(2026, 12, 2), at=resumed_at)

    states = states_every_hour(alarm, once + resumed, REPORTED_AT, 24 * 3 + 12)

    assert states[24 * 3 - 1] == "ALARM"
    assert set(states[24 * 3 :]) == {"OK"}  # from the resumed run's report on


def test_a_day_missing_from_the_lake_fires_the_missing_partitions_alarm_until_filled() -> None:
    """Freshness is fine (yesterday is published); a day in the window before it is not."""
    alarm = stage_alarm("EtlMissingPartitionsAlarm")
    later = REPORTED_AT + timedelta(minutes=5)

    def reported(missing: int) -> list[Datapoint]:
        report = RunReport(
            "tasks_daily",
            succeeded=True,
            duration_seconds=240.0,
            freshness_seconds=data_freshness_seconds(date(2026, 11, 29), REPORTED_AT),
            missing_partitions=missing,
        )
        return from_metric_data(ETL_NAMESPACE, run_metric_data(report, REPORTED_AT))

    assert alarm_state(stage_alarm("EtlDataFreshnessAlarm"), reported(1), later) == "OK"
    assert alarm_state(alarm, reported(1), later) == "ALARM"
    assert alarm_state(alarm, reported(0), later) == "OK"
    assert alarm_state(alarm, [], later) == "OK"  # no run reported: the freshness alarm's case


# --- the Metrics Insights subset the evaluator knows ---


def test_the_dynamodb_alarm_query_parses_to_the_five_tables_of_the_stage() -> None:
    (query,) = stage_alarm("DynamoDbThrottlesAlarm").queries

    parsed = parse_insights(query.expression)

    assert parsed == InsightsQuery(
        statistic="Sum",
        namespace="AWS/DynamoDB",
        name="ThrottledRequests",
        schema=frozenset({"Operation", "TableName"}),
        where=tuple(
            (("TableName", f"tasklake-{STAGE}-{table}"),)
            for table in ("tasks", "users", "idempotency", "revoked-tokens", "rate-limits")
        ),
        group_by=(),
    )


@pytest.mark.parametrize(
    "query",
    [
        'SELECT SUM(X) FROM "N"',  # no SCHEMA: every dimension set
        "SELECT SUM(X) FROM SCHEMA(\"N\", A) WHERE A != '1'",
        "SELECT SUM(X) FROM SCHEMA(\"N\", A) WHERE A LIKE '1%'",
        "SELECT SUM(X) FROM SCHEMA(\"N\", A) WHERE A IN ('1', '2')",
        "SELECT SUM(X) FROM SCHEMA(\"N\", A, B) WHERE A = '1' AND (B = '2' OR B = '3')",
        "SELECT SUM(X) FROM SCHEMA(\"N\", A) WHERE A = 'it\\'s'",
        "SELECT SUM(X) FROM SCHEMA(\"N\", A) WHERE B = '1'",  # B is outside the SCHEMA
        'SELECT SUM(X) FROM SCHEMA("N", A) GROUP BY B',
        'SELECT SUM(X) FROM SCHEMA("N", A, A)',
        'SELECT SUM(X) FROM SCHEMA("N", A) ORDER BY SUM() DESC LIMIT 10',
        'SELECT MEDIAN(X) FROM SCHEMA("N", A)',
        'SELECT SUM(X) FROM SCHEMA("N", "A")',  # a quoted key
    ],
)
def test_a_query_outside_the_subset_is_refused(query: str) -> None:
    with pytest.raises(ValueError, match="not in the Metrics Insights subset"):
        parse_insights(query)


def test_schema_keeps_exact_dimension_sets_and_and_binds_tighter_than_or() -> None:
    query = parse_insights(
        "select max(X) from schema(\"N\", A, B) where A = '1' and B = '2' or A = '3' group by B"
    )
    at = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)

    def point(value: float, **dimensions: str) -> Datapoint:
        return Datapoint("N", "X", tuple(sorted(dimensions.items())), value, at)

    points = [
        point(1, A="1", B="2"),
        point(2, A="1", B="9"),  # A = '1' but not B = '2', and not A = '3'
        point(3, A="3", B="9"),
        point(4, A="3", B="2"),
        point(5, A="3"),  # dimension set {A}: not the SCHEMA's {A, B}
        point(6, A="3", B="2", C="x"),  # {A, B, C}: not the SCHEMA's either
    ]

    assert insights_values(query, points, 300, [at]) == {("2",): [4.0], ("9",): [3.0]}


def test_an_alarm_on_a_group_by_query_is_refused() -> None:
    alarm = stage_alarm("DynamoDbThrottlesAlarm")
    (query,) = alarm.queries
    grouped = replace(query, expression=f"{query.expression} GROUP BY TableName")

    with pytest.raises(ValueError, match="GROUP BY"):
        alarm_state(replace(alarm, queries=(grouped,)), [], datetime.now(UTC))


# --- AWS's own metrics: synthetic datapoints, shaped as AWS publishes them ---
#
# Nothing local emits AWS/Lambda or AWS/DynamoDB metrics, so these tests write the datapoints by
# hand, with the namespace, metric name, dimension names and values AWS uses: Lambda's Throttles
# per FunctionName (Zappa names the function `<project_name>-<stage>`, zappa_settings.json), and
# DynamoDB's ThrottledRequests per TableName and Operation (table names as infra/data.yaml gives
# them, `tasklake-<stage>-<table>`). Each datapoint stands for one minute's Sum, as AWS sends it.

THROTTLED_AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CHECKED_AT = THROTTLED_AT + timedelta(minutes=2)
API_TABLES = ("tasks", "users", "idempotency", "revoked-tokens", "rate-limits")


def lambda_throttle(function_name: str, at: datetime = THROTTLED_AT) -> Datapoint:
    """One throttled invocation as AWS/Lambda publishes it: `Throttles`, by FunctionName only."""
    return Datapoint("AWS/Lambda", "Throttles", (("FunctionName", function_name),), 1.0, at)


def dynamodb_throttle(
    metric: str = "ThrottledRequests", stage: str = STAGE, **dimensions: str
) -> Datapoint:
    """One throttle in AWS/DynamoDB; `table=` is the short name, other keywords are dimensions."""
    table = dimensions.pop("table")
    named = {"TableName": f"tasklake-{stage}-{table}", **dimensions}
    return Datapoint("AWS/DynamoDB", metric, tuple(sorted(named.items())), 1.0, THROTTLED_AT)


def test_one_throttled_invocation_fires_the_lambda_throttles_alarm() -> None:
    alarm = stage_alarm("LambdaThrottlesAlarm")
    points = [lambda_throttle(f"tasklake-{STAGE}")]

    assert query_values(alarm, alarm.returned, points, [CHECKED_AT]) == [1.0]
    assert alarm_state(alarm, points, CHECKED_AT) == "ALARM"


def test_no_throttle_an_old_one_or_another_functions_leaves_the_lambda_alarm_ok() -> None:
    alarm = stage_alarm("LambdaThrottlesAlarm")
    six_minutes_ago = CHECKED_AT - timedelta(minutes=6)

    assert alarm_state(alarm, [], CHECKED_AT) == "OK"  # TreatMissingData: notBreaching
    assert alarm_state(alarm, [lambda_throttle("tasklake-prod")], CHECKED_AT) == "OK"
    old = [lambda_throttle(f"tasklake-{STAGE}", at=six_minutes_ago)]
    assert alarm_state(alarm, old, CHECKED_AT) == "OK"  # outside the 5-minute period


def test_a_throttled_query_on_the_revoked_tokens_table_fires_the_dynamodb_alarm() -> None:
    alarm = stage_alarm("DynamoDbThrottlesAlarm")
    points = [dynamodb_throttle(table="revoked-tokens", Operation="Query")]

    assert query_values(alarm, alarm.returned, points, [CHECKED_AT]) == [1.0]
    assert alarm_state(alarm, points, CHECKED_AT) == "ALARM"


def test_a_throttle_on_the_rate_limits_table_fires_the_dynamodb_alarm() -> None:
    alarm = stage_alarm("DynamoDbThrottlesAlarm")
    points = [dynamodb_throttle(table="rate-limits", Operation="UpdateItem")]

    assert alarm_state(alarm, points, CHECKED_AT) == "ALARM"


@pytest.mark.parametrize("table", API_TABLES)
def test_throttles_on_every_api_table_are_summed_by_the_dynamodb_alarm(table: str) -> None:
    alarm = stage_alarm("DynamoDbThrottlesAlarm")
    points = [
        dynamodb_throttle(table=table, Operation="GetItem"),
        dynamodb_throttle(table=table, Operation="PutItem"),
    ]

    assert query_values(alarm, alarm.returned, points, [CHECKED_AT]) == [2.0]
    assert alarm_state(alarm, points, CHECKED_AT) == "ALARM"


def test_no_throttle_or_another_stages_leaves_the_dynamodb_alarm_ok() -> None:
    alarm = stage_alarm("DynamoDbThrottlesAlarm")
    other_stage = [dynamodb_throttle(stage="prod", table="tasks", Operation="Query")]

    assert alarm_state(alarm, [], CHECKED_AT) == "OK"  # TreatMissingData: notBreaching
    assert alarm_state(alarm, other_stage, CHECKED_AT) == "OK"


def test_a_throttle_on_a_global_secondary_index_reaches_the_alarm_through_the_tables_series() -> (
    None
):
    """AWS's DynamoDB metric list gives ThrottledRequests the dimensions TableName and Operation
    only; GlobalSecondaryIndexName comes with ReadThrottleEvents, WriteThrottleEvents and the
    capacity metrics. A PutItem whose write to the status-index is throttled therefore counts
    once in ThrottledRequests {TableName, Operation=PutItem} (and in WriteThrottleEvents
    {TableName, GlobalSecondaryIndexName}). A ThrottledRequests with an extra index dimension,
    were AWS ever to publish one, has another dimension set and is left out by SCHEMA.
    """
    alarm = stage_alarm("DynamoDbThrottlesAlarm")
    as_published = [
        dynamodb_throttle(table="tasks", Operation="PutItem"),
        dynamodb_throttle(
            "WriteThrottleEvents", table="tasks", GlobalSecondaryIndexName="status-index"
        ),
    ]
    with_index = [
        dynamodb_throttle(table="tasks", Operation="Query", GlobalSecondaryIndexName="status-index")
    ]

    assert query_values(alarm, alarm.returned, as_published, [CHECKED_AT]) == [1.0]
    assert alarm_state(alarm, as_published, CHECKED_AT) == "ALARM"
    assert alarm_state(alarm, with_index, CHECKED_AT) == "OK"


# --- A package that fails at import: only AWS's own metrics see it ---
#
# The handler never runs, so nothing writes a Tasklake/API datapoint. Lambda counts each failed
# invocation in `Errors` (1 per invocation, by FunctionName; "function errors include exceptions
# that the Lambda runtime throws", https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
# and API Gateway answers 502 and counts the request in `Count` and `5XXError` (by ApiName and
# Stage; Zappa names the REST API `<project_name>-<stage>` like the function,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
# One datapoint per request here, as the raw values those statistics aggregate.

API_ALARMS = ("ApiErrorRateAlarm", "ApiGateway5xxAlarm", "ApiLatencyAlarm", "LambdaErrorsAlarm")


def gateway_requests(
    requests: int, failing: int, *, function_errors: bool, stage: str = STAGE
) -> list[Datapoint]:
    """`requests` requests through API Gateway, the first `failing` answered 5xx."""
    api = (("ApiName", f"tasklake-{stage}"), ("Stage", stage))
    function = (("FunctionName", f"tasklake-{stage}"),)
    points = []
    for number in range(requests):
        failed = number < failing
        points.append(Datapoint("AWS/ApiGateway", "Count", api, 1.0, THROTTLED_AT))
        points.append(Datapoint("AWS/ApiGateway", "5XXError", api, float(failed), THROTTLED_AT))
        if failed and function_errors:
            points.append(Datapoint("AWS/Lambda", "Errors", function, 1.0, THROTTLED_AT))
    return points


def api_alarm_states(points: list[Datapoint]) -> dict[str, str]:
    return {name: alarm_state(stage_alarm(name), points, CHECKED_AT) for name in API_ALARMS}


def test_an_import_failure_fires_the_lambda_and_api_gateway_alarms_the_app_cannot() -> None:
    import_failure = gateway_requests(30, 30, function_errors=True)

    assert api_alarm_states(import_failure) == {
        "ApiErrorRateAlarm": "OK",  # no Tasklake/API data: blind, as the issue said
        "ApiGateway5xxAlarm": "ALARM",
        "ApiLatencyAlarm": "OK",
        "LambdaErrorsAlarm": "ALARM",
    }


def test_an_import_failure_on_a_quiet_stage_fires_the_lambda_errors_alarm() -> None:
    """Below 20 requests the rate alarms stay quiet by design; any function error still pages."""
    import_failure = gateway_requests(3, 3, function_errors=True)

    states = api_alarm_states(import_failure)

    assert (states["LambdaErrorsAlarm"], states["ApiGateway5xxAlarm"]) == ("ALARM", "OK")


def test_the_api_gateway_alarm_fires_on_5xx_without_a_function_error() -> None:
    """API Gateway answers 500 itself when it may not invoke the function: no Lambda error."""
    cannot_invoke = gateway_requests(40, 4, function_errors=False)

    states = api_alarm_states(cannot_invoke)

    assert (states["ApiGateway5xxAlarm"], states["LambdaErrorsAlarm"]) == ("ALARM", "OK")


def test_healthy_traffic_one_error_in_forty_or_another_stage_leaves_api_gateway_ok() -> None:
    assert api_alarm_states(gateway_requests(40, 0, function_errors=False)) == dict.fromkeys(
        API_ALARMS, "OK"
    )
    assert (
        api_alarm_states(gateway_requests(40, 1, function_errors=True))["ApiGateway5xxAlarm"]
        == "OK"
    )
    other_stage = gateway_requests(30, 30, function_errors=True, stage="prod")
    assert api_alarm_states(other_stage) == dict.fromkeys(API_ALARMS, "OK")
