"""Every test the documentation names exists: `tests/…py` files, and `::test_name` node ids.

ADRs, the runbook and the requirements table give a test as the evidence for a claim; a renamed
or deleted test would leave the claim pointing at nothing. Parametrised ids (`[...]`) and `-k`
expressions are not checked, only the file and the function or class it names.
"""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, documents, relative

DOCUMENTS = documents()
NODE = re.compile(r"(?<![\w/.-])(tests/[\w/]+\.py)((?:::\w+)*)")


@cache
def defined_names(path: Path) -> frozenset[str]:
    """The functions and classes a test module defines, nested ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )


def missing_tests(document: str, text: str) -> list[str]:
    """The tests `text` (of the document so named) cites that are not in the repository."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in NODE.finditer(line):
            path = ROOT / match.group(1)
            where = f"{document}:{number}: {match.group(0)}"
            if not path.is_file():
                problems.append(f"{where} — no such file")
                continue
            names = [part for part in match.group(2).split("::") if part]
            absent = [part for part in names if part not in defined_names(path)]
            if absent:
                problems.append(f"{where} — {', '.join(absent)} not defined there")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_named_tests_exist(document: Path) -> None:
    problems = missing_tests(relative(document), document.read_text(encoding="utf-8"))

    assert not problems, "tests named but not found:\n" + "\n".join(problems)


def test_a_renamed_test_is_caught() -> None:
    problems = missing_tests(
        "page.md",
        "`tests/docs/test_test_paths.py::test_named_tests_exist` holds;\n"
        "`tests/docs/test_test_paths.py::test_that_was_renamed` does not;\n"
        "nor does `tests/nowhere/test_gone.py`.\n",
    )

    assert len(problems) == 2, problems
    assert "test_that_was_renamed not defined" in problems[0]
    assert "no such file" in problems[1]
