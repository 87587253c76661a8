"""Channel scheduling by hand: small cases whose waits are worked out in the comments.

Speeds: the one-way class (≥ 270 kt) sails at 9 kn = 4.63 m/s, ships ≤ 60 kt at 11 kn = 5.658889 m/s.
Routes are given by chainage so the transit times are round: an inbound ship from K30.764 to the
inner end K64.1 sails 33,336 m = 7,200 s at 9 kn; an outbound ship from the inner end (no berth given)
to K0 sails 64,100 m = 13,844.5 s at 9 kn.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from twin.port import Port
from twin.schedule import (
    ChannelRules,
    MovementRequest,
    PilotPool,
    PilotRules,
    PlannedMovement,
    SchedulePlan,
    berth_chainage_km,
    prepare_transits,
    schedule,
)
from twin.tide import ConstantTide

T0 = 1_795_824_000.0  # 2026-11-28T00:00Z
H = 3600.0
OUT_64 = 64_100 / (9 * 1852 / 3600)  # 13,844.49 s: a VLCC from the inner end to K0
MANY = PilotRules(count=10, min_rest_h=0.0)


def vlcc(mmsi: int, direction: str, earliest_h: float, draught_m: float = 15.0,
         **kw: object) -> MovementRequest:
    return MovementRequest(mmsi=mmsi, name=f"VLCC {mmsi}", dwt=290_000, draught_m=draught_m, length_m=333,
                           beam_m=60, direction=direction, earliest_s=T0 + earliest_h * H,  # type: ignore[arg-type]
                           cb=0.83, **kw)  # type: ignore[arg-type]


def coaster(mmsi: int, earliest_h: float, **kw: object) -> MovementRequest:
    return MovementRequest(mmsi=mmsi, name=f"COASTER {mmsi}", dwt=5_000, draught_m=6.0, length_m=100,
                           beam_m=16, direction="in", earliest_s=T0 + earliest_h * H, **kw)  # type: ignore[arg-type]


class StepTide:
    """0.5 m above CD until 03:00 UTC, 6.0 m from then on."""

    def level_m(self, times: ArrayLike) -> NDArray[np.float64]:
        t = np.asarray(times, dtype="datetime64[s]")
        return np.where(t >= np.datetime64("2026-11-28T03:00:00"), 6.0, 0.5)


def by_mmsi(plan: SchedulePlan) -> dict[int, PlannedMovement]:
    return {m.request.mmsi: m for m in plan.movements}


def test_two_vlccs_opposite_the_later_waits_for_the_first_plus_margin(port: Port) -> None:
    # A inbound ready 00:00, 2 h on the axis: 00:00-02:00. B outbound ready 00:30 would meet it, so it
    # enters at 02:00 + 20 min margin = 02:20: wait 1 h 50 min. B first instead would hold A until
    # 00:30 + 13,844.5 s + 20 min = 04:50:44.5 (wait 4.85 h), so the optimiser keeps FCFS's order.
    reqs = [vlcc(1, "in", 0.0, from_km=30.764), vlcc(2, "out", 0.5)]
    for method in ("fcfs", "optimised"):
        plan = schedule(port, reqs, ConstantTide(3.0), method=method, pilots=MANY)
        a, b = by_mmsi(plan)[1], by_mmsi(plan)[2]
        assert a.entry_s == T0 and a.exit_s == pytest.approx(T0 + 2 * H, abs=0.5)
        assert b.entry_s == pytest.approx(T0 + 2 * H + 1200, abs=0.5)
        assert b.wait_s == pytest.approx(6600, abs=0.5) and b.reason == "one_way"
        assert plan.summary()["wait_total_h"] == pytest.approx(6600 / H, abs=1e-3)


def test_optimiser_lets_a_ready_ship_go_while_the_other_waits_for_the_tide(port: Port) -> None:
    # A: inbound VLCC at 22 m draught, ready 00:00, but the tide (0.5 m) is too low until 03:00.
    # B: outbound VLCC in ballast, ready 01:00, 13,844.5 s on the axis.
    # FCFS commits A first: A 03:00-05:00 (wait 3 h, one 60 s search step later at most: the window edge
    # is trimmed by one step), B after A + 20 min = 05:20 (wait 4 h 20 min): total ≈ 7 h 20 min.
    # Optimised: B 01:00-04:50:44.5 (no wait), A at 04:50:44.5 + 20 min = 05:10:44.5 (wait 5.18 h): total
    # 5 h 10 min 44.5 s, 2 h 9 min less.
    reqs = [vlcc(1, "in", 0.0, draught_m=22.0, from_km=30.764), vlcc(2, "out", 1.0)]
    fcfs = schedule(port, reqs, StepTide(), method="fcfs", pilots=MANY)
    opt = schedule(port, reqs, StepTide(), method="optimised", pilots=MANY)
    fa, fb = by_mmsi(fcfs)[1], by_mmsi(fcfs)[2]
    assert fa.entry_s == pytest.approx(T0 + 3 * H, abs=61) and fa.reason == "tide"
    assert fa.entry_s is not None and fb.entry_s == pytest.approx(fa.entry_s + 2 * H + 1200, abs=0.5)
    oa, ob = by_mmsi(opt)[1], by_mmsi(opt)[2]
    assert ob.entry_s == T0 + H and ob.wait_s == 0
    assert oa.entry_s == pytest.approx(T0 + H + OUT_64 + 1200, abs=0.5)
    assert oa.reasons["one_way"] > 0
    assert opt.summary()["wait_total_h"] == pytest.approx((H + OUT_64 + 1200) / H, abs=1e-3)
    assert fcfs.summary()["wait_total_h"] == pytest.approx(7 + 1 / 3, abs=0.04)


def test_one_pilot_works_a_twelve_hour_shift_then_rests_ten_hours(port: Port) -> None:
    # Five coasters ready at 00:00, 2 h each on the axis (40,744 m at 11 kn), one pilot: boarding 30 min
    # before entry, released 30 min after exit, so each job is 3 h. Jobs -00:30-02:30, 02:30-05:30,
    # 05:30-08:30, 08:30-11:30: one 12 h shift (entries 00:00, 03:00, 06:00, 09:00). The fifth job would
    # stretch the shift past 12 h until the pilot has rested 10 h after 11:30: boards 21:30, enters 22:00.
    k0 = 64.1 - 2 * H * 11 * 1852 / 3600 / 1000
    reqs = [coaster(i, 0.0, from_km=k0) for i in range(1, 6)]
    plan = schedule(port, reqs, ConstantTide(2.0), method="fcfs", pilots=PilotRules(count=1))
    entries = [(m.entry_s or math.nan) / H - T0 / H for m in plan.movements]
    assert entries == pytest.approx([0, 3, 6, 9, 22], abs=1e-3)
    assert plan.movements[-1].reason == "pilot" and {m.pilot for m in plan.movements} == {0}


def test_inbound_ship_waits_for_the_berth_to_be_vacated_plus_turnover(port: Port) -> None:
    # The VLCC at XS-OIL-300K is ready to sail at 05:00; the next tanker for that berth arrives at the
    # pilot station at 00:00. It may reach the berth at 05:00 + 30 min turnover at the earliest, so the
    # berth holds it until 05:30 minus its transit time (K0 to the berth, `dur`); then it must not meet
    # the outbound one, in the channel from 05:00 for the same distance: it enters at 05:00 + dur + 20 min.
    k_b = berth_chainage_km(port, "XS-OIL-300K")
    dur = k_b * 1000 / (9 * 1852 / 3600)
    reqs = [vlcc(1, "out", 5.0, berth_id="XS-OIL-300K"), vlcc(2, "in", 0.0, berth_id="XS-OIL-300K")]
    plan = schedule(port, reqs, ConstantTide(3.0), method="fcfs", pilots=MANY)
    out, inb = by_mmsi(plan)[1], by_mmsi(plan)[2]
    assert out.entry_s == T0 + 5 * H
    assert inb.entry_s == pytest.approx(T0 + 5 * H + dur + 1200, abs=0.5)
    assert set(inb.reasons) == {"berth", "one_way"}
    assert inb.reasons["berth"] == pytest.approx(5.5 * H - dur, abs=0.5)


def test_a_small_ship_only_waits_for_the_berth_not_for_the_one_way_rule(port: Port) -> None:
    # Same berth, but a coaster at a 5 kt berth: it reaches the berth 30 min after the occupant leaves.
    k_b = berth_chainage_km(port, "XS-NOIL-5K-1")
    dur = k_b * 1000 / (11 * 1852 / 3600)
    gone = MovementRequest(mmsi=9, name="X", dwt=4_000, draught_m=5.0, length_m=90, beam_m=15,
                           direction="out", earliest_s=T0 + 4 * H, berth_id="XS-NOIL-5K-1")
    reqs = [gone, coaster(2, 0.0, berth_id="XS-NOIL-5K-1")]
    plan = schedule(port, reqs, ConstantTide(3.0), method="fcfs", pilots=MANY)
    inb = by_mmsi(plan)[2]
    assert inb.entry_s == pytest.approx(T0 + 4.5 * H - dur, abs=0.5)
    assert inb.reason == "berth"


def test_a_berth_held_beyond_the_horizon_leaves_the_movement_unscheduled(port: Port) -> None:
    plan = schedule(port, [coaster(1, 0.0, berth_id="XS-GEN-1")], ConstantTide(3.0), method="fcfs",
                    berth_busy_until={"XS-GEN-1": math.inf})
    assert plan.unscheduled and plan.unscheduled[0].reason == "berth"
    assert plan.summary()["unscheduled"] == 1


def test_optimiser_total_wait_is_never_above_fcfs_on_a_pilot_shortage(port: Port) -> None:
    # Six coasters and two VLCCs, three pilots: the optimiser's order is searched from FCFS's.
    reqs = [coaster(i, 0.25 * i, from_km=30.0) for i in range(1, 7)]
    reqs += [vlcc(10, "in", 0.0), vlcc(11, "out", 0.5)]
    pilots = PilotRules(count=3)
    tr = prepare_transits(port, reqs, ConstantTide(3.0), ChannelRules())
    f = schedule(port, reqs, ConstantTide(3.0), method="fcfs", pilots=pilots, transits=tr)
    o = schedule(port, reqs, ConstantTide(3.0), method="optimised", pilots=pilots, transits=tr)
    assert o.cost <= f.cost
    assert o.summary()["wait_total_h"] < f.summary()["wait_total_h"]  # shortest jobs first pays here


def test_pilot_pool_refuses_overlap_and_long_shifts() -> None:
    pool = PilotPool(PilotRules(count=1, max_shift_h=12, min_rest_h=10))
    pool.book(0, 0.0, 3 * H)
    assert not pool.fits(0, 2 * H, 4 * H)  # overlaps
    assert pool.fits(0, 3 * H, 12 * H)  # same shift, 12 h in all
    assert not pool.fits(0, 4 * H, 13 * H)  # 13 h shift
    assert pool.fits(0, 13 * H, 16 * H)  # after 10 h rest: a new shift
    mark = pool.mark()
    pool.book(0, 13 * H, 16 * H)
    pool.undo(mark)
    assert pool.jobs[0] == [(0.0, 3 * H)]


def test_unknown_method_is_named(port: Port) -> None:
    with pytest.raises(ValueError, match="unknown scheduling method 'magic'"):
        schedule(port, [coaster(1, 0.0)], ConstantTide(3.0), method="magic")


def test_ships_in_the_same_direction_enter_at_least_ten_minutes_apart(port: Port) -> None:
    # Three coasters ready at 00:00 and one at 00:25, all inbound, pilots and tide plentiful: the
    # 10-min headway sends them in at 00:00, 00:10, 00:20, and the late one at 00:30 (00:25 is within
    # 10 min of 00:20): waits 0, 10, 20 and 5 min, all for the headway. An outbound coaster ready
    # at 00:05 is not held by ships coming in.
    reqs = [coaster(1, 0.0), coaster(2, 0.0), coaster(3, 0.0), coaster(4, 25 / 60)]
    out = MovementRequest(mmsi=9, name="OUT", dwt=4_000, draught_m=5.0, length_m=90, beam_m=15,
                          direction="out", earliest_s=T0 + H / 12, berth_id="XS-NOIL-5K-1")
    plan = schedule(port, [*reqs, out], ConstantTide(3.0), method="fcfs", pilots=MANY)
    ships = by_mmsi(plan)
    assert [(ships[m].entry_s - T0) / 60 for m in (1, 2, 3, 4)] == pytest.approx([0, 10, 20, 30], abs=1e-6)
    assert [ships[m].wait_s / 60 for m in (1, 2, 3, 4)] == pytest.approx([0, 10, 20, 5], abs=1e-6)
    assert all(set(ships[m].reasons) == {"headway"} for m in (2, 3, 4))
    assert ships[9].entry_s == T0 + H / 12 and ships[9].wait_s == 0
