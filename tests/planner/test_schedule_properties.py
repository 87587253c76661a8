"""Properties of any plan over random busy demand, checked independently of the scheduler.

- never two one-way-class ships (≥ 270 kt) in opposite directions on the channel axis at once (20 min
  margin), their axis times recomputed from chainage and speed;
- never a transit outside its tidal window: net UKC recomputed with twin.ukc at every control point at
  its passing time with the bundled tide model (not the scheduler's sampled tide or its windows), against
  15 % of draught in the outer channel and 10 % in the inner;
- pilot duty: no pilot on two jobs at once, no shift longer than its limit (jobs closer than the rest
  period are one shift);
- no berth double-booked (with the 30 min turnover);
- nobody starts before it is ready; the optimiser's total wait is never above FCFS's.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.port import Port
from twin.schedule import Direction, MovementRequest, Optimised, PilotRules, PlannedMovement, Problem
from twin.tide import TideModel, read_constituents_toml
from twin.ukc import UkcRule, Vessel, squat_on

T0 = 1_795_824_000.0  # 2026-11-28T00:00Z
KN = 1852.0 / 3600.0
RULE = {"outer": UkcRule(0.15), "inner": UkcRule(0.10)}
# (dwt, draught range, length, beam, cb) of the simulator's classes, laden and in ballast
SHIPS = [(390_000, (12.0, 23.0), 362, 65, 0.86), (290_000, (11.0, 22.5), 333, 60, 0.83),
         (200_000, (10.0, 18.5), 300, 50, 0.85), (80_000, (7.0, 14.5), 229, 32, 0.84),
         (30_000, (6.0, 11.5), 190, 30, 0.80), (5_000, (4.0, 7.0), 100, 16, 0.75)]


@pytest.fixture(scope="module")
def tide(port: Port) -> TideModel:
    return read_constituents_toml(port.files["tide"])


def berths_for(port: Port, dwt: float) -> list[str]:
    return sorted(b.id for b in port.berths.values() if b.status == "operational" and b.max_dwt >= dwt)


@st.composite
def demand(draw: st.DrawFn, port: Port) -> tuple[list[MovementRequest], PilotRules]:
    n = draw(st.integers(8, 26))
    reqs = []
    occupied: set[str] = set()  # one ship at a berth: at most one outbound request per berth
    for k in range(n):
        dwt, (d0, d1), length, beam, cb = draw(st.sampled_from(SHIPS))
        berth = draw(st.sampled_from(berths_for(port, dwt)))
        draught = min(draw(st.floats(d0, d1)), port.berths[berth].design_depth_m)
        direction: Direction = "in" if berth in occupied or draw(st.booleans()) else "out"
        if direction == "out":
            occupied.add(berth)
        earliest = T0 + draw(st.floats(0, 24 * 3600.0))
        reqs.append(MovementRequest(mmsi=413_000_000 + k, name=f"S{k}", dwt=dwt, draught_m=round(draught, 2),
                                    length_m=length, beam_m=beam, direction=direction, earliest_s=earliest,
                                    berth_id=berth, cb=cb, stay_h=draw(st.floats(6.0, 48.0))))
    pilots = PilotRules(count=draw(st.integers(2, 12)), max_shift_h=draw(st.floats(8.0, 12.0)),
                        min_rest_h=draw(st.floats(4.0, 10.0)))
    return reqs, pilots


def axis_km(port: Port, m: PlannedMovement) -> tuple[float, float]:
    """(from, to) chainage of the movement, worked out from the request alone."""
    r = m.request
    end, sea = port.channel.axis_chainage_km[-1], port.channel.axis_chainage_km[0]
    if r.berth_id is None:
        kb = end
    else:
        c = port.berths[r.berth_id].pocket.centroid
        kb = min(port.channel.chainage_at(c.x, c.y)[0], end)
    return (r.from_km if r.from_km is not None else sea, kb) if r.direction == "in" else (kb, sea)


def speed_kn(dwt: float) -> float:
    return 9.0 if dwt >= 270_000 else 10.0 if dwt > 60_000 else 11.0


def check_one_way(port: Port, plan: Sequence[PlannedMovement]) -> None:
    big = []
    for m in plan:
        if m.entry_s is None or m.request.dwt < 270_000:
            continue
        k0, k1 = axis_km(port, m)
        dur = abs(k1 - k0) * 1000.0 / (speed_kn(m.request.dwt) * KN)
        big.append((m.entry_s, m.entry_s + dur, m.request.direction, m.request.mmsi))
    for a0, a1, da, ma in big:
        for b0, b1, db, mb in big:
            if da != db:
                assert a1 + 1200 <= b0 + 1e-3 or b1 + 1200 <= a0 + 1e-3, f"{ma} and {mb} meet on the axis"


def check_headway(plan: Sequence[PlannedMovement]) -> None:
    """Same-direction entries at least 10 min (ChannelRules' default headway) apart."""
    for direction in ("in", "out"):
        times = sorted(m.entry_s for m in plan if m.entry_s is not None and m.request.direction == direction)
        for a, b in itertools.pairwise(times):
            assert b - a >= 600.0 - 1e-3, f"{direction} entries {a} and {b} closer than the headway"


def check_tide(port: Port, tide: TideModel, plan: Sequence[PlannedMovement]) -> None:
    pts = port.channel.control_points(0.5)
    for m in plan:
        if m.entry_s is None:
            continue
        r = m.request
        k0, k1 = axis_km(port, m)
        v = speed_kn(r.dwt)
        lo, hi = sorted((k0, k1))
        kms = np.array([lo, hi] + [p.chainage_km for p in pts if lo < p.chainage_km < hi])
        when = m.entry_s + np.abs(kms - k0) * 1000.0 / (v * KN)
        level = tide.level_m((when * 1e6).astype("datetime64[us]"))
        segs = [port.channel.segment_at(k) for k in kms]
        ship = Vessel(draught_m=r.draught_m, speed_kn=v, cb=r.cb, beam_m=r.beam_m, length_m=r.length_m)
        for k, seg, eta in zip(kms, segs, level, strict=True):
            h = seg.design_depth_m + eta
            squat = squat_on(ship, np.array([h]), "barrass-blockage", seg.width_m)[0][0]
            net = h - r.draught_m - squat
            need = RULE[seg.part].required_m(r.draught_m)
            assert net >= need - 1e-3, f"{r.mmsi} at K{k:.2f}: net UKC {net:.3f} m < {need:.3f} m"


def check_pilots(plan: Sequence[PlannedMovement], rules: PilotRules) -> None:
    jobs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for m in plan:
        if m.entry_s is not None:
            assert m.pilot is not None
            jobs[m.pilot].append((m.entry_s - rules.board_h * 3600,
                                  m.entry_s + m.transit.duration_s + rules.release_h * 3600))
    for lst in jobs.values():
        lst.sort()
        shift_start = lst[0][0]
        for (_a0, a1), (b0, b1) in itertools.pairwise(lst):
            assert b0 >= a1 - 1e-6, "a pilot on two ships at once"
            if b0 - a1 >= rules.min_rest_h * 3600:
                shift_start = b0
            assert b1 - shift_start <= rules.max_shift_h * 3600 + 1e-6, "shift too long"
        assert lst[0][1] - lst[0][0] <= rules.max_shift_h * 3600 + 1e-6


def check_berths(plan: Sequence[PlannedMovement]) -> None:
    busy: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for m in plan:
        r = m.request
        if r.berth_id is None:
            continue
        if r.direction == "out":
            busy[r.berth_id].append((-math.inf, math.inf if m.entry_s is None else m.entry_s))
        elif m.entry_s is not None:
            arrive = m.entry_s + m.transit.duration_s
            busy[r.berth_id].append((arrive, arrive + (r.stay_h or math.inf) * 3600))
    for lst in busy.values():
        lst.sort()
        for (_a0, a1), (b0, _b1) in itertools.pairwise(lst):
            assert a1 + 1800 <= b0 + 1e-3, "berth double-booked"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_any_plan_keeps_every_rule(port: Port, tide: TideModel, data: st.DataObject) -> None:
    reqs, pilots = data.draw(demand(port))
    problem = Problem(port, reqs, tide, pilots=pilots)
    fcfs, fcfs_cost = problem.decode(problem.fcfs_order())
    opt, opt_cost = problem.decode(Optimised(budget=150).order(problem))
    assert opt_cost <= fcfs_cost + 1e-6
    for plan in (fcfs, opt):
        assert len(plan) == len(reqs)
        for m in plan:
            assert m.entry_s is None or m.entry_s >= m.request.earliest_s - 1e-6
        check_one_way(port, plan)
        check_headway(plan)
        check_tide(port, tide, plan)
        check_pilots(plan, pilots)
        check_berths(plan)
