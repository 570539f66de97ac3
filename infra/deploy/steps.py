"""A step: one named command an operator could type, with the values it waits for.

A value that exists only once an earlier step has run (a stack's export, an S3 object's
version, the REST API's id) stays a placeholder in the plan. `--dry-run` prints the
placeholders as they are; `run` fills them in just before the step runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Export:
    """A stack's exported output, e.g. `tasklake-dev-tasks-table` of `tasklake-dev-data`."""

    stack: str
    name: str

    def __str__(self) -> str:
        return f"<from {self.stack}: {self.name}>"


@dataclass(frozen=True)
class Resource:
    """The physical id of a stack's resource (a bucket's name), by its logical id."""

    stack: str
    logical_id: str

    def __str__(self) -> str:
        return f"<from {self.stack}: {self.logical_id}>"


@dataclass(frozen=True)
class Captured:
    """What an earlier step printed (or, for a probe, whether it found what it asked for)."""

    name: str

    def __str__(self) -> str:
        return f"<{self.name}>"


Value = Export | Resource | Captured
Part = str | Value
Arg = tuple[Part, ...]


def arg(*parts: Part) -> Arg:
    """One argv element joined from literal text and placeholders."""
    return parts


def render(argument: Arg) -> str:
    return "".join(str(part) for part in argument)


@dataclass(frozen=True)
class Step:
    title: str
    argv: tuple[Arg, ...]
    # Keep the command's stdout (stripped) as `Captured(captures)` for later steps.
    captures: str | None = None
    # A probe asks whether something exists: it captures "yes" or "no" and only fails on errors.
    probe: str | None = None
    # Run only when an earlier capture has this value, e.g. ("function-exists", "no").
    only_if: tuple[str, str] | None = None
    # Skip (instead of failing) when a stack it reads from does not exist: destroy re-runs.
    skip_if_stack_missing: bool = False
    # Errors that mean "not visible yet" (AWS is eventually consistent right after a create):
    # the step is retried with a bounded backoff when its error names one of them.
    retry_on: tuple[str, ...] = ()

    def command(self, width: int = 100) -> str:
        """The command as a shell line; a long one wraps before each option, like a runbook."""
        words = [_quote(render(argument)) for argument in self.argv]
        line = " ".join(words)
        if len(line) <= width:
            return line
        return "".join(
            (" \\\n        " if word.startswith("--") and index else " " if index else "") + word
            for index, word in enumerate(words)
        )


def _quote(text: str) -> str:
    """Shell quoting that leaves placeholders readable."""
    if text and all(c.isalnum() or c in "-_./:=,@<>%+" for c in text):
        return text
    if "'" in text and not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return "'" + text.replace("'", "'\\''") + "'"
