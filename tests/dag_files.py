"""The DAGs in dags/, read from their source: the tests that need their ids run without Airflow."""

from __future__ import annotations

import ast
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"


def dag_id(dag_file: Path) -> str:
    """The `dag_id=` a DAG file passes to `@dag`, a literal or a module constant."""
    tree = ast.parse(dag_file.read_text())
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "dag_id":
            if isinstance(node.value, ast.Name):
                return str(constants[node.value.id])
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError(f"no dag_id in {dag_file}")


def dag_ids() -> set[str]:
    """The dag_id of every DAG file in dags/ (each Python file there is one)."""
    return {dag_id(path) for path in sorted(DAGS.glob("*.py"))}
