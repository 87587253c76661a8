"""Replay from the history store: the port's vessels as the stored AIS had them at a past time.

`history_span(dir)` gives the oldest and newest stored `ais_position` time; `positions_at(dir, t)`
the latest position of every MMSI at or before `t` within `window` (30 min by default), with its
latest static report at or before `t` and the zone its position lies in (`twin.zones.ZoneIndex`,
the same geofence the engine uses). Port-call phases are not replayed here: that needs every
stored input up to `t` through a fresh `twin.engine.Engine`, too slow to redo per slider move.

Everything is read lazily with polars (`feeds.store.read_history`), so only the days around `t`
are opened. Nothing here touches the disk at import.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from feeds.store import read_history
from twin.engine import ship_class_of
from twin.zones import ZoneIndex

WINDOW = timedelta(minutes=30)

REPLAY_SCHEMA: dict[str, pl.DataType] = {
    "mmsi": pl.Int64(),
    "ts_utc": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "sog_kn": pl.Float64(),
    "cog_deg": pl.Float64(),
    "heading_deg": pl.Float64(),
    "name": pl.String(),
    "ship_class": pl.String(),
    "length_m": pl.Float64(),
    "beam_m": pl.Float64(),
    "draught_m": pl.Float64(),
    "zone_id": pl.String(),
}


def history_span(history_dir: str | Path) -> tuple[datetime, datetime] | None:
    """(oldest, newest) stored `ais_position` time (aware, UTC); None when nothing is stored."""
    span = (
        read_history(history_dir, "ais_position")
        .select(pl.col("ts_utc").min().alias("lo"), pl.col("ts_utc").max().alias("hi"))
        .collect()
    )
    lo, hi = span.row(0)
    return None if lo is None or hi is None else (lo, hi)


def latest_positions(history_dir: str | Path, at: datetime, window: timedelta = WINDOW) -> pl.LazyFrame:
    """Per MMSI the latest stored `ais_position` row with `at - window < ts_utc <= at` (lazy).

    `at` must be timezone-aware (`read_history` raises `ValueError` otherwise). Ties on the same
    time keep the row stored last, as the engine would have applied it last.
    """
    end = at + timedelta(microseconds=1)  # read_history's end is exclusive; "at or before t" is inclusive
    return (
        read_history(history_dir, "ais_position", start=at - window + timedelta(microseconds=1), end=end)
        .drop_nulls(["lon", "lat"])
        .sort("ts_utc", maintain_order=True)
        .group_by("mmsi", maintain_order=True)
        .last()
    )


def positions_at(
    history_dir: str | Path,
    at: datetime,
    index: ZoneIndex | None = None,
    window: timedelta = WINDOW,
) -> pl.DataFrame:
    """The vessels at `at` as stored: one row per MMSI in `REPLAY_SCHEMA`, sorted by MMSI.

    Positions come from `latest_positions`; name, class and dimensions from the MMSI's latest
    `ais_static` at or before `at` (null when none); `zone_id` from `index` (null without one).
    Raises `ValueError` for a naive `at`.
    """
    positions = latest_positions(history_dir, at, window).collect()
    if positions.is_empty():
        return pl.DataFrame(schema=REPLAY_SCHEMA)
    static = (
        read_history(history_dir, "ais_static", end=at + timedelta(microseconds=1))
        .filter(pl.col("mmsi").is_in(positions["mmsi"].implode()))
        .sort("ts_utc", maintain_order=True)
        .group_by("mmsi", maintain_order=True)
        .last()
        .select("mmsi", "name", "ship_type", "length_m", "beam_m", "draught_m")
        .collect()
    )
    frame = positions.join(static, on="mmsi", how="left").with_columns(
        pl.col("ship_type")
        .map_elements(ship_class_of, return_dtype=pl.String, skip_nulls=True)
        .alias("ship_class")
    )
    if index is not None:
        zones = index.locate(frame["lon"], frame["lat"]).get_column("zone_id")
    else:
        zones = pl.Series("zone_id", [None] * frame.height, dtype=pl.String)
    frame = frame.with_columns(zones.alias("zone_id"))
    return frame.select([pl.col(name).cast(dtype) for name, dtype in REPLAY_SCHEMA.items()]).sort("mmsi")
