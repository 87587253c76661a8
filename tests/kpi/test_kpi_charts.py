"""Cockpit chart series on a hand-built engine state, expected values worked out in the comments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from geodata import load_port
from twin.engine import Engine, EngineConfig
from twin.kpi_charts import charts
from twin.state import CallRecord, Declaration, us_of

H = 3600 * 10**6


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_port(), EngineConfig())


def test_throughput_bars_by_local_hour_and_berth_cargo(engine: Engine) -> None:
    # now = 2026-11-28 06:30 UTC = 14:30 local; local day starts 2026-11-27 16:00 UTC
    now = us_of(datetime(2026, 11, 28, 6, 30, tzinfo=UTC))
    day0 = us_of(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))
    engine.calls = {
        # left the 400k ore berth at local 09:15 → hour 09, 350,000 t of iron ore
        "A": CallRecord("A", 1, day0, berth_ids=["XS-ORE-400K"], departed_us=day0 + 9 * H + 15 * 60 * 10**6),
        # left a container berth at local 09:40 → hour 09, 40,000 t
        "B": CallRecord("B", 2, day0, berth_ids=["BM-CT-1"], departed_us=day0 + 9 * H + 40 * 60 * 10**6),
        # left yesterday (local): not today
        "C": CallRecord("C", 3, day0 - 30 * H, berth_ids=["BM-CT-2"], departed_us=day0 - H),
        # still at berth: not counted
        "D": CallRecord("D", 4, day0, berth_ids=["XS-300"]),
        # no tonnage known: adds nothing
        "E": CallRecord("E", 5, day0, berth_ids=["XS-300"], departed_us=day0 + 2 * H),
    }
    engine.cargo = {
        "A": {"tonnes": 350_000.0, "teu": None},
        "B": {"tonnes": 40_000.0, "teu": 3_100.0},
        "C": {"tonnes": 9.0, "teu": None},
        "D": {"tonnes": 7.0, "teu": None},
    }
    tp = charts(engine, now)["throughput_by_hour"]
    assert tp["day_start_local"] == "2026-11-28"
    assert tp["hours"][9] == "09:00" and len(tp["hours"]) == 24
    assert set(tp["series"]) == {"iron_ore", "container"}
    assert tp["series"]["iron_ore"][9] == 350_000.0 and sum(tp["series"]["iron_ore"]) == 350_000.0
    assert tp["series"]["container"][9] == 40_000.0 and sum(tp["series"]["container"]) == 40_000.0


def test_customs_stage_medians_by_channel(engine: Engine) -> None:
    now = us_of(datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
    t0 = us_of(datetime(2026, 11, 28, 0, 0, tzinfo=UTC))
    engine.declarations = {
        # green: lodged +1 h, risk assessed +0.5 h, released +0.5 h
        "G1": Declaration(
            "G1",
            "sea",
            None,
            "released",
            "green",
            {"arrival": t0, "lodged": t0 + H, "risk_assessed": t0 + H + H // 2, "released": t0 + 2 * H},
        ),
        # green: lodged +3 h, risk +0.5 h, released +1.5 h → medians lodged 2 h, risk 0.5 h, released 1 h
        "G2": Declaration(
            "G2",
            "sea",
            None,
            "released",
            "green",
            {
                "arrival": t0,
                "lodged": t0 + 3 * H,
                "risk_assessed": t0 + 3 * H + H // 2,
                "released": t0 + 5 * H,
            },
        ),
        # red: inspection 2 h between start and end
        "R1": Declaration(
            "R1",
            "sea",
            None,
            "released",
            "red",
            {
                "lodged": t0,
                "risk_assessed": t0 + H,
                "inspection_start": t0 + 2 * H,
                "inspection_end": t0 + 4 * H,
                "released": t0 + 5 * H,
            },
        ),
        # not released yet: left out
        "Y1": Declaration(
            "Y1", "sea", None, "risk_assessed", "yellow", {"lodged": t0, "risk_assessed": t0 + H}
        ),
    }
    cs = charts(engine, now)["customs_stage_hours"]
    stages = cs["stages"]
    assert stages == ["lodged", "risk_assessed", "inspection_start", "inspection_end", "released"]
    green = dict(zip(stages, cs["by_channel"]["green"], strict=True))
    assert green == {
        "lodged": 2.0,
        "risk_assessed": 0.5,
        "inspection_start": None,
        "inspection_end": None,
        "released": 1.0,
    }
    red = dict(zip(stages, cs["by_channel"]["red"], strict=True))
    assert red == {
        "lodged": None,
        "risk_assessed": 1.0,
        "inspection_start": 1.0,
        "inspection_end": 2.0,
        "released": 1.0,
    }
    assert "yellow" not in cs["by_channel"]


def test_waiting_hours_are_completed_anchorage_stays(engine: Engine) -> None:
    now = us_of(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    engine.event_log = [
        (now - 20 * H, 1, "1-1", "anchorage_arrival", "ANC-IN-1"),
        (now - 5 * H, 1, "1-1", "anchorage_departure", "ANC-IN-1"),  # 15 h
        (now - 3 * H, 2, "2-1", "anchorage_arrival", "ANC-IN-2"),  # still at anchor: not a completed stay
        (now - 9 * 24 * H, 3, "3-1", "anchorage_arrival", "ANC-DG"),
        (now - 8 * 24 * H, 3, "3-1", "anchorage_departure", "ANC-DG"),  # ended 8 days ago: outside 7 days
    ]
    assert charts(engine, now)["waiting_hours"] == [15.0]
