"""Every relative link in the documentation leads somewhere: a file or folder of the repository,
and for `#anchor` into Markdown, a heading (or HTML id) of that file. Web and mail links are
not followed (the tests stay offline)."""

import os
import re
from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import (
    ROOT,
    anchors,
    documents,
    links,
    relative,
    repository_paths,
    split_target,
)

DOCUMENTS = documents()
MARKDOWN = {".md", ".mdc"}
# A template's placeholder (docs/adr/template.md links `NNNN-file.md`) is not a link to check.
PLACEHOLDER = re.compile(r"NNNN|…|\.\.\.")


@cache
def anchors_of(path: Path) -> set[str]:
    return anchors(path.read_text()) if path.is_file() else set()


def broken_links(document: Path) -> list[str]:
    problems = []
    for link in links(document.read_text()):
        if link.is_external or PLACEHOLDER.search(link.target):
            continue
        path, anchor = split_target(link.target)
        if path.startswith("/"):
            target = ROOT / path.lstrip("/")  # GitHub resolves a leading / at the repository root
        else:
            target = document.parent / path if path else document
        where = f"{relative(document)}:{link.line}: ({link.target})"
        target = Path(os.path.normpath(target))  # without `..`, symbolic links kept
        name = os.path.relpath(target, ROOT)
        if name.startswith(".."):
            problems.append(f"{where} points outside the repository")
        elif name not in repository_paths() and name != ".":
            problems.append(f"{where} {name} is not in the repository")
        elif anchor and target.suffix in MARKDOWN and anchor not in anchors_of(target):
            problems.append(f"{where} no heading #{anchor} in {name}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_relative_links_resolve(document: Path) -> None:
    problems = broken_links(document)

    assert not problems, "broken links:\n" + "\n".join(problems)
