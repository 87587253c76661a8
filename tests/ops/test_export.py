"""The desk's export: a zip whose CSV files parse with polars and whose GeoJSON parses with json + shapely."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import shapely
from shapely.geometry import shape

from dashboards.ops.export import export_zip
from dashboards.ops.store import OpsState
from feeds.store import write_frame

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _history(root: Path) -> None:
    """Three ships reporting every 5 min for 2 h; 412000003 only once (a Point track)."""
    rows = [
        {
            "ts_utc": T0 - timedelta(minutes=m),
            "mmsi": 412000001 + k,
            "lat": 21.10 + 0.001 * m,
            "lon": 110.40 + 0.01 * k,
            "sog_kn": 6.0,
            "cog_deg": 180.0,
            "heading_deg": 180.0,
            "nav_status": 0,
            "source": "test",
        }
        for m in range(0, 120, 5)
        for k in range(2)
    ]
    rows.append(
        {
            "ts_utc": T0 - timedelta(minutes=7),
            "mmsi": 412000003,
            "lat": 21.2,
            "lon": 110.5,
            "sog_kn": 0.0,
            "cog_deg": 0.0,
            "heading_deg": 0.0,
            "nav_status": 1,
            "source": "test",
        }
    )
    write_frame(root, "ais_position", pl.DataFrame(rows))


def _state() -> OpsState:
    vessels = {
        412000001 + k: {
            "mmsi": 412000001 + k,
            "name": f"SHIP {k}",
            "ship_class": "cargo",
            "draught_m": 9.5,
            "phase": "at_anchor",
            "sog_kn": 0.2,
            "lon": 110.4,
            "lat": 21.1,
            "zone_id": zone,
        }
        for k, zone in enumerate(["Z-ANC-IN-1", "Z-ANC-IN-1", "Z-CH-OUTER"])
    }
    events = (
        {
            "ts_utc": _iso(T0 - timedelta(minutes=30)),
            "mmsi": 412000001,
            "event": "anchorage_arrival",
            "location_id": "ANC-1",
        },
        {
            "ts_utc": _iso(T0 - timedelta(hours=5)),
            "mmsi": 412000002,
            "event": "anchorage_arrival",
            "location_id": "ANC-1",
        },
    )
    alerts = {
        "a1": {
            "id": "a1",
            "rule": "anchor_drag",
            "priority": "warning",
            "state": "raised",
            "raised_utc": _iso(T0 - timedelta(minutes=10)),
            "subject": {"mmsi": 412000001},
            "zone_id": "Z-ANC-IN-1",
        },
    }
    return OpsState(version=3, ts_utc=_iso(T0), vessels=vessels, events=events, alerts=alerts)


def test_export_zip_holds_parseable_zone_table_events_alerts_and_tracks(tmp_path: Path) -> None:
    _history(tmp_path)
    zones = {"ANC-1": "Z-ANC-IN-1"}
    end = T0 + timedelta(seconds=1)
    data = export_zip(_state(), zones, tmp_path, "Z-ANC-IN-1", T0 - timedelta(hours=1), end)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert names == {
            "zone_vessels.csv",
            "events.csv",
            "alerts.csv",
            "tracks.csv",
            "tracks.geojson",
            "README.txt",
            "manifest.json",
        }  # no map.png: no port model given
        table = pl.read_csv(zf.read("zone_vessels.csv"))
        events = pl.read_csv(zf.read("events.csv"))
        alerts = pl.read_csv(zf.read("alerts.csv"))
        tracks = pl.read_csv(zf.read("tracks.csv"), try_parse_dates=True)
        geojson = json.loads(zf.read("tracks.geojson"))
        manifest = json.loads(zf.read("manifest.json"))
    assert sorted(table["mmsi"].to_list()) == [412000001, 412000002]
    # only the event inside the hour, only the zone's alert
    assert events["mmsi"].to_list() == [412000001]
    assert alerts["id"].to_list() == ["a1"]
    # tracks: the zone's two ships, 13 fixes each in [T0 - 1 h, T0]
    assert tracks.group_by("mmsi").len().sort("mmsi")["len"].to_list() == [13, 13]
    assert set(tracks["mmsi"].to_list()) == {412000001, 412000002}
    geoms = {f["properties"]["mmsi"]: shape(f["geometry"]) for f in geojson["features"]}
    assert set(geoms) == {412000001, 412000002}
    for mmsi, geom in geoms.items():
        assert isinstance(geom, shapely.LineString) and geom.is_valid
        assert len(geom.coords) == tracks.filter(pl.col("mmsi") == mmsi).height  # all positions distinct
    assert manifest["zone_id"] == "Z-ANC-IN-1" and manifest["rows"]["tracks.csv"] == 26


def test_export_without_zone_takes_every_ship_and_a_single_fix_is_a_point(tmp_path: Path) -> None:
    _history(tmp_path)
    data = export_zip(_state(), {}, tmp_path, None, T0 - timedelta(minutes=20), T0 + timedelta(seconds=1))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        table = pl.read_csv(zf.read("zone_vessels.csv"))
        events = pl.read_csv(zf.read("events.csv"))
        geojson = json.loads(zf.read("tracks.geojson"))
    assert table.height == 3
    assert events.height == 0 and "ts_utc" in events.columns  # header only, still parses
    kinds = {f["properties"]["mmsi"]: shape(f["geometry"]).geom_type for f in geojson["features"]}
    assert kinds == {412000001: "LineString", 412000002: "LineString", 412000003: "Point"}


def test_export_without_history_store_has_empty_tracks_that_still_parse() -> None:
    data = export_zip(_state(), {}, None, None, T0 - timedelta(hours=1), T0)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert pl.read_csv(zf.read("tracks.csv")).height == 0
        assert json.loads(zf.read("tracks.geojson"))["features"] == []
        assert "no history" in json.loads(zf.read("manifest.json"))["tracks_source"]


def test_a_moored_ships_repeated_fixes_make_a_valid_point_not_a_zero_length_line() -> None:
    from dashboards.ops.export import tracks_geojson

    tracks = pl.DataFrame(
        {
            "mmsi": [412000009] * 3,
            "ts_utc": [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)],
            "lon": [110.4] * 3,
            "lat": [21.1] * 3,
            "sog_kn": [0.0] * 3,
            "cog_deg": [0.0] * 3,
        }
    )
    (feature,) = tracks_geojson(tracks)["features"]
    geom = shape(feature["geometry"])
    assert geom.geom_type == "Point" and geom.is_valid and feature["properties"]["fixes"] == 3


def test_the_pack_holds_a_png_map_of_the_zone_drawn_by_headless_chromium(tmp_path: Path) -> None:
    import os

    import numpy as np
    import pytest
    import xarray as xr
    from PIL import Image

    from dashboards.browser import CHROMIUM
    from dashboards.ops.export import MAP_SIZE
    from geodata import load_port

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: ./dev test installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    _history(tmp_path)
    port = load_port()
    with xr.open_dataset(port.files["bathymetry"]) as ds:
        depth = ds["depth"].load()
    data = export_zip(
        _state(),
        {"ANC-1": "Z-ANC-IN-1"},
        tmp_path,
        "Z-ANC-IN-1",
        T0 - timedelta(hours=2),
        T0 + timedelta(seconds=1),
        port=port,
        depth=depth,
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        png = zf.read("map.png")
        readme = zf.read("README.txt").decode()
        manifest = json.loads(zf.read("manifest.json"))
    (tmp_path / "map.png").write_bytes(png)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == MAP_SIZE
    rgb = np.asarray(image.convert("RGB")).astype(int)
    colours = len(np.unique(rgb.reshape(-1, 3), axis=0))
    background = (np.abs(rgb - np.array([11, 20, 32])).sum(axis=2) < 12).mean()
    outline = (rgb > 245).all(axis=2).mean()  # the zone's white outline
    magenta = ((rgb[..., 0] > 200) & (rgb[..., 1] < 140) & (rgb[..., 2] > 150)).mean()  # the tracks
    assert colours > 200 and background < 0.9, (colours, background)
    assert outline > 0.0005 and magenta > 0.0002, (outline, magenta)
    assert manifest["map_png"] == "included" and "MISSING" not in readme


def test_without_chromium_the_pack_still_builds_and_its_readme_says_the_map_is_missing(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import dashboards.ops.export as export
    from geodata import load_port

    monkeypatch.setattr(export, "CHROMIUM", str(tmp_path / "no-chromium"))
    data = export_zip(_state(), {}, None, "Z-ANC-IN-1", T0 - timedelta(hours=1), T0, port=load_port())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "map.png" not in zf.namelist()
        readme = zf.read("README.txt").decode()
        manifest = json.loads(zf.read("manifest.json"))
        assert pl.read_csv(zf.read("zone_vessels.csv")).height == 2
    assert "map.png" in readme and "MISSING" in readme and "no-chromium" in readme
    assert manifest["map_png"].startswith("missing: no Chromium at")
