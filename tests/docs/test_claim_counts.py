"""A document that counts what a stage deploys ("twelve alarms", "8 CloudFormation stacks",
"six Airflow Variables") says what the templates declare.

tests/docs/test_diagrams.py holds the component diagram's labels to the templates; this holds
the prose and tables that repeat those counts (docs/architecture.md once said "six Glue tables"
and "five Airflow Variables" under a row claiming the diagram test proves them). Read: the
current documents (tests/docs/markdown.py), not the changelog or prompt records, which keep what
was true then. Bare "tables" is left out: it means DynamoDB's, the lake's or Glue's by context.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.cfn import INFRA, load_template, templates
from infra.deploy.plan import Options, deploy_plan
from tests.docs.markdown import ROOT, current_documents, relative, without_fences
from tests.docs.test_claim_operations import NUMBER_WORDS

_COUNT = r"\b(?P<count>\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


def _resources(stack: str, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
    resources = load_template(INFRA / f"{stack}.yaml")["Resources"]
    return [(name, body) for name, body in resources.items() if body["Type"] == resource_type]


def _alarms(keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> int:
    return sum(1 for _, body in _resources("monitoring", "AWS::CloudWatch::Alarm") if keep(body))


# What a claim names → how many of it the templates declare.
CLAIMS: dict[str, tuple[re.Pattern[str], Callable[[], int]]] = {
    "alarms": (re.compile(_COUNT + r"\s+(?:CloudWatch\s+)?alarms\b", re.I), _alarms),
    # The alarms only a stage with orchestration deploys.
    "ETL alarms": (
        re.compile(_COUNT + r"\s+ETL\s+alarms\b", re.I),
        lambda: _alarms(lambda body: body.get("Condition") == "HasOrchestration"),
    ),
    "stacks": (
        re.compile(_COUNT + r"\s+(?:CloudFormation\s+)?stacks\b", re.I),
        lambda: len(templates()),
    ),
    "DynamoDB tables": (
        re.compile(_COUNT + r"\s+DynamoDB\s+tables\b", re.I),
        lambda: len(_resources("data", "AWS::DynamoDB::Table")),
    ),
    "Glue tables": (
        re.compile(_COUNT + r"\s+Glue\s+tables\b", re.I),
        lambda: len(_resources("analytics", "AWS::Glue::Table")),
    ),
    "named queries": (
        re.compile(_COUNT + r"\s+(?:Athena\s+)?named\s+queries\b", re.I),
        lambda: len(_resources("analytics", "AWS::Athena::NamedQuery")),
    ),
    "Airflow Variables": (
        re.compile(_COUNT + r"\s+Airflow\s+Variables\b", re.I),
        lambda: len(_resources("orchestration", "AWS::SSM::Parameter")),
    ),
}
DOCUMENTS = current_documents()


def count_claims(text: str) -> list[tuple[int, str, int]]:
    """(line, what, count) of every count claim outside fenced blocks."""
    prose = without_fences(text)
    found = []
    for what, (pattern, _) in CLAIMS.items():
        for match in pattern.finditer(prose):
            word = match["count"].lower()
            count = int(word) if word.isdigit() else NUMBER_WORDS[word]
            found.append((prose.count("\n", 0, match.start()) + 1, what, count))
    return sorted(found)


def test_claims_are_found_in_words_and_digits() -> None:
    text = (
        "One dashboard and twelve alarms, 8 CloudFormation stacks; five ETL alarms fewer.\n"
        "six Glue tables, 5 named queries, five Airflow Variables, five DynamoDB tables.\n"
        "```\n3 alarms\n```\n10 alarm metrics; five stand-in stacks; 5 tables.\n"
    )
    assert count_claims(text) == [
        (1, "ETL alarms", 5),
        (1, "alarms", 12),
        (1, "stacks", 8),
        (2, "Airflow Variables", 5),
        (2, "DynamoDB tables", 5),
        (2, "Glue tables", 6),
        (2, "named queries", 5),
    ]


def test_the_templates_have_each_kind() -> None:
    assert all(count() > 0 for _, count in CLAIMS.values())


@pytest.mark.parametrize("document", DOCUMENTS, ids=[relative(path) for path in DOCUMENTS])
def test_counts_match_the_templates(document: Path) -> None:
    wrong = [
        f"{relative(document)}:{line}: says {count} {what}; the templates declare {expected}"
        for line, what, count in count_claims(document.read_text(encoding="utf-8"))
        if count != (expected := CLAIMS[what][1]())
    ]
    assert not wrong, "\n".join(wrong)


# docs/README.md's deploy walk-through counts the steps `make deploy` prints, per stage.
DEPLOY_STEPS = re.compile(
    r"(?P<orchestrated>\d+) printed steps in staging and prod.*?\((?P<dev>\d+) steps: no network",
    re.DOTALL,
)


def test_the_deploy_step_counts_are_the_plans() -> None:
    claim = DEPLOY_STEPS.search((ROOT / "docs" / "README.md").read_text(encoding="utf-8"))
    assert claim, "docs/README.md no longer counts the deploy's steps: drop this test"

    def steps(stage: str) -> int:
        return len(deploy_plan(Options(stage=stage)).steps)

    assert {
        "dev": int(claim["dev"]),
        "staging": int(claim["orchestrated"]),
        "prod": int(claim["orchestrated"]),
    } == {stage: steps(stage) for stage in ("dev", "staging", "prod")}
