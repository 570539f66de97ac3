"""A stand-in AWS CLI that answers from recorded JSON, for what no local engine models.

moto enforces no quotas, keeps no SES sandbox or per-region service list, and never ends a
create in ROLLBACK_FAILED. Where a test needs those answers, the deploy's real code runs and
its `aws …` commands go to this script instead (the client boundary: the process the deploy
starts), which answers from tests/infra/recorded/*.json and logs every command it was given.

An answer is keyed by the command's first words (`lambda get-account-settings`); the longest
key that starts the command wins. `--query` is applied with JMESPath, as the CLI applies it.
A command with no recorded answer fails loudly (exit 252), so nothing unrecorded passes.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath
import pytest

from infra.deploy import account_checks, blockers, buckets, outputs

RECORDED = Path(__file__).parent / "recorded"

# The stand-in starts as `python -IS`, without site-packages: a deploy command line makes
# about twenty `aws` calls, and a full interpreter start (site, then jmespath) is most of each
# call's cost. jmespath, needed only for `--query`, is imported from where this venv has it.
SCRIPT = """\
import json, sys
argv = sys.argv[1:]
with open({answers!r}) as file:
    answers = json.load(file)
with open({log!r}, "a") as log:
    log.write(json.dumps(argv) + "\\n")
line = " ".join(argv)
keys = sorted((k for k in answers if line.startswith(k)), key=len, reverse=True)
if not keys:
    sys.exit("recorded aws: no answer for: " + line)
answer = answers[keys[0]]
if answer.get("stderr"):
    sys.stderr.write(answer["stderr"] + "\\n")
if answer.get("exit", 0):
    sys.exit(answer["exit"])
body = answer.get("stdout")
if body is not None and "--query" in argv:
    sys.path.insert(0, {site_packages!r})
    import jmespath
    body = jmespath.search(argv[argv.index("--query") + 1], body)
if body is not None:
    if "--output" in argv and argv[argv.index("--output") + 1] == "text":
        print(body if isinstance(body, str) else "\\t".join(map(str, body)))
    else:
        print(json.dumps(body))
"""


def recorded(name: str) -> dict[str, Any]:
    """One recorded answer file: {"command words": {"stdout": …, "stderr": …, "exit": …}}."""
    answers: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return answers


@dataclass
class RecordedAws:
    """The stand-in CLI and what it was asked."""

    directory: Path
    answers: dict[str, Any]

    def answer(self, *names: str, **extra: dict[str, Any]) -> None:
        """Answer with the recorded files `names` (later ones win) and `extra` answers."""
        self.answers.clear()
        for name in names:
            self.answers.update(recorded(name))
        self.answers.update({key.replace("_", " "): value for key, value in extra.items()})
        (self.directory / "answers.json").write_text(json.dumps(self.answers))

    def calls(self) -> list[list[str]]:
        log = self.directory / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def writes(self) -> list[str]:
        """The commands that could change something: every verb but reads and waits."""
        reads = ("get-", "describe-", "list-", "head-", "wait")
        return [
            " ".join(call)
            for call in self.calls()
            if not any(call[1].startswith(read) for read in reads)
        ]


def recorded_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordedAws:
    """Send the deploy's `aws` commands (in this process) to the stand-in; clear AWS_*."""
    directory = tmp_path / "recorded-aws"
    directory.mkdir()
    script = directory / "aws"
    script.write_text(
        f"#!{sys.executable} -IS\n"
        + SCRIPT.format(
            answers=str(directory / "answers.json"),
            log=str(directory / "calls.jsonl"),
            site_packages=str(Path(jmespath.__file__).parent.parent),
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    for module in (outputs, blockers, buckets, account_checks):
        monkeypatch.setattr(module, "aws_executable", lambda: str(script))
    for variable in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "recorded")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "recorded")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    stand_in = RecordedAws(directory, {})
    stand_in.answer()
    return stand_in
