"""The Zhanjiang port model as loaded from the bundled geodata: the published facts hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import xarray as xr

from geodata import load_port
from twin.port import Port


@pytest.fixture(scope="module")
def port() -> Port:
    return load_port()


def _metres(port: Port, a: tuple[float, float], b: tuple[float, float]) -> float:
    x, y = port.metric.xy(np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    return float(math.hypot(x[1] - x[0], y[1] - y[0]))


# Official B-segment axis points (S1, CGCS2000 ≈ WGS84 at port scale):
K34_32 = (110.64075, 21.04793)  # 21°02′52.55″N 110°38′26.70″E
K40_29 = (110.58609, 21.06281)  # 21°03′46.12″N 110°35′09.91″E


def test_channel_passes_through_the_official_b_segment_points(port: Port) -> None:
    assert _metres(port, port.channel.position_at(34.32), K34_32) < 0.5
    assert _metres(port, port.channel.position_at(40.29), K40_29) < 0.5
    chain, offset = port.channel.chainage_at(*K40_29)
    assert chain == pytest.approx(40.29, abs=1e-4) and abs(offset) < 0.5


def test_channel_is_64_1_km_with_the_published_depths_and_widths(port: Port) -> None:
    ch = port.channel
    assert ch.length_km == pytest.approx(64.1)
    assert ch.depth_at(10.0) == 23.6  # outer channel, S3
    assert ch.depth_at(34.5) == 23.6  # B segment K34.32–K34.796, S1
    assert ch.depth_at(36.0) == 23.9  # B segment K34.796–K40.29, S1
    assert ch.depth_at(55.0) == 23.0  # inner channel, S3
    assert ch.width_at(20.0) == 340.0
    passing = [s for s in ch.segments if s.kind == "passing_area"]
    # S3: passing area 7,408 m long, 510 m wide
    assert sum(s.chainage_to_km - s.chainage_from_km for s in passing) == pytest.approx(7.408)
    assert {s.width_m for s in passing} == {510.0}
    one_way = {s.one_way_min_dwt for s in ch.segments if s.one_way}
    assert one_way == {300_000}


def test_position_to_chainage_round_trips_with_offset(port: Port) -> None:
    lon, lat = port.channel.position_at(52.0)
    chain, offset = port.channel.chainage_at(lon, lat)
    assert chain == pytest.approx(52.0, abs=1e-6) and abs(offset) < 1e-3
    # 500 m north of an inbound ship heading ≈304° at K52 is to its starboard (right): offset > 0
    x, y = port.metric.xy(np.array([lon]), np.array([lat]))
    nlon, nlat = port.metric.lonlat(x, y + 500.0)
    chain2, offset2 = port.channel.chainage_at(float(nlon[0]), float(nlat[0]))
    assert offset2 > 0 and abs(chain2 - 52.0) < 0.5


def test_channel_stays_in_water_over_its_whole_length(port: Port) -> None:
    shapely.prepare(port.land)
    points = [port.channel.position_at(km) for km in np.arange(0.0, 64.1, 0.05)]
    on_land = [p for p in points if port.land.contains(shapely.Point(p))]
    assert on_land == []
    for seg in port.channel.segments:
        share = port.metric.to_m(seg.area.intersection(port.land)).area / port.metric.to_m(seg.area).area
        assert share < 0.01, seg.id


def test_control_points_cover_the_route_and_every_segment_boundary(port: Port) -> None:
    cps = port.channel.control_points(step_km=1.0)
    kms = [c.chainage_km for c in cps]
    assert kms[0] == 0.0 and kms[-1] == pytest.approx(64.1)
    assert kms == sorted(kms)
    for seg in port.channel.segments:
        assert round(seg.chainage_from_km, 6) in kms


def test_berths_cover_the_port_areas_and_the_big_ship_berths(port: Port) -> None:
    berths = port.berths.values()
    assert len(port.berths) >= 25
    assert {b.port_area for b in berths} == {"xiashan", "baoman", "tiaoshun", "donghai"}
    assert port.berths["XS-ORE-400K"].max_dwt == 400_000
    crude_300k = [b.id for b in berths if b.cargo == "crude" and b.max_dwt == 300_000]
    assert len(crude_300k) >= 2  # S20/S21: two 300,000 t land-connected oil terminals (+ Zhongke, S25)
    terminals = {b.terminal for b in berths}
    assert {"DH-BAOSTEEL", "DH-ZHONGKE", "DH-BASF", "BM-CT"} <= terminals
    assert port.berths["XS-300"].length_m == 349  # S20, published
    assert sum(port.berths[f"BM-CT-{i}"].length_m for i in (1, 2)) == 678  # S15/S16, published
    for b in berths:
        assert b.provenance.confidence in ("official", "published", "estimate")
        assert b.name_zh and b.name_en and b.provenance.source


def test_anchorages_gates_zones_and_sensors_are_complete(port: Port) -> None:
    kinds = {a.kind for a in port.anchorages.values()}
    assert {"inner", "large_ship", "dangerous_goods", "quarantine_pilot"} <= kinds
    assert len(port.anchorages) >= 5
    assert len(port.gates) >= 4
    assert {g.direction for g in port.gates.values() if g.terminal == "BM-CT"} == {"in", "out"}
    zone_kinds = [z.kind for z in port.zones.values()]
    assert zone_kinds.count("anchorage") == len(port.anchorages)
    assert {"Z-CH-OUTER", "Z-CH-INNER", "Z-PA-XIASHAN", "Z-PA-DONGHAI", "Z-GATE-BM-CT"} <= set(port.zones)
    vhf_new = [s for s in port.sensors.values() if s.kind == "vhf_base_station" and s.status == "new"]
    assert len(vhf_new) == 3
    assert any(s.kind == "camera" for s in port.sensors.values())
    assert isinstance(port.find("ANC-DG"), type(port.anchorages["ANC-DG"]))
    with pytest.raises(KeyError, match="NOPE"):
        port.find("NOPE")


def test_bathymetry_agrees_with_the_design_depths_and_says_it_is_an_estimate(port: Port) -> None:
    with xr.open_dataset(port.files["bathymetry"]) as ds:
        depth = ds["depth"].load()
        flag = ds["source_flag"].load()
        attrs = dict(ds.attrs)
    assert "ESTIMATE" in attrs["summary"]
    assert depth.attrs["positive"] == "down" and depth.attrs["units"] == "m"
    # ≤ 200 m cells: at 21°N one degree is ≈103.9 km of longitude and ≈110.7 km of latitude (WGS84)
    assert float(depth.lon.diff("lon").max()) * 103_900 <= 200
    assert float(depth.lat.diff("lat").max()) * 110_700 <= 200
    # land is masked
    assert bool(np.isnan(depth.sel(lon=110.43, lat=21.157, method="nearest")))  # Techeng Island
    # the channel at every control point is at least its design depth
    for cp in port.channel.control_points(step_km=0.5):
        value = float(depth.sel(lon=cp.lon, lat=cp.lat, method="nearest"))
        assert value >= cp.design_depth_m - 0.1, cp
    # the official Q4-2025 shoal (S1) is in the grid with its surveyed depth
    shoal = port.shoals[0]
    cell = depth.sel(lon=shoal.location.x, lat=shoal.location.y, method="nearest")
    assert float(cell) == pytest.approx(16.84)
    assert int(flag.sel(lon=shoal.location.x, lat=shoal.location.y, method="nearest")) == 4
    # anchorage depths as the grid gives them (both estimates); the inner ones within S7's 15–35 m
    for anc in port.anchorages.values():
        if anc.kind in ("inner", "quarantine_pilot"):
            assert 15.0 <= anc.depth_m <= 35.0, anc.id


def test_land_comes_from_real_coastline_data(port: Port) -> None:
    # OSM land polygons: Techeng Island and Donghai Island are land, the bay mouth and K34.32 are water
    assert port.land.contains(shapely.Point(110.43, 21.157))
    assert port.land.contains(shapely.Point(110.45, 21.045))
    assert not port.land.contains(shapely.Point(110.523, 21.086))
    assert not port.land.contains(shapely.Point(*K34_32))
    assert 0.30 < port.land.area < 0.34  # square degrees of land in the 1.0° × 0.7° box
