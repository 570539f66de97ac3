"""Stored timestamps: fixed-width UTC strings that read back as the same instant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TableError

from api.config import Settings
from api.storage import BaseModel, IsoDateTimeAttribute, bind_tables, create_missing_tables


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_a_timestamp_round_trips_as_an_aware_utc_instant(moment: datetime) -> None:
    attribute = IsoDateTimeAttribute()

    stored = attribute.serialize(moment)
    loaded = attribute.deserialize(stored)

    assert len(stored) == len("2026-11-25T09:30:00.123456Z")
    assert stored.endswith("Z")
    assert loaded == moment
    assert loaded.utcoffset() == timedelta(0)


class _Scratch(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "scratch"

    key = UnicodeAttribute(hash_key=True)


def test_a_create_table_that_timed_out_yet_succeeded_counts_as_created(
    engines: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore retries a CreateTable whose answer outlasted the read timeout; when the first
    attempt had created the table, the retry is refused with ResourceInUseException. The
    engine cannot be made slow on cue, so the refusal is raised here after a real create."""
    bind_tables([(_Scratch, f"scratch-{uuid.uuid4().hex[:8]}")], Settings.from_env(engines).region)
    create_table = _Scratch.create_table.__func__  # type: ignore[attr-defined]

    def created_then_refused(cls: type[_Scratch], **options: Any) -> None:
        create_table(cls, **{**options, "wait": False})
        refusal = {"Error": {"Code": "ResourceInUseException", "Message": "preexisting"}}
        cause = ClientError(refusal, "CreateTable")  # type: ignore[arg-type]
        raise TableError("Failed to create table", cause)

    monkeypatch.setattr(_Scratch, "create_table", classmethod(created_then_refused))

    assert create_missing_tables([_Scratch]) == [_Scratch.Meta.table_name]
    assert _Scratch.describe_table()["TableStatus"] == "ACTIVE"
