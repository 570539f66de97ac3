"""Every deploy repairs the lake catalog right after the analytics stack, whatever changed.

A stack update that changes a lake table resets `<table>_latest` to the template's empty folder
and drops the table's partitions (etl/catalog_repair.py); the repair puts both back from the
pointers publish wrote, and changes nothing when the stack did not change them.
"""

from __future__ import annotations

from infra.cfn import Tag, load_template
from infra.deploy import plan, stacks
from infra.deploy.steps import render


def test_the_catalog_is_repaired_right_after_the_analytics_stack_deploys() -> None:
    """The database as infra/analytics.yaml names it (`${Project}_${Environment}`)."""
    steps = plan.deploy_plan(plan.Options(stage="dev")).steps
    commands = [[render(a) for a in step.argv] for step in steps]
    analytics = stacks.stack_name("dev", "analytics")
    deployed = next(
        n for n, argv in enumerate(commands) if argv[:3] == ["aws", "cloudformation", "deploy"]
        and analytics in argv
    )  # fmt: skip

    repair = commands[deployed + 1]

    assert repair == [plan.PYTHON, "-m", "etl.catalog_repair", "--database", "tasklake_dev"]


def test_the_database_repaired_is_the_one_the_analytics_stack_names() -> None:
    analytics = load_template(plan.ROOT / "infra" / "analytics.yaml")["Resources"]
    (database,) = [r for r in analytics.values() if r["Type"] == "AWS::Glue::Database"]

    name = database["Properties"]["DatabaseInput"]["Name"]
    assert isinstance(name, Tag)
    assert name.value == "${Project}_${Environment}"
