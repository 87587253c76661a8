"""Canonical rows sent to /ingest: every bad value is a rejected row naming its field."""

from __future__ import annotations

from bus_clients import position_rows

from feeds.bus import rows_to_frame
from feeds.schema import AIS_POSITION, REJECTED


def test_each_bad_value_rejects_its_row_with_the_field_named() -> None:
    rows: list[object] = list(position_rows(1, 20))
    rows[3]["mmsi"] = "abc"                        # type: ignore[index]
    rows[7]["lat"] = [1]                           # type: ignore[index]
    rows[9]["nav_status"] = 999                    # type: ignore[index]  # beyond UInt8
    rows[11]["ts_utc"] = "2026-11-28 03:00"        # type: ignore[index]  # no offset: never guessed
    del rows[13]["ts_utc"]                         # type: ignore[attr-defined]
    rows[15] = ["not", "an", "object"]
    frame, rejected = rows_to_frame("ais_position", rows)
    assert frame.schema == AIS_POSITION and frame.height == 14
    assert rejected.schema == REJECTED
    assert rejected.select("line", "rule").rows() == [
        (4, "ingest.mmsi"), (8, "ingest.lat"), (10, "ingest.nav_status"),
        (12, "ingest.ts_utc.ts_no_offset"), (14, "ingest.ts_utc"), (16, "ingest.row"),
    ]
    assert "abc" in rejected["raw"][0] and "mmsi" in rejected["detail"][0]


def test_times_with_an_offset_become_utc_and_missing_keys_null() -> None:
    frame, rejected = rows_to_frame("tide_obs", [{"ts_utc": "2026-11-28T11:00:00+08:00", "level_m": 2}])
    assert rejected.is_empty()
    assert frame["ts_utc"][0].isoformat() == "2026-11-28T03:00:00+00:00"
    assert frame["station_id"][0] is None and frame["level_m"][0] == 2.0
