"""Why a part of the stage is not there: on purpose (`Off`) or by mistake (`Missing`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Off:
    """Absent on purpose, e.g. orchestration switched off for the stage: reported, not failed."""

    reason: str


@dataclass(frozen=True)
class Missing:
    """Should be deployed and is not: the check that needs it fails with this reason."""

    reason: str
