"""The metric-math evaluator: what it accepts, how it binds, what it refuses."""

from __future__ import annotations

import pytest

from tests.infra.metric_math import evaluate_expression, parse_expression
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
    "expression", ["__import__('os')", "FILL(m, 0)", "1 +", "(1", "m m", "1 ; 2"]
)
def test_anything_outside_the_grammar_is_refused(expression: str) -> None:
    with pytest.raises(SyntaxError):
        value(expression, m=1)
