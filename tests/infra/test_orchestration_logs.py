"""MWAA's log groups come from the orchestration template, with a retention, not a runbook step.

MWAA writes each enabled component's logs to `airflow-<environment name>-<component>`
(https://docs.aws.amazon.com/mwaa/latest/userguide/monitoring-airflow.html) and creates the
group when it is missing, without a retention: the logs would be kept, and billed, forever.
AWS::MWAA::Environment has no retention property; a group made first with the name MWAA
derives is the one it writes to, the pattern AWS's own MWAA construct uses
(https://aws.github.io/modern-data-architecture-accelerator/packages/constructs/L2/mwaa-constructs/index.html).
Retention values: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-loggroup.html
"""

from __future__ import annotations

from typing import Any

from infra.cfn import INFRA, Tag, load_template

# LoggingConfiguration's keys and the component each names in MWAA's log group.
COMPONENTS = {
    "TaskLogs": "Task",
    "SchedulerLogs": "Scheduler",
    "WorkerLogs": "Worker",
    "DagProcessingLogs": "DAGProcessing",
    "WebserverLogs": "WebServer",
}


def resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load_template(INFRA / "orchestration.yaml")["Resources"]
    return found


def environment() -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = (
        (logical_id, resource)
        for logical_id, resource in resources().items()
        if resource["Type"] == "AWS::MWAA::Environment"
    )
    return logical_id, resource


def log_groups() -> dict[str, tuple[str, dict[str, Any]]]:
    """Log group name (as the template writes it) -> (logical id, properties)."""
    found = {}
    for logical_id, resource in resources().items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            name = resource["Properties"]["LogGroupName"]
            assert isinstance(name, Tag), name
            assert name.name == "Sub", name
            found[name.value] = (logical_id, resource)
    return found


def test_every_enabled_mwaa_log_type_has_its_group_in_the_template() -> None:
    _, mwaa = environment()
    enabled = [
        COMPONENTS[kind]
        for kind, setting in mwaa["Properties"]["LoggingConfiguration"].items()
        if setting["Enabled"]
    ]

    assert sorted(enabled) == sorted(COMPONENTS.values())
    assert set(log_groups()) == {
        f"airflow-${{Project}}-${{Environment}}-{component}" for component in enabled
    }


def test_the_groups_expire_are_encrypted_and_exist_before_mwaa() -> None:
    _, mwaa = environment()
    parameters = load_template(INFRA / "orchestration.yaml")["Parameters"]

    for logical_id, group in log_groups().values():
        properties = group["Properties"]
        assert properties["RetentionInDays"] == Tag("Ref", "LogRetentionDays")
        assert properties["KmsKeyId"].name == "ImportValue"
        assert group["DeletionPolicy"] == "Delete"  # logs are not data the ADR keeps
        assert logical_id in mwaa["DependsOn"]
    assert parameters["LogRetentionDays"]["Default"] == 90
