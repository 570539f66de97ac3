"""ADR 0013's alarm table names every alarm infra/monitoring.yaml declares, and no other; the
runbook has one section per alarm.

The table once said "ten alarms" while listing nine: this holds the list, not only its count.
"""

from __future__ import annotations

import re

from infra.cfn import INFRA, load_template

ADR = INFRA.parent / "docs" / "adr" / "0013-api-metrics-and-logs.md"
RUNBOOK = INFRA.parent / "docs" / "runbook.md"
ALARMS_SECTION = "## Alarms: what each means and what to do"
PREFIX = "${Project}-${Environment}-"


def declared_alarms() -> set[str]:
    resources = load_template(INFRA / "monitoring.yaml")["Resources"]
    names = {
        str(resource["Properties"]["AlarmName"].value)
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert all(name.startswith(PREFIX) for name in names), names
    return {name.removeprefix(PREFIX) for name in names}


def tabled_alarms(text: str) -> set[str]:
    """The backticked names in the first cell of each row of the "| alarm | …" table."""
    table = text.split("| alarm |", 1)[1].split("\n\n", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines()[2:] if line.startswith("|")]
    return {name for cell in first_cells for name in re.findall(r"`([\w-]+)`", cell)}


def test_the_adr_tables_every_alarm_the_template_declares() -> None:
    assert tabled_alarms(ADR.read_text(encoding="utf-8")) == declared_alarms()


def test_a_missing_row_is_caught() -> None:
    text = ADR.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `code-emails`"))
    assert "code-emails" not in tabled_alarms(text.replace(row + "\n", ""))


def runbook_alarm_sections(text: str) -> set[str]:
    """The `### <alarm>` headings of the runbook's alarms section."""
    section = text.split(f"\n{ALARMS_SECTION}\n", 1)[1].split("\n## ", 1)[0]
    return {line[4:].strip() for line in section.splitlines() if line.startswith("### ")}


def test_the_runbook_says_what_to_do_for_every_alarm() -> None:
    assert runbook_alarm_sections(RUNBOOK.read_text(encoding="utf-8")) == declared_alarms()
