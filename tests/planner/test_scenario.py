"""Scenario files: parsing, loud errors with line and key, and applying them to depth, port and tide."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import xarray as xr

from twin.port import Port
from twin.scenario import (
    VESSEL_CLASSES,
    ScenarioFileError,
    apply_to_depth,
    apply_to_port,
    apply_to_tide,
    bundled,
    load_scenario,
    parse_scenario,
)
from twin.tide import ConstantTide

RING = [[110.40, 21.10], [110.46, 21.10], [110.46, 21.15], [110.40, 21.15]]


def _grid() -> xr.DataArray:
    lat = np.linspace(21.00, 21.25, 26)
    lon = np.linspace(110.30, 110.60, 31)
    depth = np.full((lat.size, lon.size), 15.0)
    depth[0, 0] = np.nan  # a no-data cell stays no-data
    return xr.DataArray(depth, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})


def _polygon_scenario(depth_line: str) -> str:
    return f"version = 1\nname = 'poly'\n\n[[dredge]]\npolygon = {RING}\n{depth_line}\n"


def test_bundled_scenarios_parse() -> None:
    dredge = load_scenario(bundled("dredge_outer_1m"))
    assert dredge.dredges[0].from_km == 0.0 and dredge.dredges[0].to_km == 47.2
    assert dredge.dredges[0].deepen_m == 1.0
    assert dredge.vessel is not None and dredge.vessel.draught_m == 23.0
    close = load_scenario(bundled("close_xs_ore_400k.toml"))
    assert close.close_berths == ("XS-ORE-400K",)


def test_dredging_a_polygon_raises_depth_exactly_inside_it_and_nowhere_else() -> None:
    grid = _grid()
    after = apply_to_depth(grid, parse_scenario(_polygon_scenario("depth_m = 18.5")))
    lon, lat = np.meshgrid(grid.lon.values, grid.lat.values)
    inside = shapely.contains_xy(shapely.Polygon(RING), lon, lat)
    assert inside.sum() >= 12 and (~inside).sum() > 100
    assert np.all(after.values[inside] == 18.5)
    outside = ~inside
    np.testing.assert_array_equal(after.values[outside], grid.values[outside])  # NaN stays NaN
    assert np.isnan(after.values[0, 0])


def test_depth_m_never_makes_a_cell_shallower_and_deepen_m_adds() -> None:
    grid = _grid()
    shallower = apply_to_depth(grid, parse_scenario(_polygon_scenario("depth_m = 10.0")))
    np.testing.assert_array_equal(shallower.values, grid.values)
    deeper = apply_to_depth(grid, parse_scenario(_polygon_scenario("deepen_m = 1.5")))
    diff = (deeper - grid).values
    assert set(np.unique(diff[np.isfinite(diff)])) == {0.0, 1.5}


def test_dredging_a_channel_stretch_changes_only_cells_inside_those_segments(port: Port) -> None:
    from twin.bathymetry import load_bathymetry

    depth = load_bathymetry(port.files["bathymetry"])
    scen = load_scenario(bundled("dredge_outer_1m"))
    after = apply_to_depth(depth, scen, port.channel)
    changed = np.asarray((after - depth).values != 0) & np.isfinite(depth.values)
    assert changed.sum() > 50
    lon, lat = np.meshgrid(depth.lon.values, depth.lat.values)
    outer = shapely.union_all([s.area for s in port.channel.segments if s.part == "outer"])
    assert shapely.contains_xy(outer.buffer(1e-9), lon[changed], lat[changed]).all()
    inner = shapely.union_all([s.area for s in port.channel.segments if s.part == "inner"])
    assert not changed[shapely.contains_xy(inner.buffer(-1e-4), lon, lat)].any()


def test_apply_to_port_closes_berths_and_deepens_whole_segments_only(port: Port) -> None:
    dredged = apply_to_port(port, load_scenario(bundled("dredge_outer_1m")))
    for before, after in zip(port.channel.segments, dredged.channel.segments, strict=True):
        expected = before.design_depth_m + (1.0 if before.chainage_to_km <= 47.2 else 0.0)
        assert after.design_depth_m == pytest.approx(expected)
    closed = apply_to_port(port, load_scenario(bundled("close_xs_ore_400k")))
    assert closed.berths["XS-ORE-400K"].status == "closed"
    assert port.berths["XS-ORE-400K"].status == "operational"  # the baseline is untouched


def test_added_berth_and_gate_lanes(port: Port) -> None:
    quay = list(port.berths["XS-ORE-250K"].quay.coords)
    text = (f"version = 1\n[[berths.add]]\nid = 'NEW-1'\nquay = {[list(p) for p in quay]}\nlength_m = 300.0\n"
            "depth_m = 20.0\nmax_dwt = 200000\ncargo = 'iron_ore'\n\n[gates]\nGATE-BM-IN = 12\n")
    after = apply_to_port(port, parse_scenario(text))
    assert after.berths["NEW-1"].design_depth_m == 20.0 and after.berths["NEW-1"].pocket.area > 0
    assert after.gates["GATE-BM-IN"].lanes == 12


def test_tide_offset_and_surge_wrap_the_tide_level() -> None:
    text = ("version = 1\n[tide]\noffset_m = 0.3\n"
            "surge_times = ['2026-11-28T00:00:00Z', '2026-11-28T10:00:00Z']\nsurge_m = [0.0, 1.0]\n")
    tide = apply_to_tide(ConstantTide(2.0), parse_scenario(text))
    t = np.array(["2026-11-27T12:00", "2026-11-28T05:00", "2026-11-29T00:00"], dtype="datetime64[ns]")
    np.testing.assert_allclose(tide.level_m(t), [2.3, 2.8, 2.3])


def test_vessel_classes_match_the_simulator() -> None:
    from feeds.sim.fleet import CLASSES

    assert tuple(c.name for c in CLASSES) == VESSEL_CLASSES


@pytest.mark.parametrize(("text", "line", "key"), [
    ("version = 1\nname = 'x'\n\n[demand]\ncapesize = 1.2\nfoo = 2.0\n", 6, "demand.foo"),
    ("version = 1\n\n[[dredge]]\nfrom_km = 10.0\nto_km = 5.0\ndeepen_m = 1.0\n", 5, "dredge[0].to_km"),
    ("version = 1\n[[dredge]]\nfrom_km = 0\nto_km = 5\ndeepen_m = 1\n[[dredge]]\npolygon = [[1, 2]]\n"
     "depth_m = 20\n", 7, "dredge[1].polygon"),
    ("version = 1\n[vessel]\ndraught_m = 'deep'\nlength_m = 1\nbeam_m = 1\ncb = 0.8\nspeed_kn = 9\n", 3,
     "vessel.draught_m"),
    ("version = 1\n[ukc]\nouter = 15\n", 3, "ukc.outer"),
    ("version = 1\n[tide]\nsurge_times = ['2026-11-28T00:00Z']\nsurge_m = [0.1, 0.2]\n", 4, "tide.surge_m"),
    ("version = 1\nname = 'x'\ncolour = 'red'\n", 3, "colour"),
    ("version = 3\n", 1, "version"),
    ("name = 'no version'\n", 1, "version"),
])
def test_scenario_file_errors_name_the_file_line_and_key(text: str, line: int, key: str) -> None:
    with pytest.raises(ScenarioFileError) as info:
        parse_scenario(text, "what_if.toml")
    err = info.value
    assert (err.path, err.line, err.key) == ("what_if.toml", line, key)
    assert str(err).startswith(f"what_if.toml, line {line}: {key}: ")


def test_toml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ScenarioFileError, match=r"what_if.toml, line 3: not valid TOML"):
        parse_scenario("version = 1\n[tide]\noffset_m = = 2\n", "what_if.toml")


def test_unknown_ids_are_named_against_the_port(port: Port) -> None:
    text = "version = 1\n\n[berths]\nclose = ['NO-SUCH-BERTH']\n"
    with pytest.raises(ScenarioFileError, match=r"s.toml, line 4: berths.close: no berth 'NO-SUCH-BERTH'"):
        apply_to_port(port, parse_scenario(text, "s.toml"))


def test_traffic_table_sets_scheduling_and_pilots() -> None:
    text = ("version = 1\n[traffic]\nscheduling = 'optimised'\none_way_min_dwt = 250000\n"
            "[traffic.pilots]\ncount = 20\nmin_rest_h = 10\n")
    traffic = parse_scenario(text).traffic
    assert traffic is not None and traffic.scheduling == "optimised" and traffic.one_way_min_dwt == 250_000
    assert traffic.pilots == {"count": 20.0, "min_rest_h": 10.0}
    assert parse_scenario("version = 1\n").traffic is None


@pytest.mark.parametrize(("text", "line", "key"), [
    ("version = 1\n[traffic]\nscheduling = 'fastest'\n", 3, "traffic.scheduling"),
    ("version = 1\n[traffic]\none_way_min_dwt = -5\n", 3, "traffic.one_way_min_dwt"),
    ("version = 1\n[traffic]\nsequencing = 'fcfs'\n", 3, "traffic.sequencing"),
    ("version = 1\n[traffic]\n[traffic.pilots]\ncount = 0\n", 4, "traffic.pilots.count"),
    ("version = 1\n[traffic]\n[traffic.pilots]\ncount = 12\nrest_h = 8\n", 5, "traffic.pilots.rest_h"),
    ("version = 1\n[traffic.pilots]\nmax_shift_h = 'long'\n", 3, "traffic.pilots.max_shift_h"),
])
def test_traffic_errors_name_the_file_line_and_key(text: str, line: int, key: str) -> None:
    with pytest.raises(ScenarioFileError) as info:
        parse_scenario(text, "traffic.toml")
    assert (info.value.line, info.value.key) == (line, key)
