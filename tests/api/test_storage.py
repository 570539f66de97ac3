"""Stored timestamps: fixed-width UTC strings that read back as the same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.storage import IsoDateTimeAttribute


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
