"""What the DAG imports must run on MWAA's constraints: pyarrow (with numpy) and the stdlib."""

import subprocess
import sys
from pathlib import Path


def test_transform_imports_neither_analyst_tools_nor_airflow() -> None:
    probe = (
        "import sys, etl.transform, etl.transform_cli, etl.schemas, etl.run_metrics; "
        "print(sorted(m for m in ('pandas', 'duckdb', 'boto3', 'airflow', 'matplotlib') "
        "if m in sys.modules))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert loaded == "[]"
