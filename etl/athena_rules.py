"""Athena engine v3's rules for the lake's SQL, checked offline over the parsed statements.

Athena cannot run here (no account in CI, and moto does not execute queries), and DuckDB accepts
much that Athena refuses, so each rule the statements in etl/sql/ rely on is written down here
with the AWS page it comes from, and `violations` finds every place a statement breaks one.
tests/etl/test_athena_rules.py runs it over every statement, and over the tasks.sql that failed
in Athena, which breaks two of them.

What this does not see: rules about values (a string Athena cannot parse as a timestamp), and
types sqlglot cannot tell without a schema. The local engine's output types are checked against
the Glue schemas separately (tests/etl/test_schemas.py).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

ENGINE_V3 = "https://docs.aws.amazon.com/athena/latest/ug/engine-versions-reference-0003.html"
TIMESTAMP_CHANGES = f"{ENGINE_V3}#engine-versions-reference-0003-timestamp-changes"
DATA_TYPES = "https://docs.aws.amazon.com/athena/latest/ug/data-types.html"
TIMESTAMP_DATA = "https://docs.aws.amazon.com/athena/latest/ug/data-types-timestamps.html"
CTAS_CONSIDERATIONS = "https://docs.aws.amazon.com/athena/latest/ug/considerations-ctas.html"
FUNCTIONS_V3 = "https://docs.aws.amazon.com/athena/latest/ug/functions-env3.html"

CTAS_TIMESTAMP_PRECISION = 3
"""Athena writes a Hive table's timestamps in milliseconds: a CTAS producing `timestamp(6)` fails
("Incorrect timestamp precision ... the configured precision is MILLISECONDS")."""

ZONED_FUNCTIONS = frozenset(
    {
        "from_iso8601_timestamp",
        "from_iso8601_timestamp_nanos",
        "from_unixtime",
        "at_timezone",
        "with_timezone",
        "parse_datetime",
        "current_timestamp",
        "now",
    }
)
"""Functions returning `timestamp with time zone` (Trino's reference, which Athena v3 follows)."""

CHECKED_FUNCTIONS = frozenset(
    {
        # array_distinct(array(T)) -> array(T): Trino's array functions (FUNCTIONS_V3). The
        # worker computes it as Trino does for a short list column only; otherwise DuckDB's
        # list_distinct drops nulls and order, so the SQL removes nulls first and unnests it.
        "array_distinct",
        "cardinality",
        "coalesce",
        "count",
        "date_add",
        "date_diff",
        # filter(array(T), T -> boolean) -> array(T) and cardinality(array) -> bigint: Trino's
        # array functions (FUNCTIONS_V3), used as
        # https://docs.aws.amazon.com/athena/latest/ug/filtering-arrays.html shows.
        "filter",
        "floor",
        "from_iso8601_timestamp",
        "lower",
        "max",
        "min",
        "row_number",
        "sum",
        "transform",
    }
)
"""Every function the statements call, each looked up in Athena engine v3's function list with
the argument and result types the SQL relies on. A new one is added here after the same look-up:
engine v3 removed or changed some of Presto's (FUNCTIONS_V3, ENGINE_V3 "Breaking changes")."""

WIDTH_CHECKED_TYPES = frozenset(
    {
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.DATE,
        exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.ARRAY,
    }
)
"""The types a statement may cast to: the Glue columns' (bigint, double, date, boolean, string,
timestamp, array). A narrower integer overflows where bigint does not, `real` loses digits, and a
`varchar(n)` is cut to n characters when read (DATA_TYPES)."""

_DECIMAL_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL}


@dataclass(frozen=True)
class Violation:
    rule: str
    source: str
    where: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.where} ({self.source})"


@dataclass(frozen=True)
class Rule:
    name: str
    source: str
    """The AWS documentation page(s) the rule comes from."""
    find: Callable[[exp.Expr], Iterator[exp.Expr]]
    """Yields each node of a statement that breaks the rule."""


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql(dialect="trino").split("(", 1)[0].strip().lower()


def _calls(tree: exp.Expr) -> Iterator[exp.Expr]:
    """Function calls, leaving out operators, casts and syntax sqlglot models as functions.

    `CASE WHEN … THEN … END` (sqlglot's Case, each branch an If) is standard SQL syntax, Trino's
    and so engine v3's conditional expression (FUNCTIONS_V3 lists it under "Conditional")."""
    syntax = (
        exp.Binary,
        exp.Connector,
        exp.Cast,
        exp.Array,
        exp.Unnest,
        exp.Not,
        exp.Paren,
        exp.Case,
        exp.If,
    )
    for node in tree.find_all(exp.Func):
        if not isinstance(node, syntax):
            yield node


def _casts(tree: exp.Expr) -> Iterator[exp.Cast]:
    yield from tree.find_all(exp.Cast)


def _timestamp_precision(tree: exp.Expr) -> Iterator[exp.Expr]:
    for data_type in tree.find_all(exp.DataType):
        if data_type.this not in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ):
            continue
        precision = data_type.find(exp.DataTypeParam)
        if precision is not None and int(precision.name) != CTAS_TIMESTAMP_PRECISION:
            yield data_type


def _zoned_aliases(tree: exp.Expr) -> set[str]:
    """Names given to zoned expressions, so a cast of the column further out is seen too."""
    return {alias.alias for alias in tree.find_all(exp.Alias) if _is_zoned(alias.this, set())}


def _is_zoned(node: exp.Expr, zoned_names: set[str]) -> bool:
    if isinstance(node, exp.Paren):
        return _is_zoned(node.this, zoned_names)
    if isinstance(node, exp.AtTimeZone):
        return True
    if isinstance(node, exp.Cast):
        return bool(node.to.this == exp.DataType.Type.TIMESTAMPTZ)
    if isinstance(node, exp.Column):
        return node.name in zoned_names
    return isinstance(node, exp.Func) and _function_name(node) in ZONED_FUNCTIONS


def _zoned_to_plain_casts(tree: exp.Expr) -> Iterator[exp.Expr]:
    zoned_names = _zoned_aliases(tree)
    for cast in _casts(tree):
        if cast.to.this == exp.DataType.Type.TIMESTAMP and _is_zoned(cast.this, zoned_names):
            yield cast


def _unchecked_functions(tree: exp.Expr) -> Iterator[exp.Expr]:
    for call in _calls(tree):
        if _function_name(call) not in CHECKED_FUNCTIONS:
            yield call


def _integer_divisions(tree: exp.Expr) -> Iterator[exp.Expr]:
    """Divisions whose divisor is not visibly decimal: integer `/` truncates in Athena."""
    for division in tree.find_all(exp.Div):
        divisor = division.expression
        while isinstance(divisor, exp.Paren):
            divisor = divisor.this
        if isinstance(divisor, exp.Literal) and not divisor.is_string:
            if any(mark in divisor.name.lower() for mark in (".", "e")):
                continue
        elif isinstance(divisor, exp.Cast) and divisor.to.this in _DECIMAL_TYPES:
            continue
        yield division


def _ignored_orders(tree: exp.Expr) -> Iterator[exp.Expr]:
    """ORDER BY without LIMIT: a CTAS ignores it, so it only costs a sort. With LIMIT it still
    chooses which rows are kept."""
    for order in tree.find_all(exp.Order):
        query = order.parent
        if isinstance(query, exp.Select) and query.args.get("limit") is None:
            yield order


def _narrow_types(tree: exp.Expr) -> Iterator[exp.Expr]:
    for cast in _casts(tree):
        outer = cast.to
        if outer.this not in WIDTH_CHECKED_TYPES or (
            outer.this == exp.DataType.Type.VARCHAR and outer.expressions
        ):
            yield cast
        else:
            for element in outer.find_all(exp.DataType):
                if element is not outer and element.this not in WIDTH_CHECKED_TYPES:
                    yield cast


RULES = (
    Rule(
        "timestamp precision must be milliseconds",
        f"{TIMESTAMP_CHANGES} ; {TIMESTAMP_DATA}",
        _timestamp_precision,
    ),
    Rule(
        "no cast from timestamp with time zone to timestamp",
        TIMESTAMP_CHANGES,
        _zoned_to_plain_casts,
    ),
    Rule("only functions checked against Athena engine v3", FUNCTIONS_V3, _unchecked_functions),
    Rule("every division has a decimal or double divisor", DATA_TYPES, _integer_divisions),
    Rule("casts only to the Glue columns' types and widths", DATA_TYPES, _narrow_types),
    Rule("no ORDER BY without LIMIT: a CTAS ignores it", CTAS_CONSIDERATIONS, _ignored_orders),
)


def violations(sql: str) -> list[Violation]:
    """Every place the Trino statement `sql` breaks one of RULES, in rule order."""
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    return [
        Violation(rule.name, rule.source, node.sql(dialect="trino")[:120])
        for rule in RULES
        for node in rule.find(tree)
    ]
