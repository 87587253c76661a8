"""An alert acknowledged at the ops desk shows acknowledged on the desk *and* on the cockpit's ticker.

One demo (simulator → engine → bus → cockpit + desk) started with TWIN_OPERATOR_TOKEN and
TWIN_INGEST_TOKEN. The simulated day raises no alert in its first hours, so the test makes one the
way a real feed would: AIS reports of a ship at 15 kn in the inner channel, sent one by one to the
bus's `/ingest` at the twin's (simulated) clock, raise `channel_speed:<mmsi>` (bundled rules: over
12.5 kn for 30 s of reports).
The cockpit and the desk are open side by side in two pages; neither is reloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from opskit import engine_snapshot, speeding_rows

from geodata import load_port
from tests.conftest import running_demo
from twin.engine import VESSEL_COLUMNS

INGEST_TOKEN = "zjport-demo-ingest-token-0123456789"
OPERATOR_TOKEN = "zjport-demo-operator-token-42"
MMSI = 412777003
ALERT_ID = f"channel_speed:{MMSI}"
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="module")
def guarded_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo with both tokens configured, at ×10 (a warning escalates after 10 simulated minutes:
    one real minute, longer than the test needs, so the alert's text stays as the picker shows it)."""
    tokens: dict[str, str | None] = {
        "TWIN_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "TWIN_INGEST_TOKEN": INGEST_TOKEN,
    }
    with running_demo(tmp_path_factory.mktemp("ackdemo"), env=tokens, speed=10.0, ops_port=0) as running:
        yield running


# how many polygons the desk's outline layer holds in the browser (-1: no outline layer)
HIGHLIGHT_POLYGONS_JS = """(() => {
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.data === undefined || m.data === null) continue;
      const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if ('_layer_zone-highlight' in d) return Array.from(d.polygon).length;
    }
  }
  return -1;
})"""


def _zone_polygons(demo: Any, alert: dict[str, Any]) -> list[Any]:
    """The polygons of the zone the engine puts the alert's ship in (the desk outlines them)."""
    zone_id = next(
        r[VESSEL_COLUMNS.index("zone_id")]
        for r in engine_snapshot(demo.live.url)["vessels"]["rows"]
        if r[0] == MMSI
    )
    area = load_port().zones[zone_id].area
    return list(getattr(area, "geoms", [area]))


def _engine_alert(bus_url: str) -> dict[str, Any] | None:
    return next((a for a in engine_snapshot(bus_url).get("alerts", []) if a["id"] == ALERT_ID), None)


def _raise_alert(bus_url: str) -> dict[str, Any]:
    import time

    from websockets.sync.client import connect

    now = datetime.fromisoformat(engine_snapshot(bus_url)["ts_utc"].replace("Z", "+00:00"))
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}"}
    with connect(bus_url + "/ingest", additional_headers=headers) as ws:
        # one message per report: the rule times the excess over the reports the engine has applied
        for row in speeding_rows(MMSI, now):
            ws.send(json.dumps({"v": 1, "kind": "ais_position", "rows": [row]}))
            assert "ack" in json.loads(ws.recv(timeout=15))
    for _ in range(60):
        alert = _engine_alert(bus_url)
        if alert is not None:
            return alert
        time.sleep(0.5)
    raise AssertionError(f"the engine raised no {ALERT_ID} from the ingested AIS")


def _cockpit_item_acked(page: Any) -> bool | None:
    """Whether the ticker item of the alert has class `acked`; None when the ticker does not show it."""
    return page.evaluate(
        """(id) => { const el = [...document.querySelectorAll('#alert-ticker .ticker-item')]
                       .find((e) => e.dataset.alertId === id);
                     return el ? el.classList.contains('acked') : null; }""",
        ALERT_ID,
    )


def test_an_ack_with_the_token_changes_the_alert_on_the_desk_and_the_cockpit(
    chrome: Any, guarded_demo: Any
) -> None:
    from test_ops_desk import open_desk

    demo = guarded_demo
    alert = _raise_alert(demo.live.url)
    assert alert["state"] != "acknowledged"

    # the desk first: its first session on a cold server, beside a rendering cockpit, can take long
    desk = open_desk(chrome, demo.ops_url, timeout_ms=90_000)
    cockpit = chrome.new_page(viewport={"width": 1920, "height": 1080})
    cockpit.goto(demo.cockpit_url)
    cockpit.wait_for_function(
        "(id) => [...document.querySelectorAll('#alert-ticker .ticker-item')]"
        ".some((e) => e.dataset.alertId === id)",
        arg=ALERT_ID,
        timeout=60_000,
    )
    cockpit.evaluate("window.__marker = 42")  # survives only if the page never reloads
    assert _cockpit_item_acked(cockpit) is False

    desk.get_by_text("告警台", exact=True).click()
    state_cell = desk.locator(f".alert-state[data-alert-id='{ALERT_ID}']")
    state_cell.wait_for(timeout=20_000)
    assert state_cell.get_attribute("data-state") != "acknowledged"
    picker = desk.locator("select:visible").nth(2)  # zone, kind, then the alert picker
    label = picker.locator("option", has_text=alert["text_zh"]).first.inner_text()
    picker.select_option(label=label)
    # the alert's context goes on the map: its zone outlined and a ring round the speeding ship
    desk.wait_for_function(HIGHLIGHT_POLYGONS_JS + "() >= 2", timeout=20_000)
    assert desk.evaluate(HIGHLIGHT_POLYGONS_JS + "()") == 1 + len(_zone_polygons(demo, alert))
    desk.locator("textarea").fill("已通知引航员减速 / pilot told to slow down")
    desk.locator("input[type=text]:visible").first.fill("VTS 值班员")

    # without the token: refused, and neither screen changes
    desk.get_by_role("button", name="确认", exact=True).click()
    message = desk.locator("[data-testid=ack-message]")
    message.get_by_text("操作员令牌不正确").wait_for(timeout=10_000)
    desk.wait_for_timeout(5000)  # two desk refreshes and several bus deltas
    assert state_cell.get_attribute("data-state") != "acknowledged"
    assert _cockpit_item_acked(cockpit) is False
    assert _engine_alert(demo.live.url)["state"] != "acknowledged"  # type: ignore[index]

    # with the token: the engine acknowledges it, and both screens follow the bus
    desk.locator("input[type=password]").fill(OPERATOR_TOKEN)
    desk.get_by_role("button", name="确认", exact=True).click()
    message.get_by_text("确认已送达引擎").wait_for(timeout=15_000)
    desk.locator(f".alert-state[data-alert-id='{ALERT_ID}'][data-state='acknowledged']").wait_for(
        timeout=20_000
    )
    cockpit.wait_for_function(
        """(id) => { const el = [...document.querySelectorAll('#alert-ticker .ticker-item')]
                       .find((e) => e.dataset.alertId === id);
                     return el && el.classList.contains('acked'); }""",
        arg=ALERT_ID,
        timeout=20_000,
    )
    assert cockpit.evaluate("window.__marker") == 42
    engine = _engine_alert(demo.live.url)
    assert engine is not None and engine["state"] == "acknowledged"
    assert engine["acknowledged_by"] == "VTS 值班员"
    SHOTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(SHOTS / "ack_desk_1366x768.png"))
    cockpit.screenshot(path=str(SHOTS / "ack_cockpit_1920x1080.png"))
    desk.close()
    cockpit.close()
