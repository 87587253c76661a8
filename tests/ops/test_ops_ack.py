"""Acknowledging an alert at the desk reaches the engine through the bus, only with the operator token.

A real engine with the port's alert rules behind a real bus (no simulator); a ship fed through
`/ingest` at 15 kn in the inner channel raises `channel_speed:<mmsi>` at once (rule below); the
desk acknowledges it in a browser and the engine's own stream then says `acknowledged`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opskit import engine_snapshot, speeding_rows

from feeds.live import LiveHandle, real_engine_factory, start_live
from geodata import load_port

INGEST_TOKEN = "zjport-ops-ingest-token-0123456789"
OPERATOR_TOKEN = "zjport-ops-operator-token-42"
MMSI = 412777002
ALERT_ID = f"channel_speed:{MMSI}"
# the bundled channel-speed rule, but raised at once (the bundled one waits 30 s of the twin's clock)
RULES = Path(__file__).parents[1] / "data" / "alerts" / "channel_speed_at_once.toml"


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHandle, Any]]:
    from dashboards.ops.server import start_ops_server

    tmp = tmp_path_factory.mktemp("opsack")
    port = load_port()
    live = start_live(
        port,
        ws_port=0,
        journal_dir=tmp / "journal",
        token=INGEST_TOKEN,
        make_engine=real_engine_factory(port, RULES),
    )
    ops = start_ops_server(
        port, live.url + "/stream", http_port=0, operator_token=OPERATOR_TOKEN, ingest_token=INGEST_TOKEN
    )
    yield live, ops
    ops.stop()
    live.stop()


def _just_before_now() -> datetime:
    # the twin's clock is the wall clock without a simulator: the reports end 5 s ago
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)


def _alert(bus_url: str) -> dict[str, Any] | None:
    return next((a for a in engine_snapshot(bus_url).get("alerts", []) if a["id"] == ALERT_ID), None)


def test_an_acknowledgement_with_the_token_reaches_the_engine(chrome: Any, twin: Any) -> None:
    from websockets.sync.client import connect

    live, ops = twin
    with connect(live.url + "/ingest", additional_headers={"Authorization": f"Bearer {INGEST_TOKEN}"}) as ws:
        ws.send(json.dumps({"v": 1, "kind": "ais_position", "rows": speeding_rows(MMSI, _just_before_now())}))
        assert "ack" in json.loads(ws.recv(timeout=15))
    page = chrome.new_page(viewport={"width": 1366, "height": 768})
    page.goto(ops.url)
    page.get_by_text("告警台", exact=True).click()
    page.locator("[data-testid=desk-alerts]").get_by_text("警告").wait_for(timeout=20_000)
    page.locator("select:visible").nth(2).select_option(index=1)  # zone, kind, then the alert picker
    page.locator("input[type=password]").fill("not the token")
    page.locator("textarea").fill("已通知引航员 / pilot informed")
    page.locator("input[type=text]:visible").first.fill("VTS 值班员")
    page.get_by_role("button", name="确认", exact=True).click()
    message = page.locator("[data-testid=ack-message]")
    message.get_by_text("操作员令牌不正确").wait_for(timeout=10_000)
    assert _alert(live.url)["state"] == "raised"  # type: ignore[index]

    page.locator("input[type=password]").fill(OPERATOR_TOKEN)
    page.get_by_role("button", name="确认", exact=True).click()
    message.get_by_text("确认已送达引擎").wait_for(timeout=15_000)
    for _ in range(50):
        alert = _alert(live.url)
        if alert and alert["state"] == "acknowledged":
            break
        page.wait_for_timeout(200)
    assert alert is not None and alert["state"] == "acknowledged" and alert["acknowledged_by"] == "VTS 值班员"
    page.locator("[data-testid=desk-alerts]").get_by_text("已确认").wait_for(timeout=10_000)
    page.screenshot(path=str(Path(__file__).resolve().parent / "screenshots" / "alerts_acked_1366x768.png"))
    page.close()
