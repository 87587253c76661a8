"""Zone KPIs (twin.kpi.zone) on a hand-built history of the bundled port's zones, every figure worked
out by hand in the comments. Times are hours after T0 = 2026-11-28 00:00 UTC; the window is the 6 h
[6 h, 12 h) ending at 12 h ("now")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import polars as pl
import pytest

from feeds.schema import GATE_EVENT
from twin.kpi import Window
from twin.kpi.zone import ZoneInputs, channel_transits, zone_kpis

T0 = datetime(2026, 11, 28, tzinfo=UTC)
WINDOW = Window.custom(T0 + timedelta(hours=6), T0 + timedelta(hours=12))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@lru_cache(maxsize=1)
def port() -> Any:
    from geodata import load_port

    return load_port()


# (hours, mmsi, call, event, location)
EVENTS = [
    # anchorage Z-ANC-IN-1 (ANC-IN-1)
    (1, 1, "A", "port_limit_arrival", None),
    (2, 1, "A", "anchorage_arrival", "ANC-IN-1"), (7, 1, "A", "anchorage_departure", "ANC-IN-1"),  # wait 5 h
    (8, 2, "B", "anchorage_arrival", "ANC-IN-1"), (10, 2, "B", "anchorage_departure", "ANC-IN-1"),  # 2 h
    (9, 3, "C", "anchorage_arrival", "ANC-IN-1"),  # still waiting at 12: 3 h so far
    (11, 4, "D", "anchorage_arrival", "ANC-IN-2"),  # another anchorage zone
    (4, 5, "E", "anchorage_arrival", "ANC-IN-1"),  # still waiting at 12: 8 h so far
    (12.5, 6, "F", "anchorage_arrival", "ANC-IN-1"),  # after the window end
    # port area Z-PA-TIAOSHUN (TS-COAL-1, TS-COAL-2, TS-GEN-1)
    (3, 7, "G", "all_fast", "TS-COAL-1"), (9, 7, "G", "departure_from_berth", "TS-COAL-1"),
    (10, 8, "H", "all_fast", "TS-GEN-1"),  # alongside at the end
    (7, 9, "I", "all_fast", "TS-COAL-2"), (8, 9, "I", "departure_from_berth", "TS-COAL-2"),
    (7, 10, "J", "all_fast", "XS-GRAIN"), (9, 10, "J", "departure_from_berth", "XS-GRAIN"),  # Xiashan
]
CARGO = pl.DataFrame({"call_id": ["G", "I", "J"], "tonnes": [50_000.0, None, 9_000.0],
                      "teu": [None, None, None], "cargo": ["coal", None, "grain"]})


def events(rows: list[tuple[Any, ...]] = EVENTS) -> pl.DataFrame:
    rows = sorted(rows, key=lambda r: r[0])
    return pl.DataFrame({
        "ts_utc": [at(r[0]) for r in rows], "mmsi": pl.Series([r[1] for r in rows], dtype=pl.UInt32),
        "call_id": [r[2] for r in rows], "event": [r[3] for r in rows], "location_id": [r[4] for r in rows],
    }, schema_overrides={"location_id": pl.String})


def gate_rows() -> pl.DataFrame:
    # (hours, gate, direction, visit, processing_s)
    rows = [
        (5.5, "GATE-BM-IN", "in", "v1", 60.0), (6.5, "GATE-BM-OUT", "out", "v1", 30.0),
        (7.0, "GATE-BM-IN", "in", "v2", 90.0), (7.5, "GATE-BM-OUT", "out", "v2", 30.0),
        (8.0, "GATE-FTZ-MAIN", "in", "v3", 45.0),  # another gate complex
        (11.5, "GATE-BM-IN", "in", "v4", 120.0), (12.5, "GATE-BM-OUT", "out", "v4", 30.0),
    ]
    return pl.DataFrame({
        "ts_utc": [at(r[0]) for r in rows], "gate_id": [r[1] for r in rows], "lane": [1] * len(rows),
        "direction": [r[2] for r in rows], "visit_id": [r[3] for r in rows], "truck_id": [None] * len(rows),
        "container_ids": [[] for _ in rows], "outcome": ["accepted"] * len(rows),
        "processing_s": [r[4] for r in rows],
    }, schema=GATE_EVENT)


def positions() -> pl.DataFrame:
    ch, out = "Z-CH-INNER", None
    rows = [
        (1, 5, out), (1, 6, ch), (1, 7, ch), (1, 8, "Z-PA-XIASHAN"),  # transit 6 → 7: 1 h
        (2, 9, ch), (2, 10, out),  # entry not among the fixes: not counted
        (3, 8, "Z-ANC-IN-1"), (3, 9, ch), (3, 10.5, ch), (3, 11, out),  # transit 9 → 10.5: 1.5 h
        (4, 10, out), (4, 11, ch),  # still in the channel at the end: not a transit yet
        (5, 1, out), (5, 2, ch), (5, 3, out),  # exit at 2 h, before the window
    ]
    return pl.DataFrame({"mmsi": pl.Series([r[0] for r in rows], dtype=pl.UInt32),
                         "ts_utc": [at(r[1]) for r in rows], "zone_id": [r[2] for r in rows]},
                        schema_overrides={"zone_id": pl.String})


def test_anchorage_zone_counts_arrivals_departures_and_completed_and_ongoing_waits() -> None:
    k = zone_kpis(port(), "Z-ANC-IN-1", WINDOW, ZoneInputs(events=events(), in_zone_now=(3, 5)))
    assert k.get("ships_now").value == 2.0 and k.get("ships_now").at_end
    assert k.get("arrivals").value == 2.0  # B at 8, C at 9 (A at 2 and E at 4 are before, F after)
    assert k.get("departures").value == 2.0  # A at 7, B at 10
    assert k.get("wait_done_mean").value == pytest.approx(3.5)  # (5 + 2) / 2
    assert k.get("wait_done_max").value == pytest.approx(5.0)
    assert k.get("wait_now_mean").value == pytest.approx(5.5)  # C 12 − 9 = 3, E 12 − 4 = 8
    assert k.get("wait_now_max").value == pytest.approx(8.0)
    assert k.get("wait_now_max").at_end and k.get("wait_now_max").n == 2
    assert not k.get("arrivals").lower_bound  # events held from 1 h, before the window's 6 h
    assert sorted(k.items["wait_done"]["call_id"].to_list()) == ["A", "B"]  # the calls behind it


def test_port_area_occupancy_calls_and_cargo_apply_the_port_definitions_to_its_berths() -> None:
    inputs = ZoneInputs(events=events(), in_zone_now=(8,), berths_now={"TS-GEN-1": 8}, cargo=CARGO)
    k = zone_kpis(port(), "Z-PA-TIAOSHUN", WINDOW, inputs)
    assert k.get("berths_occupied_now").value == 1.0
    assert k.get("calls_alongside").value == 3.0  # G, H, I (J is at Xiashan)
    # vessel-hours in [6, 12): G 6→9 = 3, H 10→12 = 2, I 7→8 = 1 → 6 h over 3 berths × 6 h = 18 h
    assert k.get("occupancy").value == pytest.approx(100 * 6 / 18)
    # G left with 50 000 t; I left with unknown tonnage: a lower bound, not a made-up total
    cargo = k.get("cargo_t")
    assert cargo.value == 50_000.0 and cargo.lower_bound and cargo.n == 1


def test_gate_complex_trucks_lane_time_turn_and_queue() -> None:
    inputs = ZoneInputs(gate_rows=gate_rows(), gate_queue_now={"GATE-BM-IN": 3, "GATE-BM-OUT": 1})
    k = zone_kpis(port(), "Z-GATE-BM-CT", WINDOW, inputs)
    # in the window at GATE-BM-*: v1 out 6.5, v2 in 7, v2 out 7.5, v4 in 11.5 (v1 in 5.5 before, v4 out after)
    assert k.get("trucks").value == 4.0
    assert k.get("processing_mean").value == pytest.approx((30 + 90 + 30 + 120) / 4)  # 67.5 s
    # turns of visits whose gate-out is in the window: v1 60 min + 60 s lane = 61, v2 30 + 1.5 = 31.5
    assert k.get("turn_mean").value == pytest.approx((61 + 31.5) / 2)
    assert k.get("queue_now").value == 4.0 and k.get("queue_now").at_end


def test_channel_transits_need_a_fix_outside_before_and_after() -> None:
    items = channel_transits(positions(), "Z-CH-INNER", WINDOW)
    assert items["mmsi"].to_list() == [1, 3]
    k = zone_kpis(port(), "Z-CH-INNER", WINDOW, ZoneInputs(positions=positions(), in_zone_now=(4,)))
    assert k.get("transits").value == 2.0
    assert k.get("transit_mean").value == pytest.approx(1.25)  # (1 + 1.5) / 2


def test_unknown_is_none_with_a_reason_never_zero() -> None:
    k = zone_kpis(port(), "Z-ANC-IN-1", WINDOW, ZoneInputs())
    assert k.get("arrivals").value is None and k.get("arrivals").unknown == "no_events"
    assert k.get("wait_done_mean").unknown == "no_events"
    ch = zone_kpis(port(), "Z-CH-INNER", WINDOW, ZoneInputs())
    assert ch.get("transits").value is None and ch.get("transits").unknown == "no_history"
    gate = zone_kpis(port(), "Z-GATE-BM-CT", WINDOW, ZoneInputs())
    assert gate.get("trucks").unknown == "no_history" and gate.get("queue_now").unknown == "not_reported"
    area = zone_kpis(port(), "Z-PA-TIAOSHUN", WINDOW, ZoneInputs(events=events()))
    assert area.get("cargo_t").value is None and area.get("cargo_t").unknown == "no_history"
    only_unknown = ZoneInputs(events=events(), cargo=CARGO.filter(pl.col("call_id") != "G"))
    area = zone_kpis(port(), "Z-PA-TIAOSHUN", WINDOW, only_unknown)
    # G's row missing: G and I left, neither with known tonnes → unknown, not 0 t
    assert area.get("cargo_t").value is None and area.get("cargo_t").unknown == "cargo_unknown"
    # a mean over no item is unknown; a count of none is a real 0
    quiet = zone_kpis(port(), "Z-ANC-QP", WINDOW, ZoneInputs(events=events()))
    assert quiet.get("arrivals").value == 0.0
    mean = quiet.get("wait_done_mean")
    assert mean.value is None and mean.unknown == "none_in_window"


def test_event_figures_are_lower_bounds_when_the_events_held_start_inside_the_window() -> None:
    late = [r for r in EVENTS if r[0] >= 8]
    k = zone_kpis(port(), "Z-ANC-IN-1", WINDOW, ZoneInputs(events=events(late)))
    assert k.events_from_utc == at(8)
    assert k.get("arrivals").value == 2.0 and k.get("arrivals").lower_bound
    assert k.get("departures").value == 1.0  # B only: A's events are not held
