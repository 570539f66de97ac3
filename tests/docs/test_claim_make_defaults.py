"""A default the documentation quotes for a make variable is the Makefile's `VAR ?= value`.

A quote states a default when it is
- an optional setting in brackets, as help text writes it: `make seed [USERS=50 TASKS=5000]`;
- next to the word default: "(default `N=1000000`)", "FUZZ_SECONDS=120 by default";
- "VAR (default value)", as the Makefile's `## help` text writes it: "STAGE (default dev)".
Read: README.md, docs/, the `.cursor/` context and rules, and the Makefile's own `## help` text.

Left alone: variables whose Makefile default is empty (`[DRY_RUN=1]` turns an option on, it
does not quote a default) or computed by the shell (`DATE ?= $(shell date …)`), and
placeholders (`N=…`, `DATE=YYYY-MM-DD`).
"""

import re
from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, current_documents, relative

MAKEFILE = ROOT / "Makefile"
DEFAULT_LINE = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)\s*\?=[ \t]*(?P<value>.*?)[ \t]*$", re.M)
HELP_LINE = re.compile(r"^[a-zA-Z_-]+:.*?## (?P<help>.*)$", re.M)
_VALUE = r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s`\])(,;]+)"
ASSIGNMENT = re.compile(rf"\b(?P<name>[A-Z][A-Z0-9_]*)={_VALUE}")
BRACKETS = re.compile(r"\[(?P<inside>[^\[\]\n]*=[^\[\]\n]*)\]")
NEAR_DEFAULT = (
    re.compile(rf"\bdefaults?(?:\s+(?:is|to|of))?[\s:(]*`?(?P<name>[A-Z][A-Z0-9_]*)={_VALUE}"),
    re.compile(
        rf"\b(?P<name>[A-Z][A-Z0-9_]*)={_VALUE}`?\s*\(?(?:(?:is|by|as)\s+)?(?:the\s+)?default"
    ),
)
NAMED_DEFAULT = re.compile(r"\b(?P<name>[A-Z][A-Z0-9_]*)\s+\(default\s+(?P<value>[^)\s]+)\)")
PLACEHOLDER = re.compile(r"…|\.\.\.|<|YYYY|\$")
DOCUMENTS = current_documents()


@cache
def makefile_defaults() -> dict[str, tuple[str, ...]]:
    """The variables a doc can quote a default for: set with `?=` to a value the shell does not
    compute. The first assignment wins, as in make."""
    defaults: dict[str, tuple[str, ...]] = {}
    for match in DEFAULT_LINE.finditer(MAKEFILE.read_text(encoding="utf-8")):
        if match["value"] and "$(" not in match["value"]:
            defaults.setdefault(match["name"], words(match["value"]))
    return defaults


def words(value: str) -> tuple[str, ...]:
    return tuple(value.strip("\"'").split())


def quoted_defaults(text: str) -> list[tuple[int, str, str]]:
    """(line, name, value) of every make default `text` quotes."""
    found: dict[tuple[int, str], tuple[int, str, str]] = {}

    def keep(position: int, match: re.Match[str]) -> None:
        name, value = match["name"], match["value"]
        if name in makefile_defaults() and not PLACEHOLDER.search(value):
            line = text.count("\n", 0, position) + 1
            found.setdefault((position, name), (line, name, value.strip("\"'")))

    for bracket in BRACKETS.finditer(text):
        for match in ASSIGNMENT.finditer(bracket["inside"]):
            keep(bracket.start("inside") + match.start(), match)
    for pattern in (*NEAR_DEFAULT, NAMED_DEFAULT):
        for match in pattern.finditer(text):
            keep(match.start("name"), match)
    return [found[key] for key in sorted(found)]


def wrong_defaults(text: str, where: str) -> list[str]:
    return [
        f"{where}:{line}: quotes the default {name}={value}; the Makefile has "
        f"{name} ?= {' '.join(makefile_defaults()[name])}"
        for line, name, value in quoted_defaults(text)
        if words(value) != makefile_defaults()[name]
    ]


def test_the_makefile_has_the_defaults_the_docs_quote() -> None:
    assert {"PORT", "FUZZ_SECONDS", "USERS", "TASKS", "N", "SCALE", "CASES", "STAGE"} <= set(
        makefile_defaults()
    )
    assert "DRY_RUN" not in makefile_defaults(), "an empty default is an option, not a value"
    assert "DATE" not in makefile_defaults(), "a date the shell computes cannot be quoted"


def test_a_stale_default_is_found_wherever_it_is_quoted() -> None:
    scale = " ".join(makefile_defaults()["SCALE"])
    text = (
        '| `make bench-etl-scale [SCALE="1000000 4000000"]` | the transform |\n'
        f'make bench-etl-scale [SCALE="{scale}" CASES="uuid skewed"]\n'
        "make fuzz        # FUZZ_SECONDS=1 by default\n"
        "the zip for STAGE (default prod); (default `N=5`); `make deploy [DRY_RUN=1]`\n"
        "make bench-etl [N=…] [DATE=2026-01-01] `PORT=1` in another shell\n"
    )
    assert [(line, name) for line, name, _ in quoted_defaults(text)] == [
        (1, "SCALE"),
        (2, "SCALE"),
        (2, "CASES"),
        (3, "FUZZ_SECONDS"),
        (4, "STAGE"),
        (4, "N"),
    ]
    assert len(wrong_defaults(text, "example")) == 5


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_quoted_defaults_match_the_makefile(document: Path) -> None:
    wrong = wrong_defaults(document.read_text(encoding="utf-8"), relative(document))
    assert not wrong, "\n".join(wrong)


def test_the_makefile_help_quotes_its_own_defaults() -> None:
    text = MAKEFILE.read_text(encoding="utf-8")
    help_only = "\n".join(
        match["help"] if (match := HELP_LINE.match(line)) else "" for line in text.split("\n")
    )
    wrong = wrong_defaults(help_only, "Makefile")
    assert not wrong, "\n".join(wrong)
