"""`twin geodata check`: the bundled set passes; each kind of broken set is caught and named.

Every broken case is a copy of the bundled set with one thing changed, built in the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geodata.load import BUNDLED
from geodata.validate import validate

Layer = dict[str, Any]


def _edit(root: Path, layer: str, change: Callable[[Layer], None]) -> None:
    path = root / f"{layer}.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _feature(data: Layer, fid: str) -> dict[str, Any]:
    return next(f for f in data["features"] if f["properties"]["id"] == fid)


def _shift(coords: Any, dlon: float, dlat: float) -> Any:
    if isinstance(coords[0], (int, float)):
        return [coords[0] + dlon, coords[1] + dlat]
    return [_shift(c, dlon, dlat) for c in coords]


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "set"
    shutil.copytree(BUNDLED, root)
    return root


def _errors(root: Path) -> list[str]:
    return [str(f) for f in validate(root).errors]


def test_bundled_set_passes_the_check_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twin", "geodata", "check", str(BUNDLED)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "OK: no errors" in done.stdout
    assert "channel_km: 64.10" in done.stdout


def test_missing_required_property_names_file_feature_and_property(broken: Path) -> None:
    _edit(broken, "berths", lambda d: _feature(d, "XS-ORE-400K")["properties"].pop("design_depth_m"))
    assert _errors(broken) == [
        "ERROR berths.geojson: feature XS-ORE-400K: property design_depth_m: "
        "required property is missing or empty"
    ]


def test_wrong_crs_is_refused(broken: Path) -> None:
    def to_web_mercator(d: Layer) -> None:
        d["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}

    _edit(broken, "gates", to_web_mercator)
    errors = _errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith(
        "ERROR gates.geojson: feature (layer): property crs: CRS is 'urn:ogc:def:crs:EPSG::3857'"
    )


def test_invalid_geometry_is_reported_with_the_reason(broken: Path) -> None:
    def bowtie(d: Layer) -> None:
        _feature(d, "ANC-DG")["geometry"]["coordinates"] = [
            [[110.78, 21.08], [110.80, 21.10], [110.80, 21.08], [110.78, 21.10], [110.78, 21.08]]
        ]

    _edit(broken, "anchorages", bowtie)
    errors = _errors(broken)
    assert len(errors) == 1
    assert "feature ANC-DG: property geometry: invalid geometry: Self-intersection" in errors[0]


def test_empty_geometry_is_reported(broken: Path) -> None:
    _edit(broken, "gates", lambda d: _feature(d, "GATE-BM-IN").__setitem__("geometry", None))
    assert _errors(broken) == [
        "ERROR gates.geojson: feature GATE-BM-IN: property geometry: geometry is missing or empty"
    ]


def test_quay_far_from_the_shore_is_reported(broken: Path) -> None:
    # 0.01° of latitude east/north moves the Xiashan quay ~1.1 km into the bay
    def move(d: Layer) -> None:
        f = _feature(d, "XS-300")
        f["geometry"]["coordinates"] = _shift(f["geometry"]["coordinates"], 0.01, 0.0)

    _edit(broken, "berths", move)
    errors = _errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith("ERROR berths.geojson: feature XS-300: property geometry: quay is ")
    assert "m from the coastline (at most 100 m)" in errors[0]


def test_berth_pocket_on_land_is_reported(broken: Path) -> None:
    # 0.01° west puts the Xiashan pocket ~1 km inland
    def move(d: Layer) -> None:
        f = _feature(d, "XS-GRAIN")
        f["geometry"]["coordinates"] = _shift(f["geometry"]["coordinates"], -0.01, 0.0)

    _edit(broken, "berth_pockets", move)
    assert _errors(broken) == [
        "ERROR berth_pockets.geojson: feature XS-GRAIN: property geometry: berth pocket is 100% on land"
    ]


def test_anchorage_on_land_is_reported(broken: Path) -> None:
    # the inner anchorage moved onto Donghai Island (≈21.03N 110.43E is well inland)
    def move(d: Layer) -> None:
        f = _feature(d, "ANC-IN-1")
        f["geometry"]["coordinates"] = _shift(f["geometry"]["coordinates"], -0.04, -0.075)

    _edit(broken, "anchorages", move)
    errors = _errors(broken)
    assert any(
        e.startswith(
            "ERROR anchorages.geojson: feature ANC-IN-1: property geometry: anchorage is 100% on land"
        )
        for e in errors
    ), errors


def test_channel_segment_on_land_is_reported(broken: Path) -> None:
    def move(d: Layer) -> None:
        f = _feature(d, "CH-IN-2")
        f["geometry"]["coordinates"] = _shift(f["geometry"]["coordinates"], -0.02, 0.0)

    _edit(broken, "channel", move)
    errors = _errors(broken)
    assert any(
        e.startswith("ERROR channel.geojson: feature CH-IN-2: property geometry: channel segment is ")
        and e.endswith("on land")
        for e in errors
    ), errors


def test_segments_that_do_not_join_are_reported(broken: Path) -> None:
    def cut(d: Layer) -> None:
        _feature(d, "CH-OUT-B2")["properties"]["chainage_from_km"] = 35.0

    _edit(broken, "channel", cut)
    errors = _errors(broken)
    assert (
        "ERROR channel.geojson: feature CH-OUT-B2: property chainage_from_km: starts at K35.0 "
        "but CH-OUT-B1 ends at K34.796"
    ) in errors

    def gap(d: Layer) -> None:
        _feature(d, "CH-OUT-B2")["properties"]["chainage_from_km"] = 34.796
        f = _feature(d, "CH-OUT-1")
        f["geometry"]["coordinates"] = _shift(f["geometry"]["coordinates"], 0.0, 0.05)

    _edit(broken, "channel", gap)
    assert any("feature CH-OUT-2: property geometry: does not join CH-OUT-1" in e for e in _errors(broken))


def test_non_monotonic_chainage_is_reported(broken: Path) -> None:
    def swap(d: Layer) -> None:
        chain = d["features"][0]["properties"]["chainage_km"]
        chain[1], chain[2] = chain[2], chain[1]

    _edit(broken, "channel_axis", swap)
    errors = _errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith(
        "ERROR channel_axis.geojson: feature CH-AXIS: property chainage_km: "
        "chainage is not monotonic along the axis"
    )


def test_bathymetry_shallower_than_design_depth_is_reported(broken: Path) -> None:
    import numpy as np
    import xarray as xr

    path = broken / "bathymetry.nc"
    with xr.open_dataset(path) as ds:
        grid = ds.load()
    # K39 on the B axis: 78.4 % of the way from K34.32 to K40.29 (official points), 21.0596N 110.5979E
    r = int(np.abs(grid.lat.to_numpy() - 21.0596).argmin())
    c = int(np.abs(grid.lon.to_numpy() - 110.5979).argmin())
    depth = grid["depth"].to_numpy().copy()
    depth[r, c] = 18.5
    grid["depth"] = (("lat", "lon"), depth, grid["depth"].attrs)
    grid.to_netcdf(path)
    errors = _errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith(
        "ERROR bathymetry.nc: feature CH-OUT-B2: property design_depth_m: grid gives 18.50 m at "
    )
    assert errors[0].endswith("shallower than its design depth 23.9 m")


def test_unreadable_set_fails_with_a_clear_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twin", "geodata", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"{tmp_path / 'port.toml'}: missing" in done.stderr


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def test_a_geopackage_set_loads_and_a_projected_one_is_refused(tmp_path: Path) -> None:
    import geopandas as gpd
    import numpy as np

    from geodata import load_port

    root = tmp_path / "gpkg"
    root.mkdir()
    for name in ("port.toml", "bathymetry.nc", "tide.toml"):
        shutil.copy(BUNDLED / name, root / name)
    with (root / "port.toml").open("a", encoding="utf-8") as handle:
        handle.write('geopackage = "zhanjiang.gpkg"\n')  # appended to the [files] table, which is last
    for path in sorted(BUNDLED.glob("*.geojson")):
        frame = gpd.read_file(path)
        for column in frame.columns:  # GeoPackage has no list type: lists travel as JSON text
            if column != "geometry" and frame[column].map(lambda v: isinstance(v, (list, np.ndarray))).any():
                frame[column] = frame[column].map(lambda v: json.dumps([_plain(x) for x in v]))
        frame.to_file(root / "zhanjiang.gpkg", layer=path.stem, driver="GPKG")
    assert validate(root).ok
    port = load_port(root)
    assert len(port.berths) == len(load_port().berths) and port.channel.length_km == pytest.approx(64.1)

    projected = tmp_path / "projected"
    shutil.copytree(root, projected)
    gates = gpd.read_file(projected / "zhanjiang.gpkg", layer="gates").to_crs("EPSG:32649")
    gates.to_file(projected / "zhanjiang.gpkg", layer="gates", driver="GPKG")
    errors = [str(f) for f in validate(projected).errors]
    expected = "zhanjiang.gpkg:gates: feature (layer): property crs: CRS is 'EPSG:32649'"
    assert any(expected in e for e in errors), errors
