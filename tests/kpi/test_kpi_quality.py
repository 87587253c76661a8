"""Data-quality KPIs, windows and the catalogue of definitions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from kpi_history import T0, at

from feeds.schema import GATE_EVENT
from twin.kpi import (
    KPIS,
    KpiInputs,
    Window,
    compute_all,
    definitions,
    feed_counts_of,
    feed_quality,
    report,
    throughput_t,
    vessels_dark,
)


def test_feed_age_rate_and_rejected_share(kin: KpiInputs, day: Window) -> None:
    # ais: 50 rows at 10:00 (+ 5 rejected) and 10 rows at 23:59 → age 60 s at the window end,
    # 60 rows ÷ 1 440 min = 0.041 666 msg/min, rejected 5 ÷ 65. tide: its only row was at −1 h
    # (before the window): age 25 h, 0 rows in the window.
    r = feed_quality(kin, day)
    assert r.value("last_age_s", "ais") == pytest.approx(60.0)
    assert r.value("msgs_per_min", "ais") == pytest.approx(60 / 1440)
    assert r.value("rejected_share", "ais") == pytest.approx(5 / 65)
    assert r.value("last_age_s", "tide") == pytest.approx(25 * 3600)
    assert r.value("rows", "tide") == 0
    assert r.value("rejected_share", "tide") is None  # nothing read: no share, not 0
    assert r.explain("ais")["rows"].to_list() == [50, 10]


def test_vessels_gone_dark_at_the_window_end(kin: KpiInputs, day: Window) -> None:
    # D-1 (404) is flagged dark, last seen at 23:00 → silent 3 600 s at 24:00.
    r = vessels_dark(kin, day)
    assert r.value() == 1.0
    assert r.explain()["silent_s"].to_list() == [3600.0]


def test_feed_counts_of_a_batch_count_rows_per_second_and_rejected_at_the_batch_time() -> None:
    gate = pl.DataFrame({"ts_utc": [at(1), at(1), at(2)], "gate_id": ["G"] * 3, "lane": [1] * 3,
                         "direction": ["in"] * 3, "visit_id": ["a", "b", "c"], "truck_id": [None] * 3,
                         "container_ids": [[], [], []], "outcome": ["accepted"] * 3,
                         "processing_s": [1.0] * 3}, schema=GATE_EVENT)
    counts = feed_counts_of({"gate_event": gate}, at(3), {"gate": 2})
    assert counts.select("ts_utc", "rows", "rejected").rows() == [(at(1), 2, 0), (at(2), 1, 0), (at(3), 0, 2)]


def test_windows_today_last_24_h_and_7_days() -> None:
    now = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)  # 18:30 in Zhanjiang
    assert Window.at("today", now).start_utc == datetime(2026, 11, 27, 16, tzinfo=UTC)  # local midnight
    assert Window.at("24h", now).start_utc == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert Window.at("7d", now).start_utc == datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
    late = datetime(2026, 11, 28, 17, tzinfo=UTC)  # 01:00 next local day
    assert Window.at("today", late).start_utc == datetime(2026, 11, 28, 16, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        Window.at("today", datetime(2026, 11, 28))


def test_today_window_picks_the_local_day(kin: KpiInputs) -> None:
    # now = 12:00 UTC: today = [27th 16:00, 28th 12:00) = hours −8 … 12 → departures C-1 (9 h, tonnes
    # unknown) and B-1 (10 h, 80 000 t); A-1 leaves at 23 h, after now.
    r = throughput_t(kin, Window.at("today", at(12)))
    assert (r.value(), r.value("calls"), r.value("unknown_calls")) == (80_000.0, 1, 1)


def test_every_kpi_has_one_written_definition_with_a_source() -> None:
    defs = definitions()
    assert set(defs) == set(KPIS)
    for d in defs.values():
        assert d.formula and d.uses and d.source and d.unit and d.window_rule, d.id


def test_compute_all_groups_what_can_be_grouped_and_reports_json(kin: KpiInputs, day: Window) -> None:
    by_terminal = compute_all(kin, day, by="terminal")
    assert "berth_occupancy_pct" in by_terminal and "gate_tx_per_hour" not in by_terminal
    doc = report(compute_all(kin, day))
    assert set(doc) == set(KPIS)
    assert doc["throughput_t"]["values"] == [{"value": 230000.0, "calls": 2, "unknown_calls": 1}]
    assert doc["throughput_t"]["definition"]["unit"] == "t"
    assert doc["feed_quality"]["window"]["start_utc"] == "2026-11-28T00:00:00Z"
    assert day.start_utc == T0


def test_docs_kpi_md_carries_every_definition_word_for_word() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "kpi.md").read_text(encoding="utf-8")
    for d in definitions().values():
        assert f"`{d.id}`" in text, d.id
        assert d.formula in text, d.id
        assert d.source in text, d.id
        assert f"**Group by**: {', '.join(d.group_fields)}." in text, d.id
