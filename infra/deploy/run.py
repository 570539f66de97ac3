"""Run a plan: print each step as the command it is, then run it; stop at the first failure."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from infra.deploy.outputs import NotFound, Stacks, aws_executable
from infra.deploy.plan import PYTHON, ZAPPA, Plan
from infra.deploy.retained import Kept
from infra.deploy.stacks import ROOT
from infra.deploy.steps import Arg, Captured, Export, Part, Resource, Step, render

# What a probe's error says when the thing it asked about is simply not there.
ABSENT = ("ResourceNotFoundException", "does not exist", "NotFound")


class StepFailed(RuntimeError):
    def __init__(self, number: str, step: Step, returncode: int, attempts: int = 1) -> None:
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f'step {number} "{step.title}" failed with exit code {returncode}{tried}')
        self.returncode = returncode or 1


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts of a step that may meet a not-yet-visible resource."""

    attempts: int = 6
    first: float = 5.0
    cap: float = 60.0

    def waits(self) -> list[float]:
        """Seconds to wait before each retry: doubling, capped (5, 10, 20, 40, 60: 135 s)."""
        return [min(self.first * 2**n, self.cap) for n in range(self.attempts - 1)]


class _Skip(Exception):
    pass


class Runner:
    def __init__(
        self,
        region: str,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.region = region
        self.stacks = Stacks()
        self.captured: dict[str, str] = {}
        self.backoff, self.sleep = backoff, sleep

    def resolve(self, argument: Arg, *, lenient: bool = False) -> Arg:
        """Placeholders replaced by their values; `lenient` leaves the unknown ones as they are."""
        resolved: list[Part] = []
        for part in argument:
            try:
                resolved.append(self._value(part))
            except LookupError:  # NotFound, a missing export or capture
                if not lenient:
                    raise
                resolved.append(part)
        return tuple(resolved)

    def _value(self, part: Part) -> str:
        if isinstance(part, Export):
            return self.stacks.export(part.stack, part.name)
        if isinstance(part, Resource):
            return self.stacks.resource(part.stack, part.logical_id)
        if isinstance(part, Captured):
            return self.captured[part.name]
        return part

    def run_step(self, number: str, step: Step) -> None:
        if step.only_if and self.captured.get(step.only_if[0]) != step.only_if[1]:
            return
        try:
            argv = [render(self.resolve(a)) for a in step.argv]
        except NotFound:
            if not step.skip_if_stack_missing:
                raise
            print(f"==> {number} {step.title}: skipped, its stack does not exist", flush=True)
            return
        shown = replace(step, argv=tuple((a,) for a in argv)).command()
        print(f"==> {number} {step.title}\n    $ {shown}", flush=True)
        self.execute(number, step, argv)
        self.stacks = Stacks()  # a step may have changed any stack

    def execute(self, number: str, step: Step, argv: list[str]) -> None:
        program = {"aws": aws_executable(), ZAPPA: str(ROOT / ZAPPA), PYTHON: sys.executable}
        command = [program.get(argv[0], argv[0]), *argv[1:]]
        keep = step.captures is not None or step.probe is not None or bool(step.retry_on)
        waits = self.backoff.waits() if step.retry_on else []
        for attempt in range(1, len(waits) + 2):
            done = subprocess.run(  # noqa: S603 (the plan's fixed commands)
                command, cwd=ROOT, text=True, check=False,
                capture_output=keep,
            )  # fmt: skip
            reason = next((m for m in step.retry_on if m in (done.stderr or "")), None)
            if done.returncode == 0 or reason is None or attempt > len(waits):
                break
            wait = waits[attempt - 1]
            print(f"    {reason}: not visible yet, retry {attempt}/{len(waits)} in {wait:g} s",
                  flush=True)  # fmt: skip
            self.sleep(wait)
        if step.retry_on and done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise StepFailed(number, step, done.returncode, attempt)
        if step.retry_on and not step.captures:
            sys.stdout.write(done.stdout)
        if step.probe:
            if done.returncode == 0:
                self.captured[step.probe] = "yes"
            elif any(marker in done.stderr for marker in ABSENT):
                self.captured[step.probe] = "no"
            else:
                sys.stderr.write(done.stderr)
                raise StepFailed(number, step, done.returncode)
            print(f"    {step.probe}: {self.captured[step.probe]}", flush=True)
            return
        if done.returncode != 0:
            if keep:
                sys.stderr.write(done.stderr)
            raise StepFailed(number, step, done.returncode)
        if step.captures:
            self.captured[step.captures] = done.stdout.strip()
            print(f"    {step.captures}: {self.captured[step.captures]}", flush=True)

    def pin_kept(self, kept: list[Kept]) -> list[Kept]:
        """Names of what destroy keeps, read while their stacks still exist."""
        return [
            replace(k, name=self.resolve(k.name, lenient=True),
                    commands=tuple(self.resolve(c, lenient=True) for c in k.commands))
            for k in kept
        ]  # fmt: skip


def _condition(step: Step) -> str:
    if step.only_if:
        return f"  (only if {step.only_if[0]} is {step.only_if[1]})"
    return ""


def print_plan(plan: Plan) -> None:
    """The dry run: every step as it would run, placeholders for what earlier steps produce."""
    for index, step in enumerate(plan.steps, 1):
        print(f"==> {index}/{len(plan.steps)} {step.title}{_condition(step)}")
        print(f"    $ {step.command()}")
        if step.captures or step.probe:
            print(f"    (its answer is <{step.captures or step.probe}>)")
    print_endings(plan.summary, plan.kept)


def print_endings(summary: list[tuple[str, Arg]], kept: list[Kept]) -> None:
    if summary:
        print()
        for label, value in summary:
            print(f"{label + ':':<12}{render(value)}")
    if kept:
        print("\nKept on purpose (data outlives its stack). To remove these too:")
        for item in kept:
            print(f"  - {item.what}: {render(item.name)}")
            if item.note:
                print(f"    ({item.note})")
            for command in item.commands:
                print(f"    $ {render(command)}")


def run_plan(plan: Plan, region: str) -> None:
    """Run every step in order; raises StepFailed at the first failure."""
    runner = Runner(region)
    kept = runner.pin_kept(plan.kept)
    total = len(plan.steps)
    for index, step in enumerate(plan.steps, 1):
        runner.run_step(f"{index}/{total}", step)
    summary = [(label, runner.resolve(value, lenient=True)) for label, value in plan.summary]
    print_endings(summary, runner.pin_kept(kept))
