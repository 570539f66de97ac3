"""One line per check: `ok   signup  …`, `FAIL token  …`, or `off  dag-run  …`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "FAIL", "off"]


@dataclass(frozen=True)
class Result:
    status: Status
    check: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"

    def line(self) -> str:
        return f"{self.status:<4} {self.check:<12} {self.detail}"


def ok(check: str, detail: str) -> Result:
    return Result("ok", check, detail)


def fail(check: str, detail: str) -> Result:
    return Result("FAIL", check, detail)


def off(check: str, detail: str) -> Result:
    """Not a failure: the stage does not have this part on purpose."""
    return Result("off", check, detail)


def first_line(error: BaseException) -> str:
    """An error as one line: the operator reads one line per check."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
