"""Where a document lists the deploy stages ("the stages dev, staging and prod", "a stage (`dev`,
`staging` or `prod`)", "dev, staging and prod stages"), it names exactly the stages
`infra/deploy/stacks.py` deploys and `zappa_settings.json` configures.

A list counts when it is two or more environment names joined by commas, "and", "or" or "/",
right after the word stage(s), right before "stages", or said to be "in `zappa_settings.json`".
A row label such as "dev and staging: none" is a subset on purpose, not a list of the stages.
Prompt records keep their quoted instruction and their commit subjects as history; the rest of
each record is read.
"""

import json
import re
from pathlib import Path

import pytest

from infra.deploy.stacks import STAGES
from tests.docs.markdown import ROOT, documents, relative

# Words that name an environment in a list of stages ("local", make smoke's pseudo-stage, is not
# a deploy stage and is left out on purpose).
ENVIRONMENT = (
    r"dev|development|test|testing|qa|uat|staging|preprod|pre-prod|prod|production"
    r"|sandbox|beta|demo"
)
_NAME = rf"`?\b(?:{ENVIRONMENT})\b`?"
_JOIN = r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s|/)\s*"
_LIST = rf"(?P<list>{_NAME}(?:{_JOIN}{_NAME})++)"
# Up to a few words between "stage(s)" and the list: "are", "(", "`<stage>` is", "has 3 values (".
STAGE_LISTS = (
    re.compile(rf"\bstages?\b[`>]*(?P<gap>[^.;:\n]{{0,25}}?)\s*\(?{_LIST}(?!\s*:)", re.I),
    re.compile(rf"{_LIST}\s+(?:deploy\s+)?stages\b", re.I),
    # "`true` for dev and prod in `zappa_settings.json`": the stages as the settings file has them.
    re.compile(rf"{_LIST}\s+(?:in|of)\s+`?(?:zappa_settings\.json|STAGES)\b", re.I),
)
DOCUMENTS = [path for path in documents() if relative(path) != "CHANGELOG.md"]


def deploy_stages() -> list[str]:
    return list(STAGES)


def history_blanked(text: str) -> str:
    """A prompt record with its quoted instruction and its `## Commits` section blanked out."""
    lines = text.split("\n")
    in_commits = False
    for number, line in enumerate(lines):
        if line.startswith("## "):
            in_commits = line.strip() == "## Commits"
        if in_commits or line.lstrip().startswith(">"):
            lines[number] = ""
    return "\n".join(lines)


def stage_lists(text: str) -> list[tuple[int, list[str]]]:
    """(line, names) of every list of stages in `text`."""
    found: dict[int, tuple[int, list[str]]] = {}
    for pattern in STAGE_LISTS:
        for match in pattern.finditer(text):
            named = re.findall(rf"\b(?:{ENVIRONMENT})\b", match.group("list"), re.I)
            names = [name.lower() for name in named]
            found.setdefault(match.start("list"), (text.count("\n", 0, match.start()) + 1, names))
    return [found[start] for start in sorted(found)]


def test_the_deploy_tool_and_zappa_agree_on_the_stages() -> None:
    zappa = json.loads((ROOT / "zappa_settings.json").read_text(encoding="utf-8"))
    assert sorted(zappa) == sorted(deploy_stages())


def test_lists_of_stages_are_found() -> None:
    text = (
        "`zappa_settings.json` with stages dev and prod (python3.12).\n"
        "Choose a stage (`dev`, `staging` or `prod`).\n"
        "`Stage` has 3 values (dev, staging, prod).\n"
        "Across dev/prod stages, nothing changes.\n"
        "Per stage, dev and staging: none. Nothing in dev and staging.\n"
        "Every attempt stages into a fresh folder.\n"
        "`true` for dev and prod in `zappa_settings.json`.\n"
    )
    assert stage_lists(text) == [
        (1, ["dev", "prod"]),
        (2, ["dev", "staging", "prod"]),
        (3, ["dev", "staging", "prod"]),
        (4, ["dev", "prod"]),
        (7, ["dev", "prod"]),
    ]


def test_quoted_instructions_and_commit_subjects_are_history() -> None:
    record = (
        "## The instruction\n\n> with stages dev and prod\n\n"
        "## Commits\n\n- `abc1234` ci: print the dev and prod stages\n"
    )
    assert stage_lists(history_blanked(record)) == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_lists_of_stages_name_the_deploy_stages(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    if relative(document).startswith(".cursor/prompts/"):
        text = history_blanked(text)
    expected = sorted(deploy_stages())
    wrong = [
        f"{relative(document)}:{line}: lists the stages as {', '.join(names)}; "
        f"they are {', '.join(deploy_stages())} (infra/deploy/stacks.py STAGES)"
        for line, names in stage_lists(text)
        if sorted(names) != expected
    ]
    assert not wrong, "\n".join(wrong)
