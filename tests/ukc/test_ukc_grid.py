"""Net UKC identity, grid vectorisation, S-129 classes and live UKC."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from twin.squat import squat
from twin.tide import ConstantTide, TideSeries
from twin.ukc import (
    Allowances,
    UkcRule,
    Vessel,
    classify,
    fresh_water_allowance_m,
    heel_allowance_m,
    live_ukc,
    net_ukc_m,
    ukc_grid,
)

T0 = np.datetime64("2026-11-28T00:00", "ns")


def _grid(values: list[list[float]]) -> xr.DataArray:
    arr = np.asarray(values, dtype=float)
    return xr.DataArray(arr, dims=("lat", "lon"),
                        coords={"lat": 21.0 + 0.01 * np.arange(arr.shape[0]),
                                "lon": 110.4 + 0.01 * np.arange(arr.shape[1])})


def test_ukc_identity_matches_squat_form_e2() -> None:
    # E2, scribd 705635834: depth 20.5, T 5.50, open squat 0.23 -> deepest nav. draught 5.73,
    # UKC 14.77 m
    cb = 1841.27 / (65.50 * 14.03 * 5.50)
    s = float(squat("barrass-open", cb=cb, speed_kn=8, draught_m=5.5, depth_m=20.5).squat_m)
    assert round(5.5 + s, 2) == 5.73
    assert round(float(net_ukc_m(20.5, 0.0, 5.5, s)), 2) == 14.77


def test_grid_reproduces_kinavis_e5_open_and_channel() -> None:
    # E5, KINAVIS clearance.rs: T 12, Cb 0.85, 12 kn, CD depth 14, tide 1.5, rule max(1 m, 10 % T)
    # -> UKC 2.28 open (ok), 1.05 in a channel (fails 1.2 m)
    depth = _grid([[14.0]])
    ship = Vessel(draught_m=12.0, speed_kn=12.0, cb=0.85)
    rule = UkcRule(fraction_of_draught=0.10, minimum_m=1.0)
    open_ = ukc_grid(depth, ship, [T0], 1.5, rule=rule, squat_method="barrass-open")
    channel = ukc_grid(depth, ship, [T0], 1.5, rule=rule, squat_method="barrass-confined")
    assert round(float(open_.net_ukc_m[0, 0, 0]), 2) == 2.28
    assert round(float(channel.net_ukc_m[0, 0, 0]), 2) == 1.05
    assert float(open_.required_ukc_m[0, 0]) == pytest.approx(1.2)
    assert int(open_.ukc_class[0, 0, 0]) == 0  # safe
    assert int(channel.ukc_class[0, 0, 0]) == 1  # marginal: afloat but below the rule


def test_grid_dims_tide_per_time_allowances_and_no_data() -> None:
    depth = _grid([[20.0, 10.0, np.nan], [15.0, 25.0, 12.0]])
    times = T0 + np.arange(3) * np.timedelta64(1, "h")
    tide = TideSeries(times, np.array([0.0, 1.0, 2.0]))
    ship = Vessel(draught_m=12.0, speed_kn=0.0, cb=0.8)
    allow = Allowances(survey_m=0.3, siltation_m=0.2)
    ds = ukc_grid(depth, ship, times, tide, rule=UkcRule(0.10), allowances=allow)
    assert ds.net_ukc_m.dims == ("time", "lat", "lon")
    assert ds.net_ukc_m.shape == (3, 2, 3)
    expected = (depth.values[None] + np.array([0.0, 1.0, 2.0])[:, None, None] - 12.0 - 0.5)
    np.testing.assert_allclose(ds.net_ukc_m.values, expected)
    codes = ds.ukc_class.values
    assert (codes[:, 0, 2] == -1).all()  # no depth -> no-data
    assert (codes[:, 0, 1] == 2).all()   # 10 m of water for 12 m draught -> no-go
    # 15 m cell: net 2.5 / 3.5 / 4.5 against 1.2 required -> safe throughout
    assert (codes[:, 1, 0] == 0).all()
    # 12 m cell: net -0.5, 0.5, 1.5 -> no-go, marginal, safe
    assert codes[:, 1, 2].tolist() == [2, 1, 0]


def test_zone_rules_inner_and_outer() -> None:
    depth = _grid([[14.0, 14.0]])
    zone = xr.DataArray(np.array([["outer", "inner"]]), dims=("lat", "lon"))
    ship = Vessel(draught_m=12.0, speed_kn=0.0, cb=0.8)
    rules = {"outer": UkcRule(0.15), "inner": UkcRule(0.10)}
    ds = ukc_grid(depth, ship, [T0], ConstantTide(0.0), rule=rules, zone=zone)
    # net 2.0 m: outer needs 1.8 -> safe; inner 1.2 -> safe; with 0.5 m less water outer fails
    assert ds.required_ukc_m.values.tolist() == [[pytest.approx(1.8), pytest.approx(1.2)]]
    low = ukc_grid(depth, ship, [T0], -0.5, rule=rules, zone=zone)
    assert low.ukc_class.values[0, 0].tolist() == [1, 0]
    with pytest.raises(ValueError, match="zone grid"):
        ukc_grid(depth, ship, [T0], 0.0, rule=rules)
    bad = xr.DataArray(np.array([["outer", "berth"]]), dims=("lat", "lon"))
    with pytest.raises(ValueError, match="berth"):
        ukc_grid(depth, ship, [T0], 0.0, rule=rules, zone=bad)


def test_depth_dependent_squat_is_taken_at_the_local_water_depth() -> None:
    depth = _grid([[13.0, 16.0]])
    ship = Vessel(draught_m=10.0, speed_kn=10.0, cb=0.7, beam_m=28.0, length_m=190.0)
    ds = ukc_grid(depth, ship, [T0], 1.0, rule=UkcRule(0.1), squat_method="huuska")
    for j, h in enumerate([14.0, 17.0]):
        s = float(squat("huuska", cb=0.7, speed_kn=10.0, draught_m=10.0, depth_m=h,
                        beam_m=28.0, length_m=190.0).squat_m)
        assert float(ds.net_ukc_m[0, 0, j]) == pytest.approx(h - 10.0 - s, abs=1e-12)


def test_classify_thresholds_are_strict_below() -> None:
    codes = classify(np.array([-0.01, 0.0, 1.19, 1.2, np.nan]), 1.2, 0.0)
    assert codes.tolist() == [2, 1, 1, 0, -1]


def test_live_ukc_of_one_vessel_uses_nearest_cell_and_surge() -> None:
    depth = _grid([[14.0, 30.0], [30.0, 30.0]])
    ship = Vessel(draught_m=12.0, speed_kn=12.0, cb=0.85)
    live = live_ukc(ship, 21.001, 110.401, T0, depth, ConstantTide(1.7), surge_m=-0.2,
                    rule=UkcRule(0.10, 1.0), squat_method="barrass-open")
    assert live.depth_below_cd_m == 14.0
    assert live.tide_m == pytest.approx(1.5)
    assert round(live.net_ukc_m, 2) == 2.28  # E5 again, through the live path
    assert live.status == "safe"


def test_fresh_water_allowance_and_heel() -> None:
    # FWA (mm) = displacement / (4 TPC): 20,000 t, TPC 25 -> 200 mm; in 1010 kg/m3 water
    # DWA = 200 * 15 / 25 = 120 mm (Load Line practice, reference/ukc.md section 1)
    assert fresh_water_allowance_m(20_000, 25, 1000.0) == pytest.approx(0.200)
    assert fresh_water_allowance_m(20_000, 25, 1010.0) == pytest.approx(0.120)
    # heel 2 deg, B 32, T 12: 16 sin 2 + 12 cos 2 - 12
    expected = 16 * np.sin(np.radians(2)) + 12 * np.cos(np.radians(2)) - 12
    assert heel_allowance_m(12.0, 32.0, 2.0) == pytest.approx(expected)


def test_channel_width_grid_mixes_channel_and_open_water_squat() -> None:
    # one grid, two cells of 24 m: the left in the 340 m channel, the right in open water (NaN)
    depth = _grid([[24.0, 24.0]])
    width = xr.DataArray(np.array([[340.0, np.nan]]), dims=("lat", "lon"))
    ship = Vessel(draught_m=21.5, speed_kn=10.0, cb=0.86, beam_m=65.0, length_m=360.0)
    ds = ukc_grid(depth, ship, [T0], 0.0, rule=UkcRule(0.1), squat_method="barrass-blockage",
                  channel_width_m=width)
    # Barrass & Derrett: S = B T / (W h); W = 340 m in the channel, (7.7 + 20 (1 - Cb)^2) B open
    for j, w in enumerate([340.0, (7.7 + 20 * 0.14**2) * 65.0]):
        s_block = 65.0 * 21.5 / (w * 24.0)
        expected = 0.86 * s_block**0.81 * 10**2.08 / 20
        assert float(ds.net_ukc_m[0, 0, j]) == pytest.approx(24.0 - 21.5 - expected, abs=1e-12)
