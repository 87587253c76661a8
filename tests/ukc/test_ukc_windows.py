"""Tidal windows against analytic cases (reference/ukc.md section 5 test plan)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from twin.tide import ConstantTide
from twin.ukc import UkcRule, Vessel
from twin.windows import (
    RoutePoint,
    critical_point,
    max_sailing_draught_m,
    passing_offsets_s,
    to_s129_plan,
    transit_windows,
)

T0 = np.datetime64("2026-11-28T00:00", "ns")
PERIOD_S = 12.0 * 3600.0
HOUR = np.timedelta64(1, "h")


class SineTide:
    """A * sin(2 pi (t - T0) / P) metres above chart datum."""

    def __init__(self, amplitude_m: float) -> None:
        self.amplitude_m = amplitude_m

    def level_m(self, times: ArrayLike) -> NDArray[np.float64]:
        x = (np.asarray(times, dtype="datetime64[ns]") - T0) / np.timedelta64(1, "s")
        return self.amplitude_m * np.sin(2 * np.pi * x / PERIOD_S)


def _seconds(t: np.datetime64) -> float:
    return float((t - T0) / np.timedelta64(1, "s"))


# a ship at rest has no squat: speed 0 on a single point; draught 11, rule 0 %, depth 10
STILL = Vessel(draught_m=11.0, speed_kn=0.0, cb=0.8)
ONE_POINT = [RoutePoint(0.0, 10.0, UkcRule(0.0), speed_kn=0.0)]


def test_constant_tide_is_always_or_never_open() -> None:
    always = transit_windows(ONE_POINT, STILL, ConstantTide(1.5), T0, T0 + 24 * HOUR)
    assert len(always.windows) == 1
    w = always.windows[0]
    assert (w.start, w.end) == (T0, T0 + 24 * HOUR)
    assert w.clipped_start and w.clipped_end
    never = transit_windows(ONE_POINT, STILL, ConstantTide(0.5), T0, T0 + 24 * HOUR)
    assert never.windows == []
    assert never.earliest_start(T0) is None


def test_sine_tide_crossings_match_the_closed_form() -> None:
    # required rise R = 11 - 10 = 1 m under A = 2 m: open from asin(R/A) P / 2 pi to
    # P/2 - that, i.e. 01:00 to 05:00 and 13:00 to 17:00
    res = transit_windows(ONE_POINT, STILL, SineTide(2.0), T0, T0 + 24 * HOUR, step_s=300.0)
    t_open = math.asin(1.0 / 2.0) * PERIOD_S / (2 * math.pi)
    expected = [(t_open, PERIOD_S / 2 - t_open),
                (PERIOD_S + t_open, 1.5 * PERIOD_S - t_open)]
    assert len(res.windows) == 2
    for w, (a, b) in zip(res.windows, expected, strict=True):
        # linear interpolation across a 5-min step near a sine crossing: error < 10 s here
        assert _seconds(w.start) == pytest.approx(a, abs=10.0)
        assert _seconds(w.end) == pytest.approx(b, abs=10.0)
        assert not (w.clipped_start or w.clipped_end)


def test_sine_crossing_with_an_irrational_ratio() -> None:
    # R/A = 0.3: t = asin(0.3) P / 2 pi = 2081.7 s, off the sample grid
    point = [RoutePoint(0.0, 10.0, UkcRule(0.0), speed_kn=0.0)]
    ship = Vessel(draught_m=10.6, speed_kn=0.0, cb=0.8)
    res = transit_windows(point, ship, SineTide(2.0), T0, T0 + 12 * HOUR, step_s=60.0)
    t_open = math.asin(0.3) * PERIOD_S / (2 * math.pi)
    assert _seconds(res.windows[0].start) == pytest.approx(t_open, abs=1.0)
    assert _seconds(res.windows[0].end) == pytest.approx(PERIOD_S / 2 - t_open, abs=1.0)


def test_two_points_with_travel_time_give_the_narrower_intersection() -> None:
    # 18.52 km at 10 kn = 1 h exactly. Both points need 1 m of tide (squat is the same at both
    # and sits in the depth). Point 2 is passed 1 h after departure, so its departure window is
    # the local one shifted back by 1 h: [0 h, 4 h]; intersected with point 1's [1 h, 5 h]
    # that leaves [1 h, 4 h]
    ship = Vessel(draught_m=11.0, speed_kn=10.0, cb=0.8)
    squat_m = 0.8 * 10.0**2 / 100.0  # barrass-open
    pts = [RoutePoint(0.0, 10.0 + squat_m, UkcRule(0.0), speed_kn=10.0),
           RoutePoint(18.52, 10.0 + squat_m, UkcRule(0.0), speed_kn=10.0)]
    assert passing_offsets_s(pts).tolist() == pytest.approx([0.0, 3600.0])
    res = transit_windows(pts, ship, SineTide(2.0), T0, T0 + 12 * HOUR, step_s=60.0,
                          squat_method="barrass-open")
    assert len(res.windows) == 1
    assert _seconds(res.windows[0].start) == pytest.approx(3600.0, abs=2.0)
    assert _seconds(res.windows[0].end) == pytest.approx(4 * 3600.0, abs=2.0)
    # per-point windows are reported in local passing time
    assert _seconds(res.per_point[1][0].start) == pytest.approx(3600.0, abs=2.0)
    assert _seconds(res.per_point[1][0].end) == pytest.approx(5 * 3600.0, abs=2.0)
    # earliest feasible start after 00:30 is the opening at 01:00; after 02:00 it is 02:00
    assert _seconds(res.earliest_start(T0 + np.timedelta64(30, "m"))) == pytest.approx(
        3600.0, abs=2.0)
    assert res.earliest_start(T0 + 2 * HOUR) == T0 + 2 * HOUR
    assert res.earliest_start(T0 + 3 * HOUR, min_duration_s=2 * 3600) is None


def test_critical_point_is_the_one_with_least_margin() -> None:
    ship = Vessel(draught_m=11.0, speed_kn=10.0, cb=0.8)
    pts = [RoutePoint(0.0, 14.0, UkcRule(0.10), speed_kn=10.0),
           RoutePoint(5.0, 13.5, UkcRule(0.10), speed_kn=10.0),
           RoutePoint(9.0, 15.0, UkcRule(0.15), speed_kn=10.0)]
    crit = critical_point(pts, ship, ConstantTide(1.0), T0, squat_method="barrass-open")
    # margins: 15 - 11 - 0.8 - 1.1 = 2.1 ; 14.5 - 11 - 0.8 - 1.1 = 1.6 ; 16 - 11 - 0.8 - 1.65
    assert crit.index == 1 and crit.chainage_km == 5.0
    assert crit.margin_m == pytest.approx(1.6)
    assert crit.net_ukc_m == pytest.approx(2.7)
    assert crit.passing_time == T0 + np.timedelta64(round(5000 / (10 * 1852 / 3600) * 1e9), "ns")


def test_max_sailing_draught_solves_the_rule_in_closed_form() -> None:
    # constant tide 1.5 m, depth 20, allowance 0.3, no squat (speed 0), rule max(1 m, 10 % T):
    # T + 0.1 T = 21.5 - 0.3 -> T = 19.2727 m (10 % of it, 1.93 m, is above the 1 m floor)
    pts = [RoutePoint(0.0, 20.0, UkcRule(0.10, 1.0), speed_kn=0.0, allowances_m=0.3)]
    ship = Vessel(draught_m=1.0, speed_kn=0.0, cb=0.8)
    t_max = max_sailing_draught_m(pts, ship, ConstantTide(1.5), T0)
    assert t_max == pytest.approx(21.2 / 1.1, abs=0.001)
    # with a 3 m floor the floor binds: T = 21.2 - 3
    pts = [RoutePoint(0.0, 20.0, UkcRule(0.10, 3.0), speed_kn=0.0, allowances_m=0.3)]
    assert max_sailing_draught_m(pts, ship, ConstantTide(1.5), T0) == pytest.approx(18.2,
                                                                                   abs=0.001)


def test_s129_plan_shape() -> None:
    ship = Vessel(draught_m=11.0, speed_kn=10.0, cb=0.8, vessel_id="IMO9999999")
    pts = [RoutePoint(0.0, 12.0, UkcRule(0.0), speed_kn=10.0, lat=21.0, lon=110.6),
           RoutePoint(18.52, 12.0, UkcRule(0.0), speed_kn=10.0, lat=21.1, lon=110.5)]
    res = transit_windows(pts, ship, SineTide(2.0), T0, T0 + 12 * HOUR,
                          squat_method="barrass-open")
    start = res.earliest_start(T0)
    assert start is not None
    plan = to_s129_plan(res, pts, ship, generation_time=T0, departure=start)["UnderKeelClearancePlan"]
    assert plan["vesselID"] == "IMO9999999"
    assert plan["maximumDraught"] == 11.0
    assert plan["generationTime"] == "2026-11-28T00:00:00Z"
    assert plan["underKeelClearanceCalculationRequested"] == "timeWindow"
    assert plan["windows"] and set(plan["windows"][0]) >= {"timeStart", "timeEnd"}
    cps = plan["controlPoints"]
    assert [cp["expectedPassingSpeed"] for cp in cps] == [5.144, 5.144]  # m/s, as S-129 wants
    passing = [np.datetime64(cp["expectedPassingTime"].rstrip("Z")) for cp in cps]
    assert passing[1] - passing[0] == np.timedelta64(3600, "s")
    assert cps[0]["position"] == {"lat": 21.0, "lon": 110.6}
