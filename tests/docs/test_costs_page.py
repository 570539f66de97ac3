"""docs/costs.md prices what the templates deploy: its counted quantities equal theirs.

The page multiplies each count by a list price; a new alarm, WAF rule, key, secret or dashboard,
or a stage switching orchestration, SES, threat protection or SnapStart, changes the bill. This
test makes that change fail here until the page is priced again.
Prices: https://aws.amazon.com/cloudwatch/pricing/ (per alarm metric, per dashboard),
https://aws.amazon.com/kms/pricing/ (per key), https://aws.amazon.com/waf/pricing/ (per web ACL,
per rule), https://aws.amazon.com/secrets-manager/pricing/ (per secret).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from infra.cfn import INFRA, Tag, load_template, templates
from infra.deploy.stacks import ORCHESTRATION_PARTS, STAGES

PAGE = INFRA.parent / "docs" / "costs.md"


def counted(text: str) -> dict[str, tuple[int, str]]:
    """The "| quantity | count | where |" table: quantity -> (count, where)."""
    table = text.split("| quantity | count | where |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1:4] for line in table.splitlines()[2:] if line.startswith("|")]
    return {name.strip(): (int(count), where.strip()) for name, count, where in rows}


@functools.cache
def _loaded() -> tuple[dict[str, Any], ...]:
    """Every template, parsed once for the module: parsing them is most of its time."""
    return tuple(load_template(path) for path in templates())


def resources(kind: str) -> list[dict[str, Any]]:
    return [
        resource
        for template in _loaded()
        for resource in template.get("Resources", {}).values()
        if resource["Type"] == kind
    ]


def alarms(orchestration: bool) -> list[dict[str, Any]]:
    """The alarms a stage gets; the ETL's are the only conditional ones (HasOrchestration)."""
    found = resources("AWS::CloudWatch::Alarm")
    assert {a.get("Condition") for a in found} <= {None, "HasOrchestration"}
    return [a for a in found if orchestration or a.get("Condition") is None]


def listed_metrics(alarm: dict[str, Any]) -> int:
    """Metrics an alarm names, the unit CloudWatch bills alarms by; a query names none."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return 1
    return sum("MetricStat" in query for query in properties["Metrics"])


def insights_alarms(found: list[dict[str, Any]]) -> int:
    """Alarms on a Metrics Insights query (SELECT …), which name no metric of their own."""

    def query(entry: dict[str, Any]) -> str:
        expression = entry.get("Expression", "")
        return str(expression.value if isinstance(expression, Tag) else expression)

    return sum(
        any("SELECT" in query(entry) for entry in alarm["Properties"].get("Metrics", []))
        for alarm in found
    )


def plus_stages() -> list[str]:
    """Stages whose user pool is on the Plus tier, read from the template's condition."""
    template = load_template(INFRA / "identity.yaml")
    tier = template["Resources"]["UserPool"]["Properties"]["UserPoolTier"]
    assert isinstance(tier, Tag), tier
    assert tier.name == "If", tier
    condition, when_true, when_false = tier.value
    ref, stage = template["Conditions"][condition].value
    assert isinstance(ref, Tag), ref
    assert ref.value == "Environment", ref
    return [name for name in STAGES if (when_true if name == stage else when_false) == "PLUS"]


def stages(flag: str) -> list[str]:
    return [name for name, settings in STAGES.items() if getattr(settings, flag)]


def expected() -> dict[str, tuple[int, str | None]]:
    """What the templates and stacks.py say; None: the page's "where" is free text."""
    acls = resources("AWS::WAFv2::WebACL")
    with_orchestration = stages("orchestration")
    with_ses = stages("mails_through_ses")
    snap_start = stages("snap_start")
    return {
        "KMS keys": (len(resources("AWS::KMS::Key")), None),
        "WAF web ACLs": (len(acls), None),
        "WAF rules": (sum(len(acl["Properties"]["Rules"]) for acl in acls), None),
        "Secrets Manager secrets": (len(resources("AWS::SecretsManager::Secret")), None),
        "CloudWatch dashboards": (len(resources("AWS::CloudWatch::Dashboard")), None),
        "alarms, orchestration off": (len(alarms(False)), None),
        "alarms, orchestration on": (len(alarms(True)), None),
        "alarm metrics, orchestration off": (sum(map(listed_metrics, alarms(False))), None),
        "alarm metrics, orchestration on": (sum(map(listed_metrics, alarms(True))), None),
        "stacks only orchestration deploys": (len(ORCHESTRATION_PARTS), None),
        "orchestration on in": (len(with_orchestration), ", ".join(with_orchestration)),
        "mail through SES in": (len(with_ses), ", ".join(with_ses)),
        "threat protection (Plus) in": (len(plus_stages()), ", ".join(plus_stages())),
        "SnapStart in": (len(snap_start), ", ".join(snap_start)),
    }


def mismatches(text: str) -> list[str]:
    page = counted(text)
    wanted = expected()
    found = []
    for name, (count, where) in wanted.items():
        if name not in page:
            found.append(f"{name}: not on the page")
        elif page[name][0] != count or (where is not None and page[name][1] != where):
            found.append(f"{name}: page says {page[name]}, templates say {(count, where)}")
    found += [f"{name}: on the page, counted nowhere" for name in page.keys() - wanted.keys()]
    return found


def test_the_page_counts_what_the_templates_deploy() -> None:
    assert mismatches(PAGE.read_text(encoding="utf-8")) == []


def test_one_metrics_insights_alarm_is_priced_apart() -> None:
    # The page prices the DynamoDB-throttles alarm apart from the named alarm metrics.
    assert insights_alarms(alarms(True)) == insights_alarms(alarms(False)) == 1


@pytest.mark.parametrize(
    ("row", "wrong"),
    [
        ("| alarms, orchestration on | 12 |", "| alarms, orchestration on | 11 |"),
        ("| WAF rules | 6 |", "| WAF rules | 5 |"),
        ("| SnapStart in | 1 | prod |", "| SnapStart in | 1 | staging |"),
    ],
)
def test_a_stale_count_is_caught(row: str, wrong: str) -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert row in text
    assert mismatches(text.replace(row, wrong, 1)) != []
