"""What the zip holds, how big it is, and that building it is deterministic."""

from __future__ import annotations

import importlib.metadata
import json
import re
import runpy
import zipfile
from pathlib import Path

import pytest

from api.swagger_ui import ASSETS
from infra.package.artifact import RUNTIME, finalize
from tests.package.conftest import SETTINGS_FILE

TARGET_BYTES = 8 * 1024 * 1024
RUNTIME_NAME = "python{}.{}".format(*RUNTIME)
PYC_TAG = "cpython-{}{}".format(*RUNTIME)
# The runtime provides the AWS SDK; Zappa's own tooling is only needed to build.
NEVER_PACKAGED = (
    "boto3/",
    "botocore/",
    "s3transfer/",
    "pip/",
    "setuptools/",
    "troposphere/",
    "yaml/",
    "requests/",
    "tests/",
    "infra/",
    "docs/",
    "zappa/cli.py",
    "zappa/core.py",
    # Every library imports it only below Python 3.10/3.11 or for type checkers (110 KB).
    "typing_extensions",
    "__pycache__/typing_extensions",
)


# An AWS region's name: us-east-1, eu-west-1, ap-southeast-2, us-gov-west-1...
REGION_NAME = re.compile(r"\b[a-z]{2}(?:-gov)?-[a-z]+-\d\b")


@pytest.fixture(scope="module")
def names(package_zip: Path) -> list[str]:
    with zipfile.ZipFile(package_zip) as archive:
        return archive.namelist()


def test_package_is_within_the_size_target(package_zip: Path) -> None:
    assert package_zip.stat().st_size <= TARGET_BYTES


def test_package_leaves_out_what_lambda_provides_and_build_tools(names: list[str]) -> None:
    present = [name for name in names if name.startswith(NEVER_PACKAGED)]
    assert present == []


def test_package_holds_the_handler_settings_and_precompiled_app(names: list[str]) -> None:
    assert {"handler.py", "zappa_settings.py", "api/wsgi.py"} <= set(names)
    assert f"api/__pycache__/wsgi.{PYC_TAG}.pyc" in names


def test_the_package_names_no_region(task_root: Path) -> None:
    """One zip runs in any region: Lambda sets AWS_REGION to the one the function runs in
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
    and Zappa's handler copies ENVIRONMENT_VARIABLES over the environment at start, so a region
    written there at build time would win over Lambda's."""
    settings_file = task_root / "zappa_settings.py"
    settings = runpy.run_path(str(settings_file))

    assert settings["ENVIRONMENT_VARIABLES"] == {}
    assert REGION_NAME.findall(settings_file.read_text()) == []


def test_only_the_served_swagger_ui_assets_are_shipped(names: list[str]) -> None:
    vendored = {Path(name).name for name in names if name.startswith("flask_swagger_ui/dist/")}
    assert vendored == ASSETS | {"LICENSE"}


def test_distribution_metadata_keeps_headers_without_descriptions(
    package_zip: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(package_zip) as archive:
        metadata_files = [
            name for name in archive.namelist() if name.endswith(".dist-info/METADATA")
        ]
        archive.extractall(tmp_path, members=metadata_files)
    assert metadata_files

    for name in metadata_files:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "\n\n" not in text  # the long description started after the first blank line
        distribution = importlib.metadata.PathDistribution(tmp_path / Path(name).parent)
        assert distribution.metadata["Name"]
        assert distribution.version  # what flask and friends ask importlib.metadata at run time


def test_finalizing_is_deterministic(package_zip: Path, tmp_path: Path) -> None:
    rebuilt = tmp_path / "again.zip"
    with zipfile.ZipFile(package_zip) as archive:
        commit = json.loads(archive.read("package_info.json"))["source_commit"]

    finalize(package_zip, rebuilt, source_commit=commit)

    assert rebuilt.read_bytes() == package_zip.read_bytes()


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_settings_keep_roles_and_secrets_out_of_zappa(stage: str) -> None:
    stages = json.loads(SETTINGS_FILE.read_text())
    config = {**stages["dev"], **stages[stage]}

    assert config["manage_roles"] is False
    assert config["role_arn"] == f"arn:aws:iam::<account>:role/tasklake-{stage}-api"
    assert config["runtime"] == RUNTIME_NAME
    assert config["app_function"] == "api.wsgi.app"
    assert (config["keep_warm"], config["binary_support"], config["debug"]) == (False,) * 3
    assert config["cloudwatch_data_trace"] is False  # would log passwords and tokens
    variables = config["aws_environment_variables"]
    assert variables["STAGE"] == stage
    assert variables["TASKS_TABLE"] == f"tasklake-{stage}-tasks"
    assert variables["CURSOR_SECRET"] == ""  # injected by the deploy from Secrets Manager
    assert set(config["tags"]) == {"Project", "Owner", "Environment", "CostCenter"}
    assert config["tags"]["Environment"] == stage
