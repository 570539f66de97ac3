"""What the DAG's transform imports must be installed on MWAA: dags/requirements.txt names it."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
ENGINE_PACKAGES = ("duckdb", "sqlglot", "pyarrow")
"""The worker's engine, the translation of the SQL into its dialect, and the footer checks."""


def _loaded(modules: tuple[str, ...]) -> list[str]:
    probe = (
        "import sys, etl.transform, etl.transform_cli, etl.schemas, etl.run_metrics; "
        f"print(sorted(m for m in {modules!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [name.strip("' ") for name in done.stdout.strip("[]\n").split(",") if name.strip()]


def test_transform_imports_neither_analyst_tools_nor_airflow() -> None:
    assert _loaded(("pandas", "boto3", "airflow", "matplotlib")) == []


def test_every_engine_package_the_transform_imports_is_an_mwaa_requirement() -> None:
    requirements = (ROOT / "dags" / "requirements.txt").read_text()
    named = {
        match.group(1).lower()
        for match in re.finditer(r"^([A-Za-z0-9_.-]+)", requirements, flags=re.MULTILINE)
    }

    assert set(_loaded(ENGINE_PACKAGES)) == set(ENGINE_PACKAGES)
    assert set(ENGINE_PACKAGES) <= named
