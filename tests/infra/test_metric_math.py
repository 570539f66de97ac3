"""The metric-math evaluator: what it accepts, how it binds, what it refuses."""

from __future__ import annotations

import pytest

from tests.infra.metric_math import evaluate_expression, evaluate_series, parse_expression
from tests.infra.monitoring_template import alarms


def value(expression: str, **metrics: float | None) -> float | None:
    return evaluate_expression(parse_expression(expression), metrics)


def test_every_alarm_expression_in_the_template_parses() -> None:
    expressions = [
        query.expression
        for alarm in alarms().values()
        for query in alarm.queries
        if query.expression and not query.expression.startswith("SELECT")
    ]

    assert expressions
    for expression in expressions:
        parse_expression(expression)


def test_multiplication_binds_tighter_than_addition_and_comparison_loosest() -> None:
    assert value("1 + 2 * 3") == 7
    assert value("100 * e / r", e=1, r=20) == 5
    assert value("r >= 10 + 10", r=20) == 1
    assert value("-2 * -3") == 6


def test_if_chooses_by_its_condition() -> None:
    rate = "IF(requests >= 20, 100 * errors / requests, 0)"

    assert value(rate, requests=40, errors=4) == 10
    assert value(rate, requests=19, errors=19) == 0


def test_missing_inputs_and_division_by_zero_give_no_datapoint() -> None:
    assert value("100 * errors / requests", errors=1, requests=None) is None
    assert value("100 * errors / requests", errors=0, requests=0) is None


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "FILL(m, LINEAR)", "RUNNING_SUM(m)", "1 +", "(1", "m m", "1 ; 2"],
)
def test_anything_outside_the_grammar_is_refused(expression: str) -> None:
    with pytest.raises(SyntaxError):
        value(expression, m=1)


def series(
    expression: str, starts: list[float], **metrics: list[float | None]
) -> list[float | None]:
    return evaluate_series(parse_expression(expression), metrics, starts)


def test_fill_fills_gaps_with_a_value_or_the_last_one_but_not_before_the_first() -> None:
    m = [None, 5.0, None, None, 7.0, None]
    starts = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]

    assert series("FILL(m, 0)", starts, m=m) == [0.0, 5.0, 0.0, 0.0, 7.0, 0.0]
    assert series("FILL(m, REPEAT)", starts, m=m) == [None, 5.0, 5.0, 5.0, 7.0, 7.0]


def test_fill_leaves_a_series_without_any_value_missing() -> None:
    assert series("FILL(m, 0)", [0.0, 1.0], m=[None, None]) == [None, None]
    assert series("FILL(m, REPEAT)", [0.0, 1.0], m=[None, None]) == [None, None]


def test_epoch_is_the_start_of_each_period_that_has_a_value() -> None:
    assert series("EPOCH(m)", [3600.0, 7200.0, 10800.0], m=[1.0, None, 2.0]) == [
        3600.0,
        None,
        10800.0,
    ]
