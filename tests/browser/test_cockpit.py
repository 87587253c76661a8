"""The cockpit in a real headless Chromium, on the real demo (simulator → engine → bus → cockpit)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from browserkit import open_page, screenshot_array, wait_for_seq

pytestmark = pytest.mark.browser

BACKGROUND = np.array([11, 20, 32])  # the page and map background, #0b1420


def _format_tile(value: float | None, unit: str, lang: str) -> tuple[str, str]:
    """How a wall display shows a KPI, written independently of the page's script:
    tonnes in 万吨 in Chinese (as Chinese port statistics do), ≥100 rounded with thousands
    separators, whole numbers as they are, the rest with one decimal."""
    if value is None:
        return "—", ""
    units_zh = {"ships": "艘", "vessels": "艘", "tx/h": "次/小时", "/h": "次/小时", "h": "小时",
                "TEU": "标箱", "alerts": "条", "m": "米"}
    if unit == "t" and lang == "zh":
        value, unit = value / 10000, "万吨"
    elif lang == "zh":
        unit = units_zh.get(unit, unit)
    if abs(value) >= 100:
        shown = f"{round(value):,}"
    elif float(value).is_integer():
        shown = str(int(value))
    else:
        shown = f"{value:.1f}"
    return shown, unit


class BusRecorder:
    """Our own subscriber of the engine's bus: the merged KPIs after every message, by engine time."""

    def __init__(self, url: str) -> None:
        import threading

        self.url = url
        self.by_ts: dict[str, dict[str, Any]] = {}
        self.latest_ts = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from websockets.sync.client import connect

        kpis: dict[str, Any] = {}
        with connect(self.url, max_size=2**25) as ws:
            while not self._stop.is_set():
                try:
                    msg = json.loads(ws.recv(timeout=1.0))
                except TimeoutError:
                    continue
                if msg["type"] == "snapshot":
                    kpis = dict(msg.get("kpis") or {})
                else:
                    for key, kpi in (msg.get("kpis") or {}).items():
                        kpis[key] = {**kpis.get(key, {}), **kpi}
                self.by_ts[msg["ts_utc"]] = json.loads(json.dumps(kpis))
                self.latest_ts = msg["ts_utc"]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_cockpit_loads_offline_and_the_map_is_live(chrome: Any, demo: Any) -> None:
    page, problems = open_page(chrome, demo.cockpit_url)
    wait_for_seq(page, 3)
    page.evaluate("window.__marker = 'no-reload'")
    page.wait_for_timeout(1500)
    first = screenshot_array(page, "#twin-map")
    before = page.evaluate(
        "Object.fromEntries([...window.__twin.vessels.values()].map(v => [v.mmsi, [v.lon, v.lat]]))"
    )
    page.wait_for_timeout(4000)
    second = screenshot_array(page, "#twin-map")
    after = page.evaluate(
        "Object.fromEntries([...window.__twin.vessels.values()].map(v => [v.mmsi, [v.lon, v.lat]]))"
    )

    assert problems == []  # nothing failed, nothing fetched off this machine
    drawn = (np.abs(first - BACKGROUND).sum(axis=2) > 40).mean()
    assert drawn > 0.3, f"deck.gl canvas looks blank ({drawn:.1%} drawn)"
    moved = [m for m in before if m in after and before[m] != after[m]]
    assert len(before) > 20 and len(moved) >= 3, (len(before), len(moved))
    changed = (np.abs(first - second).sum(axis=2) > 30).mean()
    assert changed > 0.0005, f"the map did not change between screenshots ({changed:.3%})"
    assert page.evaluate("window.__marker") == "no-reload"
    page.close()


def test_tile_values_equal_what_the_engine_sends(chrome: Any, demo: Any) -> None:
    import time

    recorder = BusRecorder(demo.live.url + "/stream")
    try:
        page, _ = open_page(chrome, demo.cockpit_url)
        wait_for_seq(page, 3)
        page.wait_for_function("document.querySelectorAll('#kpi-tiles .tile').length >= 8")
        shown = page.evaluate("""(() => {
            const out = {};
            for (const t of document.querySelectorAll('#kpi-tiles .tile'))
                out[t.dataset.kpi] = [t.querySelector('.v').textContent, t.querySelector('.u').textContent];
            return {ts: window.__twin.ts, tiles: out};
        })()""")
        deadline = time.monotonic() + 15
        while recorder.latest_ts < shown["ts"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert shown["ts"] in recorder.by_ts, "our subscriber never saw the engine time the page shows"
        engine = recorder.by_ts[shown["ts"]]
    finally:
        recorder.stop()
    assert len(shown["tiles"]) >= 8 and set(shown["tiles"]) == set(engine)
    for kpi_id, tile in shown["tiles"].items():
        kpi = engine[kpi_id]
        assert tuple(tile) == _format_tile(kpi.get("value"), kpi.get("unit") or "", "zh"), kpi_id
    page.close()


def test_language_switch_changes_the_labels(chrome: Any, demo: Any) -> None:
    page, _ = open_page(chrome, demo.cockpit_url)
    wait_for_seq(page, 1)
    page.wait_for_function("document.querySelectorAll('#kpi-tiles .tile').length >= 8")
    assert page.locator("h1").inner_text() == "湛江港智慧口岸 · 数字孪生驾驶舱"
    zh_labels = page.locator(".tile-label").all_inner_texts()
    page.click("#lang-button")
    page.wait_for_function("window.__twin.lang === 'en'")
    assert page.locator("h1").inner_text() == "Zhanjiang Smart Port of Entry · Digital Twin Cockpit"
    en_labels = page.locator(".tile-label").all_inner_texts()
    kpis = page.evaluate("Object.values(window.__twin.kpis)")
    assert zh_labels == [k["label_zh"] for k in kpis]  # the engine's own labels, in its order
    assert en_labels == [k["label_en"] for k in kpis]
    assert "Vessels at anchor" in en_labels and zh_labels != en_labels
    assert page.locator("#lang-button").inner_text() == "中文"
    page.close()


def test_kiosk_shows_no_controls_and_tours(chrome: Any, demo: Any) -> None:
    page, problems = open_page(chrome, demo.cockpit_url + "kiosk")
    wait_for_seq(page, 1)
    assert not page.locator("#lang-button").is_visible()
    assert not page.locator("#tour-button").is_visible()
    assert page.evaluate("window.__twin.tour") is True
    assert problems == []
    page.close()


def test_browser_hull_matches_the_layer_function(chrome: Any, demo: Any) -> None:
    from layers.vessels import hull_polygons

    page, _ = open_page(chrome, demo.cockpit_url)
    wait_for_seq(page, 1)
    cases = [
        (110.5, 21.0, 90.0, 200.0, 30.0),
        (110.41, 21.15, 313.5, 333.0, 60.0),
        (110.7, 20.98, None, 50.0, 9.0),
    ]
    for lon, lat, heading, length, beam in cases:
        js = np.array(
            page.evaluate(f"window.__twinHull({lon}, {lat}, {json.dumps(heading)}, {length}, {beam})")
        )
        py = hull_polygons(
            np.array([lon]),
            np.array([lat]),
            np.array([np.nan if heading is None else heading]),
            np.array([length]),
            np.array([beam]),
        )[0]
        assert np.allclose(js, py, atol=1e-9)
    page.close()


def test_tiles_go_stale_when_the_engine_stops_and_recover_when_it_restarts(
    chrome: Any, tmp_path: Any
) -> None:
    from datetime import UTC, datetime
    from urllib.parse import urlparse

    from dashboards.demo import start_demo
    from feeds.live import start_live
    from feeds.simulate import SimConfig

    demo = start_demo(
        seed=3,
        speed=60.0,
        hours=24.0,
        start=datetime(2026, 11, 28, tzinfo=UTC),
        cockpit_port=0,
        bus_port=0,
        data_dir=tmp_path,
        stale_after_s=5.0,
    )
    restarted = None
    try:
        page, _ = open_page(chrome, demo.cockpit_url)
        wait_for_seq(page, 2)
        page.wait_for_function("document.querySelectorAll('#kpi-tiles .tile').length >= 8")
        tiles = page.locator("#kpi-tiles .tile").count()
        # a sparse feed (customs) may already be stale by the engine's own rule; most tiles are not
        stale_before = page.locator("#kpi-tiles .tile.stale").count()
        assert stale_before <= 2
        bus_port = urlparse(demo.live.url).port
        demo.live.stop()
        # within the configured time every tile says stale and the banner says we are reconnecting
        page.wait_for_function(
            f"document.querySelectorAll('#kpi-tiles .tile.stale').length === {tiles}", timeout=8000
        )
        assert page.locator("#conn-status").inner_text() == "与孪生引擎的连接中断，正在重连…"
        assert page.evaluate("window.__marker = 1") == 1
        # the engine comes back on the same address from its journal: the page reconnects by itself
        port = __import__("geodata").load_port()
        restarted = start_live(
            port,
            simulate=SimConfig(seed=3, start_utc=datetime(2026, 11, 28, tzinfo=UTC), hours=24.0),
            speed=60.0,
            step_s=6.0,
            ws_port=bus_port,
            journal_dir=tmp_path / "journal",
            history_dir=tmp_path / "history",
        )
        page.wait_for_function("window.__twin.reconnects >= 1 && window.__twin.connected", timeout=20000)
        assert page.locator("#conn-status").inner_text() == "已重新连接孪生引擎"
        page.wait_for_function(
            f"document.querySelectorAll('#kpi-tiles .tile.stale').length <= {max(stale_before, 2)}",
            timeout=10000,
        )
        assert page.evaluate("window.__marker") == 1  # same page: no reload
        page.close()
    finally:
        if restarted is not None:
            restarted.stop()
        demo.cockpit_server.shutdown()


def test_the_camera_a_user_moved_stays_put_through_live_updates(chrome: Any, demo: Any) -> None:
    page, _ = open_page(chrome, demo.cockpit_url)
    wait_for_seq(page, 2)
    box = page.locator("#twin-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 220, cy - 90, steps=12)
    page.mouse.up()
    page.wait_for_timeout(800)
    camera = (
        "(() => { const v = window.__twin.deck.getViewports()[0];"
        " return [v.longitude, v.latitude, v.zoom]; })()"
    )
    moved = page.evaluate(camera)
    seq = page.evaluate("window.__twin.seq")
    page.wait_for_function(f"window.__twin.seq >= {seq + 3}", timeout=30_000)  # several live updates later
    page.wait_for_timeout(500)
    assert page.evaluate(camera) == pytest.approx(moved, abs=1e-9)
    initial = page.evaluate("window.__twin.config.views.overview")
    assert abs(moved[0] - initial["longitude"]) > 0.01  # the drag did move it away from the preset
    page.close()


def test_tiles_of_a_feed_that_stops_turn_stale_within_its_age(chrome: Any, tmp_path: Any) -> None:
    """The engine keeps running; only the AIS feed stops. AIS-fed tiles go stale after the engine's
    `ais_stale_s` (set to 6 s here), the gate-fed tile does not depend on AIS."""
    import threading
    import time
    from datetime import UTC, datetime, timedelta

    from websockets.sync.client import connect
    from werkzeug.serving import make_server

    from dashboards.cockpit.app import create_app
    from feeds.live import start_live
    from geodata import load_port
    from twin.engine import Engine, EngineConfig

    port = load_port()
    config = EngineConfig(ais_stale_s=6.0)

    def make_engine(snapshot: bytes | None) -> Engine:
        return Engine(port, config)

    token = "zjport-stale-test-token-0123456789"
    live = start_live(port, ws_port=0, journal_dir=tmp_path / "journal", token=token, make_engine=make_engine)
    app = create_app(port, live.url + "/stream", stale_after_s=120.0)  # silence detection out of the way
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page, _ = open_page(chrome, f"http://127.0.0.1:{server.server_port}/")
        page.wait_for_function("document.querySelectorAll('#kpi-tiles .tile').length >= 8")

        # a ship reporting in the channel for 3 s of wall time, then silence (sync client: Playwright's
        # sync API already runs an event loop in this thread)
        with connect(live.url + "/ingest", additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            for i in range(3):
                lon, lat = port.channel.position_at(50.0 + 0.05 * i)
                row = {"ts_utc": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(), "mmsi": 412888001,
                       "lat": lat, "lon": lon, "sog_kn": 10.0, "cog_deg": 300.0, "heading_deg": 300.0,
                       "nav_status": 0, "source": "test"}
                ws.send(json.dumps({"v": 1, "kind": "ais_position", "rows": [row]}))
                ws.recv(timeout=10)
                time.sleep(1.0)
        ais_tile = "#kpi-tiles .tile[data-kpi='vessels_in_channel']"
        page.wait_for_function(
            f"!document.querySelector(\"{ais_tile}\").classList.contains('stale')", timeout=10000
        )
        assert page.locator(ais_tile + " .v").inner_text() == "1"  # the engine counts our ship in the channel
        page.wait_for_function(
            f"document.querySelector(\"{ais_tile}\").classList.contains('stale')", timeout=15000
        )
        assert page.locator(ais_tile + " .stale-tag").inner_text() == "数据过期"
        assert page.evaluate("window.__twin.connected") is True  # the bus is up: it is the feed that stopped
        page.close()
    finally:
        server.shutdown()
        live.stop()
