"""Every `make <target>` the documentation names (in code spans and shell blocks) is a target of
the Makefile. The targets come from make's own database, so variables, `.PHONY` lists and rules
split over several lines count as make sees them."""

import fnmatch
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, documents, make_commands, relative

DOCUMENTS = documents()
# A goal written as a placeholder (`make <target>`, `make …`) names no target.
PLACEHOLDER = re.compile(r"[<>…$]|\.\.\.")


@cache
def makefile_targets() -> frozenset[str]:
    """The targets in `make -pRrq`'s database (`-q`: nothing runs; `:` is a goal no one has)."""
    database = subprocess.run(
        ["make", "-pRrq", "-f", "Makefile", ":"],  # noqa: S607
        cwd=ROOT,
        # Under `make test`, the outer make's flags and variables would reach this one.
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}},
        capture_output=True,
        text=True,
        check=False,  # -q exits 1 when a goal is out of date, 2 on an error (checked below)
    ).stdout
    assert "# Make data base" in database, "make printed no database"
    targets: set[str] = set()
    not_a_target = False
    for line in database.split("\n"):
        rule = re.match(r"^([^\s#:=][^:=]*?):(?![:=])", line)
        if rule and not not_a_target:
            targets.update(rule.group(1).split())
        not_a_target = line.startswith("# Not a target")
    return frozenset(target for target in targets if not target.startswith("."))


def unknown_targets(document: Path) -> list[str]:
    targets = makefile_targets()
    return [
        f"{relative(document)}:{command.line}: make {goal} — no such target"
        for command in make_commands(document.read_text())
        for goal in command.targets
        if not PLACEHOLDER.search(goal) and not fnmatch.filter(targets, goal)
    ]


def test_the_makefile_database_has_the_known_targets() -> None:
    assert {"help", "run", "test", "lint", "query", "deploy"} <= makefile_targets()


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_named_make_targets_exist(document: Path) -> None:
    problems = unknown_targets(document)

    assert not problems, "unknown make targets:\n" + "\n".join(problems)
