"""Every relative link in the documentation leads somewhere: a file or folder of the repository,
and for `#anchor` into Markdown, a heading (or HTML id) of that file. Web and mail links are
not followed (the tests stay offline)."""

from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, anchors, documents, links, relative, split_target

DOCUMENTS = documents()
MARKDOWN = {".md", ".mdc"}


@cache
def anchors_of(path: Path) -> set[str]:
    return anchors(path.read_text())


def broken_links(document: Path) -> list[str]:
    problems = []
    for link in links(document.read_text()):
        if link.is_external:
            continue
        path, anchor = split_target(link.target)
        if path.startswith("/"):
            target = ROOT / path.lstrip("/")  # GitHub resolves a leading / at the repository root
        else:
            target = document.parent / path if path else document
        where = f"{relative(document)}:{link.line}: ({link.target})"
        resolved = target.resolve()
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{where} points outside the repository")
        elif not resolved.exists():
            problems.append(f"{where} {relative(resolved)} does not exist")
        elif (
            anchor
            and resolved.is_file()
            and resolved.suffix in MARKDOWN
            and anchor not in anchors_of(resolved)
        ):
            problems.append(f"{where} no heading #{anchor} in {relative(resolved)}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_relative_links_resolve(document: Path) -> None:
    problems = broken_links(document)

    assert not problems, "broken links:\n" + "\n".join(problems)
