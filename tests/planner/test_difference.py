"""Difference layers: UKC gain per cell and tidal-window hours per day, baseline vs scenario."""

from __future__ import annotations

import numpy as np
import shapely
import xarray as xr

from twin.port import Port
from twin.scenario import (
    apply_to_depth,
    bundled,
    design_vessel,
    load_scenario,
    parse_scenario,
    ukc_difference,
    window_hours_per_day,
)
from twin.tide import ConstantTide, TideModel
from twin.ukc import UkcRule, Vessel, squat_on

RING = [[110.40, 21.10], [110.46, 21.10], [110.46, 21.15], [110.40, 21.15]]
T = np.datetime64("2026-11-28T06:00", "ns")


def _grid() -> xr.DataArray:
    lat = np.linspace(21.00, 21.25, 26)
    lon = np.linspace(110.30, 110.60, 31)
    depth = np.linspace(12.0, 20.0, lat.size * lon.size).reshape(lat.size, lon.size)
    depth[3, 3] = np.nan
    return xr.DataArray(depth, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})


def test_ukc_difference_is_zero_outside_the_dredged_polygon_and_a_gain_inside() -> None:
    base = _grid()
    text = f"version = 1\n[[dredge]]\npolygon = {RING}\ndeepen_m = 1.0\n"
    scen = apply_to_depth(base, parse_scenario(text))
    vessel = Vessel(draught_m=11.0, speed_kn=8.0, cb=0.8)
    diff = ukc_difference(base, scen, vessel, T, 2.0, rule=UkcRule(0.1))
    lon, lat = np.meshgrid(base.lon.values, base.lat.values)
    inside = shapely.contains_xy(shapely.Polygon(RING), lon, lat)
    assert np.all(diff.values[~inside] == 0.0)
    # one metre more water: the net UKC gains the metre less the extra squat is nil for Barrass
    # (depth-independent), so exactly 1 m
    np.testing.assert_allclose(diff.values[inside], 1.0)


def test_ukc_difference_with_a_depth_dependent_squat_still_zero_outside() -> None:
    base = _grid()
    text = f"version = 1\n[[dredge]]\npolygon = {RING}\ndepth_m = 19.0\n"
    scen = apply_to_depth(base, parse_scenario(text))
    vessel = Vessel(draught_m=11.0, speed_kn=10.0, cb=0.8, beam_m=32.0, length_m=225.0)
    diff = ukc_difference(base, scen, vessel, T, 1.5, squat_method="huuska")
    changed = (base.values != scen.values) & np.isfinite(base.values)
    assert np.all(diff.values[~changed] == 0.0)
    assert np.all(diff.values[changed] > 0.0)


def test_deeper_outer_channel_never_shortens_the_tidal_windows(port: Port) -> None:
    scen = load_scenario(bundled("dredge_outer_1m"))
    vessel = design_vessel(scen)
    tide = TideModel("test", 2.2, ())
    rows = window_hours_per_day(port, scen, vessel, tide, np.datetime64("2026-11-28"), 1, step_km=5.0,
                                step_s=900.0)
    assert len(rows) == 1 and rows[0]["gain_h"] >= 0.0


def test_window_hours_go_from_none_to_all_day_when_the_outer_channel_binds(port: Port) -> None:
    """A constant tide chosen so that the outer channel (15 % of draught) is 0.2 m short at design depth,
    open 1 m deeper, and the inner channel (10 %) open either way: 0 h a day before, 24 h after."""
    scen = load_scenario(bundled("dredge_outer_1m"))
    vessel = Vessel(draught_m=20.0, speed_kn=9.0, cb=0.85)
    squat = float(squat_on(vessel, np.array([24.0]), "barrass-confined")[0][0])
    # margins: outer 23.6 + L - 20 - squat - 3.0, scenario + 1.0; inner 23.0 + L - 20 - squat - 2.0
    tide = ConstantTide(squat - 0.8)
    rows = window_hours_per_day(port, scen, vessel, tide, np.datetime64("2026-11-28"), 1, step_km=5.0,
                                step_s=900.0, rules={"outer": UkcRule(0.15), "inner": UkcRule(0.10)})
    assert rows[0]["baseline_h"] == 0.0
    assert rows[0]["scenario_h"] == 24.0 and rows[0]["gain_h"] == 24.0
