"""One interpreter for the whole project: the Lambda runtime, MWAA's Airflow, the tools, CI.

A second version creeps back in through any one of these files, and then the bytecode the
package ships, the wheels it picks or the types mypy checks stop matching what runs in AWS.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

from infra.package.artifact import RUNTIME

ROOT = Path(__file__).resolve().parents[2]
VERSION = "{}.{}".format(*RUNTIME)


def test_the_tests_run_on_the_lambda_runtimes_python() -> None:
    assert sys.version_info[:2] == RUNTIME


def test_the_makefile_builds_every_virtualenv_on_that_version() -> None:
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"^PYTHON_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert pinned is not None
    assert pinned[1] == VERSION
    # Every virtualenv goes through the one recipe that checks the interpreter.
    assert "-m venv" not in makefile.replace("$(PYTHON_BIN) -m venv $(1)", "")


def test_every_zappa_stage_runs_that_version() -> None:
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    runtimes = {name: {**stages["dev"], **block}["runtime"] for name, block in stages.items()}
    assert set(runtimes.values()) == {f"python{VERSION}"}, runtimes


def test_linters_and_type_checker_target_that_version() -> None:
    tools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    short = VERSION.replace(".", "")
    assert tools["mypy"]["python_version"] == VERSION
    assert tools["ruff"]["target-version"] == f"py{short}"
    # ruff's formatter reads [tool.ruff]'s target; black, a second formatter, is gone.
    assert "black" not in tools
