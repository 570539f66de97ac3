"""Every ADR follows docs/adr/template.md, so a reviewer finds the same parts in the same place.

A live ADR records one decision in at most MAX_WORDS words: Context, Options (a table with the
numbers that decided it), Decision, Consequences, Evidence (a table whose rows each say how to
reproduce the claim: a command, a source, or an admission that it was not measured). An ADR
whose decision moved into another is deleted, not left as a stub; its number is retired, so the
live ADRs keep theirs (tests/docs/test_adr_references.py: nothing points at a retired one).
"""

import re
from pathlib import Path

import pytest

ADR_DIR = Path(__file__).resolve().parents[2] / "docs" / "adr"
ADRS = sorted(p for p in ADR_DIR.glob("[0-9][0-9][0-9][0-9]-*.md"))
SECTIONS = ["Context", "Options", "Decision", "Consequences", "Evidence"]
MAX_WORDS = 700
MAX_LIVE = 14
# Merged into other ADRs and deleted: never reused, so a live ADR's number never changes.
RETIRED = frozenset({6, 11, 12, 14, 15, 17, 18})
STATUS = re.compile(r"^- Status: (Accepted|Proposed|Accepted, partly superseded by .+)$")
DATE = re.compile(r"^- Date: \d{4}-\d{2}-\d{2}$")


def _lines(adr: Path) -> list[str]:
    return adr.read_text(encoding="utf-8").splitlines()


def test_the_adrs_keep_their_numbers_and_no_retired_one_is_reused() -> None:
    numbers = [int(p.name[:4]) for p in ADRS]
    assert numbers == [n for n in range(numbers[-1] + 1) if n not in RETIRED], numbers


def test_no_adr_is_a_stub() -> None:
    stubs = [adr.name for adr in ADRS if "superseded by" in _lines(adr)[2].lower()]
    assert stubs == []


def test_one_decision_one_adr_at_most_fourteen_live() -> None:
    assert len(ADRS) <= MAX_LIVE, [adr.name for adr in ADRS]


@pytest.mark.parametrize("adr", ADRS, ids=lambda p: p.name[:4])
def test_adr_has_a_title_status_and_date(adr: Path) -> None:
    lines = _lines(adr)
    assert lines[0].startswith(f"# {adr.name[:4]}. "), f"{adr.name}: title must be '# NNNN. …'"
    assert any(STATUS.match(line) for line in lines[:6]), f"{adr.name}: no '- Status: …' line"
    assert any(DATE.match(line) for line in lines[:6]), f"{adr.name}: no '- Date: YYYY-MM-DD' line"


@pytest.mark.parametrize("adr", ADRS, ids=lambda p: p.name[:4])
def test_a_live_adr_follows_the_template_within_its_word_budget(adr: Path) -> None:
    lines = _lines(adr)
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    assert headings == SECTIONS, f"{adr.name}: sections {headings}, expected {SECTIONS}"
    options = lines[lines.index("## Options") : lines.index("## Decision")]
    assert any(line.startswith("|") for line in options), f"{adr.name}: Options has no table"
    words = len(adr.read_text(encoding="utf-8").split())
    assert words <= MAX_WORDS, f"{adr.name}: {words} words, more than {MAX_WORDS}"


@pytest.mark.parametrize("adr", ADRS, ids=lambda p: p.name[:4])
def test_every_evidence_row_says_how_to_reproduce_it(adr: Path) -> None:
    evidence = adr.read_text(encoding="utf-8").split("\n## Evidence\n", 1)[1]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in evidence.splitlines()
        if line.startswith("|") and not re.match(r"^\|\s*:?-", line)
    ][1:]
    assert rows, f"{adr.name}: the Evidence section has no table rows"
    # The last cell says how to reproduce the number: a command, a source, or a pointer to
    # one. An empty one is allowed only where the row itself admits it was not measured.
    silent = [
        row
        for row in rows
        if row[-1] in {"", "-", "\N{EN DASH}", "\N{EM DASH}"}
        and "not measured" not in " ".join(row)
    ]
    assert not silent, f"{adr.name}: evidence rows that do not say how to reproduce them: {silent}"
    with_command = [row for row in rows if "`" in row[-1] or "http" in row[-1]]
    assert with_command, f"{adr.name}: no evidence row names a command or a source URL"
