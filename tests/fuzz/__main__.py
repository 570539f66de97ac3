"""Property-based run of the published OpenAPI spec against the real engines.

    python -m tests.fuzz [--seconds 120] [--seed N]

Starts DynamoDB Local and cognito-local on free ports, serves the app on a free
loopback port, signs a real user up with cognito-local and runs Schemathesis'
CLI with every check, authenticated as that user, an administrator (see `hooks.py`).
Check settings live in the project's `schemathesis.toml`, each exception with its
reason. Exits with Schemathesis' status: non-zero on any failure, with its report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

from api.app import create_app
from api.config import Settings
from tests.fuzz.hooks import EMAIL_VARIABLE, URL_VARIABLE
from tests.harness import local_engines, promote_to_admin, serving, sign_up

CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"


def schemathesis_command(base_url: str, seconds: int, seed: int | None) -> list[str]:
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"),
        f"{base_url}/openapi.json",
        *("--url", base_url),
        *("--checks", "all"),
        *("--max-time", str(seconds)),
        # One worker: with two, CPython 3.11's ast.parse (Hypothesis describing a strategy)
        # intermittently fails across threads, "AST constructor recursion depth mismatch"
        # (python/cpython#106905), a runtime error of the tool, not a finding.
        *("--workers", "1"),
        *("--generation-database", "none"),
        "--no-color",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz")
    parser.add_argument("--seconds", type=int, default=120, help="time budget for Schemathesis")
    parser.add_argument("--seed", type=int, help="replay a run (Schemathesis prints its seed)")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory(prefix="tasklake-fuzz-") as workdir,
        local_engines(Path(workdir), cursor_secret="fuzz-cursor-secret") as environment,
    ):
        # Access lines for thousands of requests would bury the report; errors still show.
        app = create_app(replace(Settings.from_env(environment), log_level="WARNING"))
        email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
        sign_up(app, email, name="Fuzz User")
        # An administrator reaches every operation: GET /users and other users' profiles too.
        promote_to_admin(email)
        with serving(app) as base_url:
            print(f"fuzzing {base_url} for up to {args.seconds}s", flush=True)
            completed = subprocess.run(
                schemathesis_command(base_url, args.seconds, args.seed),
                env={**os.environ, URL_VARIABLE: base_url, EMAIL_VARIABLE: email},
                check=False,
            )
            return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
