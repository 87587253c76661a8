"""Gate and customs KPIs on the hand-built history (kpi_history.py); window [T0, T0 + 24 h)."""

from __future__ import annotations

import pytest

from twin.kpi import (
    KpiInputs,
    Window,
    customs_release_h,
    customs_stage_h,
    gate_boxes,
    gate_tx_per_hour,
    truck_turn_min,
)


def test_gate_transactions_per_hour_by_gate_and_direction(kin: KpiInputs, day: Window) -> None:
    # In the day: v1 in/out, v2 in/out, v3 in (rejected)/out, v4 in (23:50) = 7 passages; v4's out is
    # the next day. 7 ÷ 24 h = 0.291 666… tx/h; in 4, out 3.
    r = gate_tx_per_hour(kin, day)
    assert r.value("transactions") == 7
    assert r.value() == pytest.approx(7 / 24)
    by_dir = gate_tx_per_hour(kin, day, by="direction")
    assert by_dir.value("transactions", "in") == 4
    assert by_dir.value("transactions", "out") == 3
    assert by_dir.explain("out")["visit_id"].to_list() == ["v1", "v3", "v2"]
    assert gate_tx_per_hour(kin, day, by="gate").value("transactions", "G-IN") == 4


def test_truck_turn_time_pairs_gate_in_and_gate_out_by_visit(kin: KpiInputs, day: Window) -> None:
    # v1: 8:00 → 8:30 = 30 min + 60 s in-lane = 31 min; v2: 9:00 → 10:00 = 60 + 2 = 62 min;
    # v3: 9:10 → 9:15 = 5 + 0.5 = 5.5 min; v4 leaves the next day (not counted).
    # Sorted 5.5, 31, 62: median 31, mean 32.8333…, p90 = 31 + 0.8 × 31 = 55.8 min.
    r = truck_turn_min(kin, day)
    assert r.value("n") == 3
    assert r.value("median") == pytest.approx(31.0)
    assert r.value("mean") == pytest.approx(98.5 / 3)
    assert r.value("p90") == pytest.approx(55.8)
    why = r.explain()
    assert why["visit_id"].to_list() == ["v1", "v3", "v2"]  # in order of gate-out: 8:30, 9:15, 10:00
    assert why["gate_to_gate_min"].to_list() == pytest.approx([30.0, 5.0, 60.0])


def test_gate_boxes_and_teu_from_iso_6346_size_codes_where_known(kin: KpiInputs, day: Window) -> None:
    # Accepted passages in the day carry CSQU3054383 (22G1: 1 TEU), MSKU1234565 (45G1: 2 TEU),
    # TGHU7654320 (size unknown), OOLU8802139 (L5G1, 45 ft: 2 TEU); v3's box was turned away.
    # 4 boxes, 5 TEU of known size, 1 box of unknown size.
    r = gate_boxes(kin, day)
    assert (r.value(), r.value("teu"), r.value("unknown_size_boxes")) == (4.0, 5.0, 1)
    assert sorted(r.explain()["container_id"].to_list()) == ["CSQU3054383", "MSKU1234565", "OOLU8802139",
                                                             "TGHU7654320"]


def test_customs_release_time_by_channel_and_mode(kin: KpiInputs, day: Window) -> None:
    # D1 arrival 1 → released 3 = 2 h (green, sea); D2 2 → 8 = 6 h (red, sea); D3 has no arrival:
    # lodged 4 → released 5 = 1 h (green, road); D4 is not released.
    # All: 1, 2, 6 → median 2, mean 3, p90 = 2 + 0.8 × 4 = 5.2 h.
    r = customs_release_h(kin, day)
    assert (r.value("n"), r.value("median"), r.value("mean")) == (3, 2.0, 3.0)
    assert r.value("p90") == pytest.approx(5.2)
    by_channel = customs_release_h(kin, day, by="channel")
    assert by_channel.value("median", "green") == pytest.approx(1.5)
    assert by_channel.value("median", "red") == pytest.approx(6.0)
    assert by_channel.explain("green")["declaration_id"].to_list() == ["D1", "D3"]
    assert by_channel.explain("green")["start_stage"].to_list() == ["arrival", "lodged"]
    by_mode = customs_release_h(kin, day, by="mode")
    assert by_mode.value("median", "sea") == pytest.approx(4.0)
    assert by_mode.value("median", "road") == pytest.approx(1.0)


def test_customs_time_in_each_stage(kin: KpiInputs, day: Window) -> None:
    # arrival → next stage: D1 1 → 1.5 (0.5 h), D2 2 → 3 (1 h), D4 20 → 21 (1 h): n 3, median 1 h.
    # released → exit: D1 3 → 7 = 4 h. inspection_start → inspection_end: D2 5 → 7 = 2 h.
    r = customs_stage_h(kin, day)
    by_stage = {row["stage"]: row for row in r.table.iter_rows(named=True)}
    assert (by_stage["arrival"]["n"], by_stage["arrival"]["median"]) == (3, 1.0)
    assert by_stage["released"]["median"] == 4.0
    assert by_stage["inspection_start"]["median"] == 2.0
    assert list(by_stage) == ["arrival", "lodged", "risk_assessed", "inspection_start", "inspection_end",
                              "released"]  # in WCO order
    red = customs_stage_h(kin, day, by="channel").explain("red")
    assert red["stage"].to_list() == ["arrival", "lodged", "risk_assessed", "inspection_start",
                                      "inspection_end"]
