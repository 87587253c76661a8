"""The zone page's KPI block (dashboards/ops/zone_kpi.py) from a hand-made OpsState: every figure says
its window, unknown shows "—" with why, a lower bound shows ≥ (no browser, no bus)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import MappingProxyType

from dashboards.ops.store import OpsState
from dashboards.ops.zone_kpi import compute, events_frame, zone_kpi_html
from geodata import load_port

NOW = "2026-11-28T12:00:00Z"  # 20:00 in Zhanjiang


def _state() -> OpsState:
    events = (
        {"ts_utc": "2026-11-28T08:00:00Z", "mmsi": 2, "call_id": "B", "event": "anchorage_arrival",
         "location_id": "ANC-IN-1"},
        {"ts_utc": "2026-11-28T10:00:00Z", "mmsi": 2, "call_id": "B", "event": "anchorage_departure",
         "location_id": "ANC-IN-1"},
        {"ts_utc": "2026-11-28T09:00:00Z", "mmsi": 3, "call_id": "C", "event": "anchorage_arrival",
         "location_id": "ANC-IN-1"},
    )
    vessels = {3: {"mmsi": 3, "zone_id": "Z-ANC-IN-1"}}
    return OpsState(version=1, ts_utc=NOW, vessels=MappingProxyType(vessels), events=events)


def test_events_frame_parses_the_desks_events() -> None:
    frame = events_frame(_state())
    assert frame is not None and frame.height == 3
    assert frame["ts_utc"].min() == datetime(2026, 11, 28, 8, tzinfo=UTC)
    assert events_frame(OpsState()) is None


def test_the_block_names_each_figures_window_and_marks_lower_bounds() -> None:
    port = load_port()
    k = compute(port, _state(), "Z-ANC-IN-1", 6, None, None)
    assert k is not None
    # the 6 h up to and including the shown instant: [06:00:01, 12:00:01) UTC
    assert k.window.start_utc == datetime(2026, 11, 28, 6, 0, 1, tzinfo=UTC)
    # events held from 08:00, after the window start: counts are lower bounds
    assert k.get("arrivals").value == 2.0 and k.get("arrivals").lower_bound
    html = zone_kpi_html(k, "en")
    assert "data-end='2026-11-28T12:00:01Z'" in html
    rows = re.findall(r"<tr data-key='(\w+)'.*?</tr>", html)
    assert rows[0] == "ships_now"
    assert "now, at 20:00:01" in html and "last 6 h, 14:00:01–20:00:01" in html
    assert "≥ 2" in html and "The desk holds port-call events from 2026-11-28 16:00:00" in html
    # B's wait of 2 h is the only completed one; C waits 3 h (plus the second) so far
    assert "≥ 2.0 h" in html


def test_unknown_shows_a_dash_and_why_never_zero() -> None:
    port = load_port()
    k = compute(port, _state(), "Z-GATE-BM-CT", 1, None, None)  # no history store
    assert k is not None
    html = zone_kpi_html(k, "zh")
    row = re.search(r"<tr data-key='trucks'.*?</tr>", html)
    assert row is not None
    assert "data-value=''" in row.group(0) and "— " in row.group(0) and "未配置历史库" in row.group(0)
    assert "近1小时" in html
