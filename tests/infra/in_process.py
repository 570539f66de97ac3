"""A command's `main` run in this process, answering as its child process would.

A child `python -m infra.deploy` spends about 0.3 s starting the interpreter and importing the
deploy; the same `main` in this process takes milliseconds, which keeps `make test-fast` quick.
What a test reads stays what the child gave it: the exit code (argparse's SystemExit included),
stdout and stderr, with the environment replaced for the call (and restored after, keys the
command adds included) and the repository as the working directory.

Only for commands that start no process of their own: a child's output would not be captured
here. Whether `python -m infra.deploy` itself starts is proved by the tests that deploy to moto.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]


def run_main(
    main: Callable[[list[str]], int], argv: list[str], environment: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """`main(argv)` with exactly `environment` in os.environ and the repository as cwd."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, environment, clear=True),
        contextlib.chdir(ROOT),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = _exit_status(exit_.code, err)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _exit_status(code: object, err: io.StringIO) -> int:
    """The status `sys.exit(code)` gives a process: None is 0, a message is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1
