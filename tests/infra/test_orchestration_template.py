"""One Airflow version everywhere: the MWAA environment, the local venv and the constraints file.

MWAA installs dags/requirements.txt against the constraints file its `--constraint` line names;
`make airflow-venv` installs the same pins locally. If the template's AirflowVersion moved without
the other two, the DAG tests would pass on an Airflow that production does not run.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from infra.local.analytics_catalog import Tag, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "orchestration.yaml"
# Where MWAA mounts the environment's DagS3Path inside its containers.
MWAA_AIRFLOW_HOME = "/usr/local/airflow"
# sha256 of the constraints MWAA installs for Airflow 3.3.1 on Python 3.12 (amazon-mwaa-docker-
# images, images/airflow/3.3.1/etc/airflow_constraints.txt): the committed copy is that file.
MWAA_CONSTRAINTS_SHA256 = "bff32ed535a2a0e876e5d6995f4df3a74787e758b32e8c70c300b148b810866a"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _environment(template: dict[str, Any]) -> dict[str, Any]:
    (environment,) = (
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::MWAA::Environment"
    )
    return environment


def template_version(template: dict[str, Any]) -> str:
    version: str = template["Parameters"]["AirflowVersion"]["Default"]
    return version


def makefile_version(makefile: str) -> str:
    (version,) = re.findall(r"apache-airflow==([0-9][0-9a-z.]*)", makefile)
    return version


def requirements_constraint(requirements: str) -> str:
    """The path of the `--constraint` line of dags/requirements.txt."""
    (path,) = re.findall(r'^--constraint\s+"?([^"\s]+)"?\s*$', requirements, re.MULTILINE)
    return path


def constraints_version(path: str) -> str:
    match = re.fullmatch(r"constraints-([0-9][0-9a-z.]*)\.txt", Path(path).name)
    assert match, f"{path} is not named constraints-<airflow version>.txt"
    return match.group(1)


def test_template_makefile_and_constraints_name_the_same_airflow(
    template: dict[str, Any],
) -> None:
    makefile = (ROOT / "Makefile").read_text()
    constraint = requirements_constraint((ROOT / "dags" / "requirements.txt").read_text())

    versions = {
        "infra/orchestration.yaml AirflowVersion": template_version(template),
        "Makefile apache-airflow==": makefile_version(makefile),
        "dags/requirements.txt --constraint": constraints_version(constraint),
    }

    assert len(set(versions.values())) == 1, versions


def test_the_constraints_file_is_committed_for_that_version(template: dict[str, Any]) -> None:
    version = template_version(template)
    constraints = ROOT / "dags" / f"constraints-{version}.txt"

    assert constraints.is_file()
    # The copy is Apache Airflow's file for this very version, not a renamed older one.
    assert f"/constraints-{version}/" in constraints.read_text().splitlines()[1]
    assert (
        f"AIRFLOW_CONSTRAINTS := dags/constraints-{version}.txt" in (ROOT / "Makefile").read_text()
    )


def test_mwaa_finds_the_constraints_where_requirements_txt_points(
    template: dict[str, Any],
) -> None:
    """The deploy uploads the constraints to the ConstraintsS3Key output, under DagS3Path."""
    environment = _environment(template)
    key = template["Outputs"]["ConstraintsS3Key"]["Value"]
    assert isinstance(key, Tag)
    assert key.name == "Sub"
    uploaded_to = key.value.replace("${AirflowVersion}", template_version(template))

    constraint = requirements_constraint((ROOT / "dags" / "requirements.txt").read_text())

    assert uploaded_to.startswith(environment["DagS3Path"] + "/")
    assert constraint == f"{MWAA_AIRFLOW_HOME}/{uploaded_to}"
    assert environment["AirflowVersion"] == Tag("Ref", "AirflowVersion")


def test_requirements_are_pinned_by_their_content_key_and_its_version(
    template: dict[str, Any],
) -> None:
    """The deploy passes both: a key named by the file's SHA-256 and that object's version."""
    environment = _environment(template)
    parameters = template["Parameters"]

    assert environment["RequirementsS3Path"] == Tag("Ref", "RequirementsS3Path")
    assert environment["RequirementsS3ObjectVersion"] == Tag("Ref", "RequirementsS3ObjectVersion")
    assert "Default" not in parameters["RequirementsS3Path"]
    assert "Default" not in parameters["RequirementsS3ObjectVersion"]
    digest = hashlib.sha256((ROOT / "dags" / "requirements.txt").read_bytes()).hexdigest()
    pattern = parameters["RequirementsS3Path"]["AllowedPattern"]
    assert re.fullmatch(pattern, f"requirements/{digest[:16]}.txt")
    assert not re.fullmatch(pattern, "requirements.txt")


def test_the_constraints_file_is_mwaas_unmodified(template: dict[str, Any]) -> None:
    constraints = ROOT / "dags" / f"constraints-{template_version(template)}.txt"

    assert hashlib.sha256(constraints.read_bytes()).hexdigest() == MWAA_CONSTRAINTS_SHA256


def test_local_airflow_runs_on_the_python_the_constraints_are_for(template: dict[str, Any]) -> None:
    """The pins hold for one interpreter: the venv, its mypy run and MWAA must all use it."""
    constraints = ROOT / "dags" / f"constraints-{template_version(template)}.txt"
    (python,) = re.findall(
        r"/constraints-(3\.[0-9]+)\.txt$", constraints.read_text().splitlines()[1]
    )
    makefile = (ROOT / "Makefile").read_text()

    assert re.findall(r"^PYTHON_VERSION := ([0-9.]+)$", makefile, re.MULTILINE) == [python]
    assert f"$(AIRFLOW_VENV)/bin/mypy --python-version {python} dags tests/dags" in makefile


def test_a_deploy_during_a_run_lets_running_tasks_finish(template: dict[str, Any]) -> None:
    """GRACEFUL: an update lets workers finish running tasks (up to 12 h) before they are
    replaced; FORCED (the default) stops them mid-task. The DAG's longest task is 1 h.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-mwaa-environment.html
    https://docs.aws.amazon.com/mwaa/latest/userguide/update-environment.html#worker-replacement-strategy
    """
    assert _environment(template)["WorkerReplacementStrategy"] == "GRACEFUL"
