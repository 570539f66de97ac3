"""`make lint`'s dead-code check: vulture with the project's settings finds an unused function,
and today's tree, with its whitelist, has none."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def vulture(*paths: str) -> subprocess.CompletedProcess[str]:
    """vulture as `make lint` runs it: from the root, so pyproject.toml's settings apply."""
    return subprocess.run(
        [sys.executable, "-m", "vulture", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_unused_function_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "handlers.py"
    module.write_text(
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "\n"
        "@app.route('/')\n"
        "def index() -> str:  # reached by Flask: not reported\n"
        "    return helper()\n"
        "\n"
        "def helper() -> str:\n"
        "    return 'used'\n"
        "\n"
        "def forgotten() -> str:\n"
        "    return 'never called'\n"
    )
    result = vulture(str(module))
    assert result.returncode == 3, result.stdout + result.stderr  # vulture's "dead code found"
    assert re.findall(r"unused function '(\w+)'", result.stdout) == ["forgotten"]


def test_the_tree_has_no_dead_code() -> None:
    result = vulture()
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_lint_runs_it() -> None:
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert lint is not None
    assert "$(VENV)/bin/vulture\n" in lint[1]
