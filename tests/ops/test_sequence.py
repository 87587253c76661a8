"""The desk's proposed channel sequence from a hand-built engine state (no browser, no bus)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.ops.sequence import sequence_html
from dashboards.ops.store import OpsState
from geodata import load_port
from twin.engine import VESSEL_COLUMNS
from twin.port import Port
from twin.schedule import PilotRules
from twin.schedule_demand import TYPICAL_STAY_H, estimate_dwt, proposed_sequence, requests_from_state
from twin.tide import ConstantTide

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
COLUMNS = list(VESSEL_COLUMNS)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def port() -> Port:
    return load_port()


@pytest.fixture(scope="module")
def snapshot(port: Port) -> dict[str, Any]:
    """A VLCC at anchor in the large-ship anchorage, a VLCC alongside XS-OIL-300K due out in 2 h (by the
    typical stay), a coaster approaching at 12 kn, and a ship with no draught (left out)."""
    anc = port.anchorages["ANC-OUT-LS"].area.centroid
    berth = port.berths["XS-OIL-300K"].pocket.centroid
    rows = [
        [413000001, "ANCHOR VLCC", "vlcc", anc.x, anc.y, 0.1, 0, 0, 333.0, 60.0, 15.0, "at_anchor",
         "Z-ANC-OUT", None, iso(NOW), False],
        [413000002, "BERTH VLCC", "vlcc", berth.x, berth.y, 0.0, 0, 0, 333.0, 60.0, 12.0, "at_berth",
         "Z-PA-XIASHAN", None, iso(NOW), False],
        [413000003, "SMALL ONE", "general", 110.95, 20.90, 12.0, 300, 300, 100.0, 16.0, 6.0, "approaching",
         None, None, iso(NOW), False],
        [413000004, "NO DRAUGHT", "general", anc.x, anc.y, 0.0, 0, 0, 100.0, 16.0, None, "at_anchor",
         "Z-ANC-OUT", None, iso(NOW), False],
    ]
    since = NOW - timedelta(hours=TYPICAL_STAY_H["vlcc"] - 2.0)
    return {"v": 1, "type": "snapshot", "seq": 0, "ts_utc": iso(NOW), "applied": 1,
            "vessels": {"columns": COLUMNS, "rows": rows},
            "berths": [{"id": "XS-OIL-300K", "mmsi": 413000002, "since_utc": iso(since)}],
            "anchorages": [{"id": "ANC-OUT-LS", "mmsis": [413000001, 413000004], "median_wait_h": 3.0}],
            "gates": [], "events": [], "kpis": {}, "alerts": [], "feeds": {}}


def test_requests_from_state_reads_anchor_berth_and_approach(port: Port, snapshot: dict[str, Any]) -> None:
    reqs, busy = requests_from_state(port, snapshot, NOW.timestamp())
    by = {r.mmsi: r for r in reqs}
    assert set(by) == {413000001, 413000002, 413000003} and busy == {}
    anchor, alongside, small = by[413000001], by[413000002], by[413000003]
    assert anchor.direction == "in" and anchor.earliest_s == NOW.timestamp() and not anchor.estimated
    assert anchor.berth_id is None and anchor.from_km is not None and anchor.from_km > 0
    # ready = all fast (35 h - 2 h ago) + typical VLCC stay 35 h = now + 2 h; an estimate
    assert alongside.direction == "out" and alongside.berth_id == "XS-OIL-300K" and alongside.estimated
    assert alongside.earliest_s == pytest.approx(NOW.timestamp() + 2 * 3600)
    assert small.direction == "in" and small.estimated and small.earliest_s > NOW.timestamp()
    assert alongside.dwt == pytest.approx(estimate_dwt(333.0)) and alongside.dwt >= 270_000


def test_the_two_vlccs_are_sequenced_one_after_the_other(port: Port, snapshot: dict[str, Any]) -> None:
    plan = proposed_sequence(port, snapshot, NOW.timestamp(), ConstantTide(3.0), pilots=PilotRules(count=5))
    by = {m.request.mmsi: m for m in plan.movements}
    a, b = by[413000001], by[413000002]
    assert a.entry_s == NOW.timestamp()  # at anchor, ready now, goes first
    assert a.exit_s is not None and b.entry_s == pytest.approx(a.exit_s + 1200, abs=1)  # one-way + margin
    assert b.reason == "one_way"


@pytest.mark.parametrize(("lang", "words"), [
    ("zh", ["未来24小时航道通航建议序列", "单向通航", "估计", "进港", "出港", "BERTH VLCC", "先到先服务"]),
    ("en", ["Proposed channel sequence", "one-way", "estimate", "inbound", "outbound", "ANCHOR VLCC",
            "first come first served"]),
])
def test_sequence_html_in_both_languages(port: Port, snapshot: dict[str, Any], lang: str,
                                         words: list[str]) -> None:
    html = sequence_html(port, snapshot, iso(NOW), lang, tide=ConstantTide(3.0))
    for w in words:
        assert w in html, w
    assert html.count("<tr>") == 1 + 3  # header + three movements
    assert "NO DRAUGHT" not in html
    assert 'data-testid="estimate"' in html


def test_sequence_html_takes_the_desks_state(port: Port, snapshot: dict[str, Any]) -> None:
    cols = snapshot["vessels"]["columns"]
    vessels = {int(r[0]): dict(zip(cols, r, strict=True)) for r in snapshot["vessels"]["rows"]}
    state = OpsState(version=1, ts_utc=iso(NOW), vessels=vessels,
                     berths={b["id"]: b for b in snapshot["berths"]})
    from_state = sequence_html(port, state, iso(NOW), "en", tide=ConstantTide(3.0))
    from_dict = sequence_html(port, snapshot, iso(NOW), "en", tide=ConstantTide(3.0))
    assert from_state == from_dict


def test_an_empty_port_says_so(port: Port) -> None:
    html = sequence_html(port, OpsState(), iso(NOW), "zh", tide=ConstantTide(3.0))
    assert "暂无待进出港船舶" in html and "sequence-table" not in html
