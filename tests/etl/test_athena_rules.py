"""Athena engine v3's rules, checked offline (etl/athena_rules.py), over every lake statement.

Each rule's test breaks it in a statement that DuckDB runs happily: the failure would only show
in Athena, at scale, on the first run that takes the Athena path.
"""

import re
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from etl.athena_rules import RULES, violations
from etl.schemas import TABLES
from etl.transform_sql import BRONZE_RELATION, USERS_BRONZE_RELATION, table_query

SNAPSHOT = date(2026, 11, 25)

# etl/sql/tasks.sql as it failed in Athena: a CTAS of timestamp(6), a cast from a zoned timestamp.
FAILED_TASKS_SQL = """
SELECT
    user_id,
    CAST(created_at AT TIME ZONE 'UTC' AS timestamp(6)) AS created_at,
    CAST(updated_at AT TIME ZONE 'UTC' AS timestamp(6)) AS updated_at,
    CAST(completed_at AT TIME ZONE 'UTC' AS timestamp(6)) AS completed_at,
    (round(to_unixtime(completed_at) * 1e6) - round(to_unixtime(created_at) * 1e6)) / 3.6e9
        AS hours_to_complete
FROM (
    SELECT
        item.user_id.s AS user_id,
        from_iso8601_timestamp_nanos(item.created_at.s) AS created_at,
        from_iso8601_timestamp_nanos(item.updated_at.s) AS updated_at,
        from_iso8601_timestamp_nanos(item.completed_at.s) AS completed_at
    FROM bronze_tasks
) AS items
"""


def _broken(sql: str) -> set[str]:
    return {violation.rule for violation in violations(sql)}


@pytest.mark.parametrize("table", list(TABLES))
def test_every_lake_statement_keeps_every_rule(table: str) -> None:
    assert [str(v) for v in violations(table_query(table, SNAPSHOT))] == []


def test_the_tasks_statement_that_failed_in_athena_fails_for_both_reasons() -> None:
    broken = _broken(FAILED_TASKS_SQL)

    assert "timestamp precision must be milliseconds" in broken
    assert "no cast from timestamp with time zone to timestamp" in broken


def test_every_rule_names_the_aws_page_it_comes_from() -> None:
    for rule in RULES:
        assert re.match(r"https://docs\.aws\.amazon\.com/athena/latest/ug/\S+\.html", rule.source)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT CAST(from_iso8601_timestamp(s) AS timestamp(3)) FROM t",
        "SELECT CAST(x AS timestamp) FROM (SELECT from_unixtime(n) AS x FROM t) AS u",
        "SELECT CAST(CAST(s AS timestamp with time zone) AS timestamp(3)) FROM t",
    ],
    ids=["zoned-function", "zoned-alias", "zoned-cast"],
)
def test_any_cast_from_a_zoned_timestamp_to_a_plain_one_is_caught(sql: str) -> None:
    assert "no cast from timestamp with time zone to timestamp" in _broken(sql)


def test_a_plain_millisecond_timestamp_is_allowed() -> None:
    sql = (
        "SELECT CAST(date_add('millisecond', n, CAST('1970-01-01 00:00:00.000' AS timestamp(3)))"
        " AS timestamp(3)) FROM t"
    )

    assert _broken(sql) == set()


@pytest.mark.parametrize("divisor", ["2", "count(*)", "CAST(n AS bigint)", "(1 + 1)"])
def test_a_division_by_an_integer_is_caught(divisor: str) -> None:
    sql = "SELECT sum(x) / " + divisor + " FROM t"  # noqa: S608 - a test statement

    assert _broken(sql) == {"every division has a decimal or double divisor"}


@pytest.mark.parametrize("divisor", ["2.0", "3.6e6", "CAST(n AS double)"])
def test_a_division_by_a_decimal_is_allowed(divisor: str) -> None:
    sql = "SELECT sum(x) / " + divisor + " FROM t"  # noqa: S608 - a test statement

    assert _broken(sql) == set()


@pytest.mark.parametrize("target", ["integer", "smallint", "real", "varchar(20)", "array(integer)"])
def test_a_cast_narrower_than_the_glue_column_is_caught(target: str) -> None:
    sql = "SELECT CAST(x AS " + target + ") FROM t"  # noqa: S608 - a test statement

    assert _broken(sql) == {"casts only to the Glue columns' types and widths"}


def test_a_function_not_checked_against_engine_v3_is_caught() -> None:
    assert _broken("SELECT approx_percentile(x, 0.5), list_transform(l, v -> v) FROM t") == {
        "only functions checked against Athena engine v3"
    }


def test_an_order_without_a_limit_is_caught_but_a_top_n_is_not() -> None:
    assert _broken("SELECT x FROM t ORDER BY x") == {"no ORDER BY without LIMIT: a CTAS ignores it"}
    assert _broken("SELECT x FROM t ORDER BY x DESC LIMIT 10") == set()


def trino_tokens(sql: str) -> list[str]:
    """`sql`'s tokens, with the rewrite sqlglot makes of valid Trino undone."""
    sql = re.sub(r"NOT (\S+) IS NULL", r"\1 IS NOT NULL", sql)
    return [token.text.lower() for token in sqlglot.tokenize(sql, read="trino")]


@pytest.mark.parametrize("table", list(TABLES))
def test_sql_is_trino_as_written(table: str) -> None:
    """sqlglot reads each statement as Trino, the dialect it is checked in, without losing any of
    it, and the statements read only the export and the run's own silver rows."""
    sql = table_query(table, SNAPSHOT)
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)

    (written,) = sqlglot.transpile(sql, read="trino", write="trino")

    assert trino_tokens(written) == trino_tokens(sql)
    assert [node.name for node in tree.find_all(exp.Anonymous)] == []
    exports = {BRONZE_RELATION, USERS_BRONZE_RELATION}
    assert {t.name for t in tree.find_all(exp.Table)} <= {*exports, "tasks"}
