"""CloudWatch metric math, the subset infra/monitoring.yaml's alarms use, parsed, never eval()'d.

    expr       := additive (("<" | "<=" | ">" | ">=" | "==" | "!=") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | ID | "IF" "(" expr "," expr "," expr ")" | "(" expr ")"

IDs are an alarm's metric query ids (lower-case first letter, as CloudWatch requires). A result is
missing when an input has no value for that period or when it divides by zero; CloudWatch
likewise yields values only at timestamps its inputs share.
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


Node = Number | Ref | If | Binary

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
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return Number(float(token))
        if re.fullmatch(r"[a-z][A-Za-z0-9_]*", token) and self._peek() != "(":
            return Ref(token)
        raise SyntaxError(f"{token!r} is outside the supported grammar in {self.text!r}")


def parse_expression(text: str) -> Node:
    return _Parser(text).parse()


def evaluate_expression(node: Node, values: Mapping[str, float | None]) -> float | None:
    """One period's value of a parsed expression; None if it reads missing data or divides by 0."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        return values[node.id]
    if isinstance(node, If):
        condition = evaluate_expression(node.condition, values)
        if condition is None:
            return None
        return evaluate_expression(node.then if condition else node.otherwise, values)
    left, right = evaluate_expression(node.left, values), evaluate_expression(node.right, values)
    if left is None or right is None or (node.op == "/" and right == 0):
        return None
    return float(_OPERATORS[node.op](left, right))
