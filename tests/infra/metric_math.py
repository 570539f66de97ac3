"""CloudWatch metric math, the subset infra/monitoring.yaml's alarms use, parsed, never eval()'d.

    expr       := additive (("<" | "<=" | ">" | ">=" | "==" | "!=") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | ID | "IF" "(" expr "," expr "," expr ")" | "(" expr ")"
                | "FILL" "(" expr "," ("REPEAT" | NUMBER) ")" | "EPOCH" "(" expr ")"

IDs are an alarm's metric query ids (lower-case first letter, as CloudWatch requires). A result is
missing when an input has no value for that period or when it divides by zero; CloudWatch
likewise yields values only at timestamps its inputs share.

Two functions work on the whole series of the evaluated range rather than one period (AWS's
"Metric math syntax and functions"): FILL(m, v) gives m's missing periods the value v, REPEAT
the most recent value before them (a gap before m's first value stays missing); EPOCH(m) is each
datapoint's timestamp in seconds, the start of its period. A series with no value at all in the
range is left missing by FILL: there is no datapoint to fill around. That last point is this
project's reading of the docs, which the freshness alarm relies on (docs/runbook.md).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Ref:
    id: str


@dataclass(frozen=True)
class If:
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Fill:
    series: Node
    value: float | None  # None: REPEAT


@dataclass(frozen=True)
class Epoch:
    series: Node


Node = Number | Ref | If | Binary | Fill | Epoch
Series = list[float | None]

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|[-+*/(),<>]))")
_COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}
_OPERATORS: dict[str, Callable[[float, float], float | bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SyntaxError(f"unexpected {text[position:]!r} in {text!r}")
        tokens.append(match.group(match.lastindex or 0))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.at = text, _tokens(text), 0

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise SyntaxError(f"expected {expected or 'more'} at token {self.at} of {self.text!r}")
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self._expr()
        if self._peek() is not None:
            raise SyntaxError(f"unexpected {self._peek()!r} in {self.text!r}")
        return node

    def _expr(self) -> Node:
        left = self._additive()
        if self._peek() in _COMPARISONS:
            return Binary(self._take(), left, self._additive())
        return left

    def _additive(self) -> Node:
        node = self._term()
        while self._peek() in {"+", "-"}:
            node = Binary(self._take(), node, self._term())
        return node

    def _term(self) -> Node:
        node = self._unary()
        while self._peek() in {"*", "/"}:
            node = Binary(self._take(), node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._peek() == "-":
            self._take()
            return Binary("-", Number(0.0), self._unary())
        return self._primary()

    def _primary(self) -> Node:
        token = self._take()
        if token == "(":
            node = self._expr()
            self._take(")")
            return node
        if token == "IF":
            self._take("(")
            condition = self._expr()
            self._take(",")
            then = self._expr()
            self._take(",")
            otherwise = self._expr()
            self._take(")")
            return If(condition, then, otherwise)
        if token in {"FILL", "EPOCH"}:
            return self._series_function(token)
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return Number(float(token))
        if re.fullmatch(r"[a-z][A-Za-z0-9_]*", token) and self._peek() != "(":
            return Ref(token)
        raise SyntaxError(f"{token!r} is outside the supported grammar in {self.text!r}")

    def _series_function(self, name: str) -> Node:
        self._take("(")
        series = self._expr()
        if name == "EPOCH":
            self._take(")")
            return Epoch(series)
        self._take(",")
        value = self._take()
        self._take(")")
        if value == "REPEAT":
            return Fill(series, None)
        if re.fullmatch(r"\d+(?:\.\d+)?", value):
            return Fill(series, float(value))
        raise SyntaxError(f"FILL's second argument {value!r} is not supported in {self.text!r}")


def parse_expression(text: str) -> Node:
    return _Parser(text).parse()


def evaluate_expression(node: Node, values: Mapping[str, float | None]) -> float | None:
    """One period's value of a parsed expression; None if it reads missing data or divides by 0."""
    (value,) = evaluate_series(node, {name: [value] for name, value in values.items()}, [0.0])
    return value


def evaluate_series(node: Node, inputs: Mapping[str, Series], starts: list[float]) -> Series:
    """The expression over the evaluated range: `inputs` are the metrics' series, `starts` the
    start of each period in epoch seconds."""
    if isinstance(node, Number):
        return [node.value] * len(starts)
    if isinstance(node, Ref):
        return list(inputs[node.id])
    if isinstance(node, Fill):
        return _fill(evaluate_series(node.series, inputs, starts), node.value)
    if isinstance(node, Epoch):
        series = evaluate_series(node.series, inputs, starts)
        return [
            None if value is None else start for value, start in zip(series, starts, strict=True)
        ]
    if isinstance(node, If):
        condition = evaluate_series(node.condition, inputs, starts)
        then = evaluate_series(node.then, inputs, starts)
        otherwise = evaluate_series(node.otherwise, inputs, starts)
        return [
            None if test is None else (yes if test else no)
            for test, yes, no in zip(condition, then, otherwise, strict=True)
        ]
    lefts = evaluate_series(node.left, inputs, starts)
    rights = evaluate_series(node.right, inputs, starts)
    return [_binary(node.op, left, right) for left, right in zip(lefts, rights, strict=True)]


def _binary(op: str, left: float | None, right: float | None) -> float | None:
    if left is None or right is None or (op == "/" and right == 0):
        return None
    return float(_OPERATORS[op](left, right))


def _fill(series: Series, value: float | None) -> Series:
    if all(point is None for point in series):
        return series
    if value is not None:
        return [value if point is None else point for point in series]
    filled: Series = []
    for point in series:
        filled.append(point if point is not None else (filled[-1] if filled else None))
    return filled
