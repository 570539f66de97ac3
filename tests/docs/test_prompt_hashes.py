"""The `.cursor/` records can be checked: every prompt record says what it was asked, why, under
which constraints, how it was validated and which commits did it; every commit it names exists,
with the subject it is listed under; every rule file carries the front matter Cursor reads.

A prompt record ends with a `## Commits` section whose items read ``- `abc1234` subject``.
The hashes are looked up in this repository's history, so the test needs the full history:
in a shallow clone it fails and says so instead of passing on what it cannot see.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = sorted((ROOT / ".cursor" / "prompts").glob("*.md"))
RULES = sorted((ROOT / ".cursor" / "rules").glob("*.mdc"))

COMMITS_HEADING = "## Commits"
# A listed commit: "- `<hash>` <subject>".
LISTED = re.compile(r"^- `(?P<hash>[0-9a-f]{7,40})` (?P<subject>.+)$")
# Anything in the section that looks like a hash: in backticks, or bare with at least one digit
# (so that an English word made of the letters a-f is not taken for one).
BACKTICKED_HASH = re.compile(r"`([0-9a-f]{7,40})`")
BARE_HASH = re.compile(r"(?<![\w`/.-])(?=[0-9a-f]*[0-9])([0-9a-f]{7,40})(?![\w`/.-])")
# What every record says, in this order (a record may add sections of its own in between).
RECORD_SECTIONS = [
    "The instruction",
    "Why",
    "Constraints given",
    "How the output was validated",
    "Commits",
]
FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?)\n---\n", re.DOTALL)


def _git(*args: str, lines: Iterable[str] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],  # noqa: S607 - git from PATH, as every developer runs it
        cwd=ROOT,
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        check=False,
    )


def commits_named(tokens: Iterable[str]) -> dict[str, str]:
    """The full hash of the commit each token names, as `git cat-file -e <token>^{commit}`
    resolves it (a token that names no commit, or more than one, is left out). One git call
    for all tokens: a call per hash made this file the slowest of the quick tests."""
    tokens = list(tokens)
    done = _git(
        "cat-file",
        "--batch-check=%(objectname) %(objecttype)",
        lines=[f"{token}^{{commit}}" for token in tokens],
    )
    answers = done.stdout.splitlines()
    return {
        token: answer.split()[0]
        for token, answer in zip(tokens, answers, strict=True)
        if answer.endswith(" commit")
    }


@cache
def history() -> frozenset[str]:
    """Every commit HEAD descends from (what `git merge-base --is-ancestor <c> HEAD` accepts)."""
    return frozenset(_git("rev-list", "HEAD").stdout.split())


def subjects(commits: Iterable[str]) -> dict[str, str]:
    """Each commit's subject (`git log -1 --format=%s <c>`), by full hash, in one git call."""
    commits = list(commits)
    if not commits:
        return {}  # `git log` without a commit would show HEAD's
    shown = _git("log", "--no-walk=unsorted", "--format=%H %s", *commits).stdout
    return {
        commit: subject
        for commit, _, subject in (line.partition(" ") for line in shown.splitlines())
    }


def commits_section(text: str) -> str:
    """The text under `## Commits`, up to the next second-level heading."""
    _, found, rest = text.partition(f"\n{COMMITS_HEADING}\n")
    if not found:
        return ""
    return re.split(r"^## ", rest, maxsplit=1, flags=re.MULTILINE)[0]


def hash_tokens(section: str) -> set[str]:
    return set(BACKTICKED_HASH.findall(section)) | set(BARE_HASH.findall(section))


def listed_commits(section: str) -> list[tuple[str, str]]:
    return [
        (match["hash"], match["subject"].strip())
        for line in section.splitlines()
        if (match := LISTED.match(line))
    ]


def require_full_history() -> None:
    """Fail, not skip, when the commits cannot be looked up: the check would prove nothing."""
    inside = _git("rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        pytest.fail(f"{ROOT} is not a git work tree; the prompt records' hashes cannot be checked")
    shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip()
    if shallow != "false":
        pytest.fail(
            "this is a shallow clone (git rev-parse --is-shallow-repository says "
            f"{shallow!r}); the prompt records name older commits. "
            "Run `git fetch --unshallow` and test again."
        )


def test_there_are_prompt_records_and_rules() -> None:
    assert PROMPTS, "no .cursor/prompts/*.md"
    assert RULES, "no .cursor/rules/*.mdc"
    assert not (ROOT / ".cursor" / "rules").is_file()


@pytest.mark.parametrize("record", PROMPTS, ids=lambda p: p.name)
def test_every_record_has_the_sections_in_order(record: Path) -> None:
    headings = [
        line[3:].strip()
        for line in record.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    ]

    found = [
        section
        for heading in headings
        for section in RECORD_SECTIONS
        if heading.startswith(section)
    ]
    assert found == RECORD_SECTIONS, f"{record.name}: sections {headings}"


@pytest.mark.parametrize("record", PROMPTS, ids=lambda p: p.name)
def test_every_record_lists_commits_in_one_format(record: Path) -> None:
    section = commits_section(record.read_text(encoding="utf-8"))
    listed = {commit for commit, _ in listed_commits(section)}

    assert listed, f"{record.name}: no '- `<hash>` <subject>' line under '{COMMITS_HEADING}'"
    unlisted = hash_tokens(section) - listed
    assert not unlisted, f"{record.name}: hashes outside the list format: {sorted(unlisted)}"


@pytest.mark.parametrize("record", PROMPTS, ids=lambda p: p.name)
def test_every_hash_names_a_commit_in_the_history(record: Path) -> None:
    require_full_history()
    section = commits_section(record.read_text(encoding="utf-8"))

    tokens = sorted(hash_tokens(section))
    named = commits_named(tokens)
    unknown = [token for token in tokens if named.get(token) not in history()]

    assert not unknown, f"{record.name}: not commits in this branch's history: {unknown}"


@pytest.mark.parametrize("record", PROMPTS, ids=lambda p: p.name)
def test_every_listed_subject_is_its_commits_subject(record: Path) -> None:
    require_full_history()
    section = commits_section(record.read_text(encoding="utf-8"))

    listed = listed_commits(section)
    named = commits_named(commit for commit, _ in listed)
    subject_of = subjects(set(named.values()))
    wrong = []
    for commit, subject in listed:
        actual = subject_of.get(named.get(commit, ""), "").strip()
        if subject != actual:
            wrong.append(f"{commit}: listed {subject!r}, the commit says {actual!r}")

    assert not wrong, f"{record.name}:\n" + "\n".join(wrong)


def front_matter(rule: Path) -> dict[str, object]:
    match = FRONT_MATTER.match(rule.read_text(encoding="utf-8"))
    assert match, f"{rule.name}: no front matter between '---' lines at the top"
    meta = yaml.safe_load(match["yaml"])
    assert isinstance(meta, dict), f"{rule.name}: front matter is not a mapping"
    return meta


@pytest.mark.parametrize("rule", RULES, ids=lambda p: p.name)
def test_every_rule_file_has_cursor_front_matter(rule: Path) -> None:
    meta = front_matter(rule)

    assert set(meta) == {"description", "globs", "alwaysApply"}, f"{rule.name}: keys {set(meta)}"
    description, globs = meta["description"], meta["globs"]
    assert isinstance(description, str), f"{rule.name}: description must be text"
    assert description.strip(), f"{rule.name}: description is empty"
    assert isinstance(meta["alwaysApply"], bool), f"{rule.name}: alwaysApply must be true/false"
    if not meta["alwaysApply"]:
        assert isinstance(globs, str), f"{rule.name}: globs must be text"
        assert globs.strip(), f"{rule.name}: a rule that is not always applied needs globs"


def test_exactly_the_general_rules_always_apply() -> None:
    always = [rule.name for rule in RULES if front_matter(rule).get("alwaysApply") is True]

    assert always == ["general.mdc"]


def test_the_context_indexes_every_record_and_no_other() -> None:
    context = (ROOT / ".cursor" / "context.md").read_text(encoding="utf-8")
    indexed = set(re.findall(r"\]\(prompts/([\w.-]+\.md)\)", context))
    assert indexed == {record.name for record in PROMPTS}
