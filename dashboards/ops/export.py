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
| `map.png` | the map as at the shown time: port, the zone outlined, every ship, the zone's tracks |
| `README.txt` | what each file holds; if `map.png` is missing, why |
| `manifest.json` | zone, range, row counts, and what the pack does not hold |

The map is rendered server-side by headless Chromium (`dashboards.browser`, SwiftShader WebGL) from
an offline deck page (`dashboards.export.offline_html`), as the docs' layer gallery is. Without
Chromium the pack still builds; its README says the map is missing and why.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pydeck as pdk
import shapely
import xarray as xr

from dashboards.browser import CHROMIUM
from dashboards.ops.deck import vessel_frame
from dashboards.ops.store import OpsState, alert_zone, vessels_in_zone
from dashboards.ops.views import local_time, parse_utc
from feeds.replay import REPLAY_SCHEMA
from feeds.store import read_history
from layers import deck_spec, port_layers, vessel_layers
from twin.port import Port

ZONE_COLUMNS = ("mmsi", "name", "ship_class", "draught_m", "phase", "sog_kn", "lon", "lat", "zone_id")
EVENT_COLUMNS = ("ts_utc", "mmsi", "event", "location_id")
ALERT_COLUMNS = ("id", "rule", "priority", "raised_utc", "state")
# a track point is the stored replay row cut to position and motion: one schema, so the two cannot drift
TRACK_SCHEMA: dict[str, pl.DataType] = {
    name: REPLAY_SCHEMA[name] for name in ("mmsi", "ts_utc", "lon", "lat", "sog_kn", "cog_deg")
}
MAP_SIZE = (1280, 800)  # px, width × height of map.png
MAP_TIMEOUT_S = 120.0  # SwiftShader on 2 busy cores draws the port with bathymetry in ~5–15 s

MapRenderer = Callable[[dict[str, Any], tuple[int, int], str], bytes]  # spec, size, caption -> PNG


class MapUnavailable(RuntimeError):
    """The map could not be rendered (no Chromium, or it failed); the message says why."""


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
            None
            if r.get(c) is None
            else json.dumps(r[c], ensure_ascii=False)
            if isinstance(r[c], (list, dict))
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


README = """Zhanjiang Port Twin - ops desk incident pack

zone_vessels.csv  the zone table as the desk showed it (one row per vessel)
events.csv        port-call events in the range (of the zone when one was selected)
alerts.csv        alerts raised in the range (of the zone when one was selected)
tracks.csv        stored AIS positions in the range of the zone's vessels
tracks.geojson    the same tracks, one LineString (a Point for a single fix) per MMSI, WGS 84
map.png           {map}
manifest.json     zone, range, row counts, sources

Times are UTC (ISO 8601); the desk shows them in Beijing time (UTC+8).
"""


def build_export_zip(
    zone_table: pl.DataFrame,
    events: pl.DataFrame,
    alerts: pl.DataFrame,
    tracks: pl.DataFrame,
    manifest: Mapping[str, Any],
    map_png: bytes | None = None,
    map_missing: str = "not rendered",
) -> bytes:
    """The zip's bytes (deflated): the five data files of the module table, `map.png` when given,
    `README.txt` and `manifest.json`.

    `tracks` needs the columns of `TRACK_SCHEMA`; the other frames are written as they are.
    `manifest` is completed with each file's row count. Without `map_png`, README.txt and the
    manifest say the map is missing and why (`map_missing`).
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
    full["map_png"] = "included" if map_png is not None else f"missing: {map_missing}"
    map_line = (
        "the map at the shown time: the zone outlined, every ship, the zone's tracks (magenta)"
        if map_png is not None
        else f"MISSING - {map_missing}"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, frame in files.items():
            zf.writestr(name, _csv(frame))
        zf.writestr("tracks.geojson", json.dumps(geojson))
        if map_png is not None:
            zf.writestr("map.png", map_png)
        zf.writestr("README.txt", README.format(map=map_line))
        zf.writestr("manifest.json", json.dumps(full, ensure_ascii=False, indent=2, default=str))
    return buffer.getvalue()


def _fit_view(area: shapely.Geometry, size: tuple[int, int], margin: float = 1.4) -> dict[str, float]:
    """A top-down view (web mercator, 512-px tiles) that shows `area` with some margin around it."""
    lon0, lat0, lon1, lat1 = area.bounds
    lon, lat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    width, height = size
    lon_span = max(lon1 - lon0, 1e-3) * margin
    lat_span = max(lat1 - lat0, 1e-3) * margin / math.cos(math.radians(lat))  # mercator stretch
    zoom = min(math.log2(360 * width / (512 * lon_span)), math.log2(360 * height / (512 * lat_span)))
    return {"longitude": lon, "latitude": lat, "zoom": max(8.0, min(15.5, zoom)), "pitch": 0, "bearing": 0}


def map_spec(
    port: Port,
    state: OpsState,
    zone_id: str | None,
    tracks: pl.DataFrame,
    depth: xr.DataArray | None = None,
    size: tuple[int, int] = MAP_SIZE,
) -> dict[str, Any]:
    """The deck spec of `map.png`: the port (with bathymetry when `depth`), the zone outlined,
    `tracks` as magenta paths and every ship of `state`, seen from above over the zone and the
    tracks (the port's overview without a zone)."""
    layers: list[pdk.Layer] = list(port_layers(port, depth))
    zone = port.zones.get(zone_id or "")
    if zone is not None:
        polys = zone.area.geoms if isinstance(zone.area, shapely.MultiPolygon) else [zone.area]
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                [{"polygon": [[round(x, 6), round(y, 6)] for x, y in p.exterior.coords]} for p in polys],
                id="zone-highlight",
                get_polygon="polygon",
                filled=True,
                get_fill_color=[255, 255, 255, 35],
                stroked=True,
                get_line_color=[255, 255, 255, 255],
                line_width_min_pixels=3,
            )
        )
    paths = [
        {"path": f["geometry"]["coordinates"], "mmsi": f["properties"]["mmsi"]}
        for f in tracks_geojson(tracks)["features"]
        if f["geometry"]["type"] == "LineString"
    ]
    if paths:
        layers.append(
            pdk.Layer(
                "PathLayer",
                paths,
                id="tracks",
                get_path="path",
                get_color=[255, 80, 200, 255],
                width_min_pixels=3,
            )
        )
    layers += vessel_layers(vessel_frame(state.vessels))
    spec = deck_spec(layers)
    if zone is not None:  # else the port's overview view
        shown = [zone.area, *(shapely.LineString(p["path"]) for p in paths)]
        spec["initialViewState"] = _fit_view(shapely.union_all(shown).envelope, size)
    return spec


def _render_in_this_thread(spec: dict[str, Any], size: tuple[int, int], caption: str) -> bytes:
    from playwright.sync_api import Error as PlaywrightError

    from dashboards.browser import chromium
    from dashboards.export import offline_html

    try:
        with tempfile.TemporaryDirectory(prefix="ops-map-") as tmp, chromium() as browser:
            page_path = Path(tmp) / "map.html"
            page_path.write_text(
                offline_html(spec, caption or "map", caption=caption or " "), encoding="utf-8"
            )
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.goto(page_path.as_uri())
            page.wait_for_function("window.__rendered >= 1", timeout=MAP_TIMEOUT_S * 1000)
            page.wait_for_timeout(500)  # one more frame after the last layer's data arrived
            png: bytes = page.screenshot(type="png")
    except PlaywrightError as exc:
        raise MapUnavailable(
            f"headless Chromium failed to draw the map: {exc.message.splitlines()[0]}"
        ) from exc
    return png


def render_map_png(spec: dict[str, Any], size: tuple[int, int] = MAP_SIZE, caption: str = "") -> bytes:
    """`spec` drawn by headless Chromium (deck.gl on SwiftShader) as PNG bytes of `size`, with
    `caption` in its top-left corner.

    Runs in a worker thread: Playwright's sync API refuses a thread with a running event loop (the
    desk's Tornado loop). Blocks its caller for the render (seconds). Raises `MapUnavailable`
    when Chromium is not installed or fails.
    """
    if not os.path.exists(CHROMIUM):
        raise MapUnavailable(f"no Chromium at {CHROMIUM} to render it (Debian: apt-get install chromium)")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops-map") as pool:
        return pool.submit(_render_in_this_thread, spec, size, caption).result()


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
    *,
    port: Port | None = None,
    depth: xr.DataArray | None = None,
    render_map: MapRenderer = render_map_png,
) -> bytes:
    """Gather the pack from `state` (as the desk shows it, live or replayed) and the history store.

    `start <= ts_utc < end` (aware datetimes) bounds events, alerts (by their raise time) and
    tracks. Without `history_dir` the tracks are empty and the manifest says so. With `port`,
    `map.png` is drawn by `render_map` (headless Chromium: seconds); without it, or when that
    raises `MapUnavailable`, the pack holds no map and its README.txt says why.
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
    map_png, map_missing = None, "no port model was given to the export"
    if port is not None:
        try:
            caption = f"{zone_id or 'port'} · {local_time(state.ts_utc, with_date=True)} (UTC+8)"
            map_png = render_map(map_spec(port, state, zone_id, tracks, depth), MAP_SIZE, caption)
        except MapUnavailable as exc:
            map_missing = str(exc)
    return build_export_zip(
        records_frame(vessels, ZONE_COLUMNS),
        records_frame(sorted(events, key=lambda e: str(e.get("ts_utc"))), empty_columns=EVENT_COLUMNS),
        records_frame(alerts, empty_columns=ALERT_COLUMNS),
        tracks,
        manifest,
        map_png,
        map_missing,
    )
