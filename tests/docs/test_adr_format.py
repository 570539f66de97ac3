"""Every ADR follows docs/adr/template.md, so a reviewer finds the same parts in the same place.

The headings are checked in order; the Evidence section must hold a table whose rows each say
how to reproduce the claim (a command, a source, or an admission that it was not measured), so
no number in a decision record stands without its evidence.
"""

import re
from pathlib import Path

import pytest

ADR_DIR = Path(__file__).resolve().parents[2] / "docs" / "adr"
ADRS = sorted(p for p in ADR_DIR.glob("[0-9][0-9][0-9][0-9]-*.md"))
SECTIONS = [
    "Context",
    "Decision",
    "Alternatives considered",
    "Consequences",
    "Evidence",
]
STATUS = re.compile(
    r"^- Status: (Accepted|Proposed|Superseded by \[\d{4}\]\(\d{4}-[^)]+\.md\)"
    r"|Accepted, partly superseded by .+)$"
)
DATE = re.compile(r"^- Date: \d{4}-\d{2}-\d{2}$")


def test_the_adrs_are_numbered_without_gaps() -> None:
    numbers = [int(p.name[:4]) for p in ADRS]
    assert numbers == list(range(len(numbers))), numbers


@pytest.mark.parametrize("adr", ADRS, ids=lambda p: p.name[:4])
def test_adr_follows_the_template(adr: Path) -> None:
    lines = adr.read_text(encoding="utf-8").splitlines()
    number = adr.name[:4]
    assert lines[0].startswith(f"# {number}. "), f"{adr.name}: title must be '# {number}. …'"
    assert any(STATUS.match(line) for line in lines[:6]), f"{adr.name}: no '- Status: …' line"
    assert any(DATE.match(line) for line in lines[:6]), f"{adr.name}: no '- Date: YYYY-MM-DD' line"
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    assert headings == SECTIONS, f"{adr.name}: sections {headings}, expected {SECTIONS}"
    alternatives = lines[lines.index("## Alternatives considered") : lines.index("## Consequences")]
    assert any(line.startswith("### ") for line in alternatives), f"{adr.name}: no alternative"


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
