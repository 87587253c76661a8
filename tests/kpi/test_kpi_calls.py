"""Vessel KPIs on the hand-built history (tests/kpi/conftest.py); window [T0, T0 + 24 h) unless said."""

from __future__ import annotations

import polars as pl
import pytest
from kpi_history import T0, at

from twin.kpi import (
    KpiInputs,
    Window,
    anchorage_wait_h,
    berth_occupancy_pct,
    idle_before_departure_h,
    pre_berthing_h,
    throughput_t,
    throughput_teu,
    time_at_berth_h,
    turnaround_h,
    vessel_calls,
)


def test_throughput_counts_known_tonnes_of_calls_that_left_their_berth(kin: KpiInputs, day: Window) -> None:
    # Departures in the day: A-1 (23 h, 150 000 t), B-1 (10 h, 80 000 t), C-1 (9 h, tonnes unknown).
    # value = 150 000 + 80 000 = 230 000 t over 2 calls; C-1 is an unknown call, not a zero.
    r = throughput_t(kin, day)
    assert r.value() == 230_000.0
    assert r.value("calls") == 2
    assert r.value("unknown_calls") == 1
    assert r.explain()["call_id"].to_list() == ["B-1", "A-1"]
    assert r.definition.unit == "t" and "UNCTAD" in r.definition.source


def test_throughput_by_cargo_falls_back_on_the_berths_cargo(kin: KpiInputs, day: Window) -> None:
    # iron_ore: A-1 150 000 t (+ C-1 unknown: no cargo kind, berth B1 is iron_ore); crude: B-1 80 000 t.
    r = throughput_t(kin, day, by="cargo")
    assert r.value(group="iron_ore") == 150_000.0
    assert r.value("unknown_calls", group="iron_ore") == 1
    assert r.value(group="crude") == 80_000.0
    assert r.explain("iron_ore")["call_id"].to_list() == ["A-1"]


def test_teu_per_call(kin: KpiInputs, day: Window) -> None:
    # C-1 500 TEU; A-1 has 0 TEU (a bulk call adds nothing), B-1's TEU is unknown.
    r = throughput_teu(kin, day)
    assert (r.value(), r.value("calls"), r.value("unknown_calls")) == (500.0, 1, 1)
    assert r.explain()["call_id"].to_list() == ["C-1"]


def test_vessel_calls_are_arrivals_at_the_port_limit(kin: KpiInputs, day: Window) -> None:
    # Arrivals: A-1 (0 h), B-1 (2 h), D-1 (20 h); C-1 and E-1 were first seen inside the port.
    assert vessel_calls(kin, day).value() == 3.0
    by_class = vessel_calls(kin, day, by="vessel_class")
    assert by_class.value(group="cargo") == 2.0   # A-1, D-1
    assert by_class.value(group="tanker") == 1.0  # B-1
    assert by_class.explain("cargo")["call_id"].to_list() == ["A-1", "D-1"]


def test_anchorage_wait_sums_the_stays_of_a_call(kin: KpiInputs, day: Window) -> None:
    # 1→5 (4 h) + 6→11 (5 h) = 9 h; D-1 is still at anchor (not counted).
    r = anchorage_wait_h(kin, day)
    assert r.value("n") == 1
    assert r.value("median") == pytest.approx(9.0)
    assert r.value("p90") == pytest.approx(9.0)
    row = r.explain().row(0, named=True)
    assert (row["call_id"], row["stays"], row["anchorage_arrival_utc"], row["anchorage_departure_utc"]) == (
        "A-1", 2, at(1), at(11))
    assert anchorage_wait_h(kin, day, by="anchorage_id").value("median", "ANC-1") == pytest.approx(9.0)


def test_pre_berthing_time(kin: KpiInputs, day: Window) -> None:
    # A-1 0 → 13 = 13 h, B-1 2 → 4 = 2 h: mean = median = 7.5 h, p90 = 2 + 0.9 × (13 − 2) = 11.9 h.
    r = pre_berthing_h(kin, day)
    assert r.value("n") == 2
    assert r.value("mean") == pytest.approx(7.5)
    assert r.value("median") == pytest.approx(7.5)
    assert r.value("p90") == pytest.approx(11.9)


def test_time_at_berth_and_its_explanation(kin: KpiInputs, day: Window) -> None:
    # C-1 −5 → 9 = 14 h, B-1 4 → 10 = 6 h, A-1 13 → 23 = 10 h; sorted 6, 10, 14:
    # median 10, mean 10, p90 at rank 0.9 × 2 = 1.8 → 10 + 0.8 × 4 = 13.2 h.
    r = time_at_berth_h(kin, day)
    assert (r.value("n"), r.value("median"), r.value("mean")) == (3, 10.0, 10.0)
    assert r.value("p90") == pytest.approx(13.2)
    why = r.explain()
    assert why["call_id"].to_list() == ["C-1", "B-1", "A-1"]  # in order of departure
    assert why["hours"].to_list() == [14.0, 6.0, 10.0]
    assert why["all_fast_utc"][0] == at(-5)
    assert why["from_arrival"].to_list() == [False, True, True]  # C-1 was first seen moored: a lower bound
    # by terminal: T-ORE holds A-1 and C-1 (median 12), T-OIL B-1 (6).
    by_t = time_at_berth_h(kin, day, by="terminal")
    assert by_t.value("median", "T-ORE") == 12.0
    assert by_t.explain("T-OIL")["call_id"].to_list() == ["B-1"]


def test_turnaround_needs_both_port_limit_crossings(kin: KpiInputs, day: Window) -> None:
    # In [0, 24): only B-1 (2 → 12 = 10 h); A-1 leaves the port limit at 25 h.
    r = turnaround_h(kin, day)
    assert (r.value("n"), r.value("median")) == (1, 10.0)
    # In [0, 26): A-1 0 → 25 = 25 h joins: median (10 + 25) / 2 = 17.5 h.
    assert turnaround_h(kin, Window.custom(T0, at(26))).value("median") == pytest.approx(17.5)


def test_idle_before_departure_uses_cargo_complete_else_customs(kin: KpiInputs, day: Window) -> None:
    # terminal cargo complete 21 → departure 23 = 2 h. B-1: no terminal report; its declaration
    # D1 exits customs at 7 (between all fast 4 and departure 10) → 10 − 7 = 3 h (proxy).
    # C-1: neither → not counted. Median (2 + 3) / 2 = 2.5 h.
    r = idle_before_departure_h(kin, day)
    assert r.value("n") == 2
    assert r.value("median") == pytest.approx(2.5)
    why = r.explain().sort("call_id")
    assert why["complete_source"].to_list() == ["cargo_complete", "customs_proxy"]
    assert why["hours"].to_list() == [2.0, 3.0]
    assert "NOT one of the port-call events" in r.definition.note


def test_berth_occupancy_in_vessel_hours_and_metre_hours(kin: KpiInputs, day: Window) -> None:
    # Operational berths B1 (400 m) and B2 (300 m); B3 is closed. Stays clipped to [0, 24):
    # B1: C-1 0 → 9 = 9 h (length unknown), A-1 13 → 23 = 10 h (300 m); B2: B-1 4 → 10 = 6 h (250 m),
    # E-1 22 → end = 2 h (100 m, still at berth). Vessel-hours 27 ÷ (2 berths × 24 h) = 56.25 %.
    # Metre-hours 300×10 + 250×6 + 100×2 = 4 700 ÷ ((400 + 300) × 24 = 16 800) = 27.976… %.
    r = berth_occupancy_pct(kin, day)
    assert r.value() == pytest.approx(56.25)
    assert r.value("vessel_hours") == pytest.approx(27.0)
    assert r.value("berth_hours") == pytest.approx(48.0)
    assert r.value("metre_occupancy_pct") == pytest.approx(100 * 4700 / 16800)
    assert r.value("unknown_length_stays") == 1
    by_berth = berth_occupancy_pct(kin, day, by="berth_id")
    assert by_berth.value(group="B1") == pytest.approx(100 * 19 / 24)
    assert by_berth.value(group="B2") == pytest.approx(100 * 8 / 24)
    assert by_berth.value(group="B3") is None  # closed: not available, not 0 %
    assert by_berth.explain("B2")["call_id"].to_list() == ["B-1", "E-1"]
    by_area = berth_occupancy_pct(kin, day, by="port_area")
    assert by_area.value(group="xiashan") == pytest.approx(100 * 19 / 24)


def test_a_kpi_refuses_a_grouping_it_has_no_meaning_for(kin: KpiInputs, day: Window) -> None:
    with pytest.raises(ValueError, match="groups by"):
        berth_occupancy_pct(kin, day, by="vessel_class")
    with pytest.raises(ValueError, match="groups by"):
        throughput_t(kin, day, by="channel")


def test_an_empty_history_gives_no_durations_and_no_calls(day: Window) -> None:
    empty = KpiInputs()
    assert time_at_berth_h(empty, day).value("median") is None
    assert throughput_t(empty, day).value("calls") == 0
    assert isinstance(throughput_t(empty, day).explain(), pl.DataFrame)
