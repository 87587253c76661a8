"""The desk's export: a zip of the current zone's table and an incident pack for a time range.

`build_export_zip` is pure (frames and records in, zip bytes out) so it is tested without a
browser; `export_zip` gathers its inputs from one `OpsState` and the history store. The pack:

| file | content |
|---|---|
| `zone_vessels.csv` | the zone table as shown (one row per vessel) |
| `events.csv` | port-call events in the range (of the zone when one is selected) |
| `alerts.csv` | alerts raised in the range (of the zone when one is selected) |
| `tracks.csv` | stored AIS positions in the range of the zone's vessels (every vessel without a zone) |
| `tracks.geojson` | the same tracks, one LineString (a Point for a single fix) per MMSI, WGS 84 lon/lat |
| `manifest.json` | zone, range, row counts, and what the pack does not hold |
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from dashboards.ops.store import OpsState, alert_zone, vessels_in_zone
from dashboards.ops.views import parse_utc
from feeds.store import read_history

ZONE_COLUMNS = ("mmsi", "name", "ship_class", "draught_m", "phase", "sog_kn", "lon", "lat", "zone_id")
EVENT_COLUMNS = ("ts_utc", "mmsi", "event", "location_id")
ALERT_COLUMNS = ("id", "rule", "priority", "raised_utc", "state")
TRACK_SCHEMA: dict[str, pl.DataType] = {
    "mmsi": pl.Int64(),
    "ts_utc": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "sog_kn": pl.Float64(),
    "cog_deg": pl.Float64(),
}


def records_frame(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    empty_columns: Sequence[str] = ("ts_utc",),
) -> pl.DataFrame:
    """Records with loose types (engine JSON) as an all-String frame, so any mix of values writes to CSV.

    Nested values (lists, dicts) become JSON text; None stays null. `columns` fixes the columns
    and their order; otherwise the union of keys in first-seen order, or `empty_columns` when
    there are no records (a CSV with a header and no rows still parses; one with no columns does not).
    """
    rows = list(records)
    if columns is None and not rows:
        columns = list(empty_columns)
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        columns = list(seen)
    data = {
        c: [
            None if r.get(c) is None
            else json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], (list, dict))
            else str(r[c])
            for r in rows
        ]
        for c in columns
    }
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String()))


def tracks_geojson(tracks: pl.DataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of `tracks` (columns of `TRACK_SCHEMA`): one feature per MMSI,
    points in time order; a LineString for two or more distinct positions, else a Point.

    Repeated positions in a row are kept once: a moored ship reports the same fix for hours, and a
    LineString whose points all coincide is invalid (zero length) for GIS tools.
    """
    features = []
    for (mmsi,), part in tracks.sort("mmsi", "ts_utc").group_by("mmsi", maintain_order=True):
        coords: list[list[float]] = []
        for x, y in zip(part["lon"], part["lat"], strict=True):
            point = [round(x, 6), round(y, 6)]
            if not coords or coords[-1] != point:
                coords.append(point)
        geometry = (
            {"type": "LineString", "coordinates": coords}
            if len(coords) >= 2
            else {"type": "Point", "coordinates": coords[0]}
        )
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "mmsi": int(mmsi),
                    "start_utc": part["ts_utc"].min().isoformat(),  # type: ignore[union-attr]
                    "end_utc": part["ts_utc"].max().isoformat(),  # type: ignore[union-attr]
                    "fixes": part.height,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def build_export_zip(
    zone_table: pl.DataFrame,
    events: pl.DataFrame,
    alerts: pl.DataFrame,
    tracks: pl.DataFrame,
    manifest: Mapping[str, Any],
) -> bytes:
    """The zip's bytes (deflated): the five data files of the module table plus `manifest.json`.

    `tracks` needs the columns of `TRACK_SCHEMA`; the other frames are written as they are.
    `manifest` is completed with each file's row count.
    """
    geojson = tracks_geojson(tracks)
    files = {
        "zone_vessels.csv": zone_table,
        "events.csv": events,
        "alerts.csv": alerts,
        "tracks.csv": tracks,
    }
    full = {**manifest, "rows": {name: frame.height for name, frame in files.items()}}
    full["rows"]["tracks.geojson"] = len(geojson["features"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, frame in files.items():
            zf.writestr(name, _csv(frame))
        zf.writestr("tracks.geojson", json.dumps(geojson))
        zf.writestr("manifest.json", json.dumps(full, ensure_ascii=False, indent=2, default=str))
    return buffer.getvalue()


def _in_range(iso: Any, start: datetime, end: datetime) -> bool:
    ts = parse_utc(str(iso)) if iso else None
    return ts is not None and start <= ts < end


def export_zip(
    state: OpsState,
    zones: Mapping[str, str],
    history_dir: Path | None,
    zone_id: str | None,
    start: datetime,
    end: datetime,
) -> bytes:
    """Gather the pack from `state` (as the desk shows it, live or replayed) and the history store.

    `start <= ts_utc < end` (aware datetimes) bounds events, alerts (by their raise time) and
    tracks. Without `history_dir` the tracks are empty and the manifest says so.
    """
    vessels = (
        vessels_in_zone(state, zone_id)
        if zone_id
        else sorted(state.vessels.values(), key=lambda v: int(v["mmsi"]))
    )
    here = {int(v["mmsi"]) for v in vessels}
    events = [
        e
        for e in state.events
        if _in_range(e.get("ts_utc"), start, end)
        and (
            zone_id is None
            or (e.get("location_id") and zones.get(str(e["location_id"])) == zone_id)
            or int(e.get("mmsi") or 0) in here
        )
    ]
    alerts = [
        a
        for a in state.alerts.values()
        if _in_range(a.get("raised_utc") or a.get("ts_utc"), start, end)
        and (zone_id is None or alert_zone(a, state, zones) == zone_id)
    ]
    tracks = pl.DataFrame(schema=TRACK_SCHEMA)
    if history_dir is not None:
        lazy = read_history(history_dir, "ais_position", start=start, end=end).drop_nulls(["lon", "lat"])
        if zone_id is not None:
            lazy = lazy.filter(pl.col("mmsi").is_in(list(here)))
        tracks = (
            lazy.select([pl.col(c).cast(t) for c, t in TRACK_SCHEMA.items()]).sort("mmsi", "ts_utc").collect()
        )
    manifest = {
        "zone_id": zone_id,
        "shown_at_utc": state.ts_utc,
        "start_utc": start.isoformat(),
        "end_utc": end.isoformat(),
        "tracks_source": "history store (ais_position)" if history_dir else "none: no history store",
        "note": "events and alerts are those the desk holds (the engine's latest, then the stream's)",
    }
    return build_export_zip(
        records_frame(vessels, ZONE_COLUMNS),
        records_frame(sorted(events, key=lambda e: str(e.get("ts_utc"))), empty_columns=EVENT_COLUMNS),
        records_frame(alerts, empty_columns=ALERT_COLUMNS),
        tracks,
        manifest,
    )
