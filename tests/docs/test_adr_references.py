"""Nothing in the repository points at an ADR that does not exist.

Decisions merged into another ADR leave no stub behind (tests/docs/test_adr_format.py), so
every reference must name a live one: "ADR 0013", "ADRs 0010-0012, 0015" (or an en dash), a link to
`docs/adr/0013-….md` or `](0013-….md)`, in any tracked text file (code comments, the
named-query SQL deployed to Athena, templates, docs, `.cursor/`, tests).

Quoted history is not a reference: the `## Commits` lists of `.cursor/prompts/` repeat commit
subjects exactly as git has them (tests/docs/test_prompt_hashes.py checks that), and a subject
written when an ADR existed keeps its number.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.docs.test_adr_format import ADRS
from tests.docs.test_prompt_hashes import LISTED

ROOT = Path(__file__).resolve().parents[2]
LIVE_NUMBERS = frozenset(int(adr.name[:4]) for adr in ADRS)
DASH = "[-\N{EN DASH}]"
# "ADR 0013", "ADR-0013", "ADRs 0010-0012, 0015 and 0017" (a range counts every number in it).
NAMED = re.compile(rf"\bADRs?[ -](?P<numbers>\d{{4}}(?:\s*(?:{DASH}|,|and|&)\s*\d{{4}})*)")
LINKED = re.compile(r"(?:\badr/|\]\()(?P<number>\d{4})-[\w.-]*\.md")
RANGE = re.compile(rf"(\d{{4}})\s*{DASH}\s*(\d{{4}})")
# Pictures and archives: no prose to point anywhere.
NOT_TEXT = (".svg", ".png", ".jpg", ".zip", ".ico")


def referenced_numbers(text: str) -> set[int]:
    numbers: set[int] = set()
    for line in text.splitlines():
        if LISTED.match(line.strip()):
            continue
        for match in NAMED.finditer(line):
            written = match["numbers"]
            for low, high in RANGE.findall(written):
                numbers.update(range(int(low), int(high) + 1))
            numbers.update(int(number) for number in re.findall(r"\d{4}", written))
        numbers.update(int(match["number"]) for match in LINKED.finditer(line))
    return numbers


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 - git from PATH, as every developer runs it
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    paths = [ROOT / name for name in listed.split("\0") if name and not name.endswith(NOT_TEXT)]
    # This file's own examples are not references.
    return [path for path in paths if path.is_file() and path != Path(__file__).resolve()]


def test_the_reader_finds_every_kind_of_reference() -> None:
    text = """\
See ADR 0013 and ADRs 0010\N{EN DASH}0012, 0015 and 0017; docs/adr/0007-etl-orchestration-mwaa.md.
[0020](0020-local-development-and-testing.md), ADR-0004.
- `abc1234` docs(adr): 0006 on the shared template
"""
    assert referenced_numbers(text) == {4, 7, 10, 11, 12, 13, 15, 17, 20}


def test_no_file_references_a_missing_adr() -> None:
    dangling: dict[str, set[int]] = {}
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        missing = referenced_numbers(text) - LIVE_NUMBERS
        if missing:
            dangling[str(path.relative_to(ROOT))] = missing
    assert dangling == {}
