"""The ops desk in a real browser on the real demo: zones from the list and the map, the alerts desk."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from opskit import engine_snapshot, vessels_by_zone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

SHOTS = Path(__file__).resolve().parent / "screenshots"
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:http://127.0.0.1")
MAP_X0 = 220  # the zone list's width: the map starts right of it


def open_desk(chrome: Any, url: str, width: int = 1366, height: int = 768, timeout_ms: int = 30_000) -> Any:
    """A new page on the desk, once its map and its live badge show (no request may leave the machine)."""
    page = chrome.new_page(viewport={"width": width, "height": height})
    off_machine: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else off_machine.append(r.url))
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text[:300]) if m.type == "error" else None)
    page.goto(url)
    try:
        page.locator("canvas").first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"no map canvas; console errors: {console}") from None
    page.locator("[data-testid=live]").wait_for(timeout=timeout_ms)
    page.__dict__["off_machine"] = off_machine
    return page


@pytest.fixture(scope="module")
def desk(chrome: Any, demo: Any) -> Iterator[Any]:
    """One desk page at 1366×768 shared by the tests below (each leaves it usable)."""
    page = open_desk(chrome, demo.ops_url)
    yield page
    page.close()


def shown_mmsis(page: Any) -> set[int]:
    return {int(x) for x in page.locator("[data-testid=zone-vessels] .mmsi").all_inner_texts()}


def test_zone_from_the_list_shows_the_vessels_the_engine_places_there(desk: Any, demo: Any) -> None:
    page = desk
    by_zone = vessels_by_zone(engine_snapshot(demo.live.url))
    zone_id = max((z for z in by_zone if z != "Z-PORT-LIMIT"), key=lambda z: len(by_zone[z]))
    from geodata import load_port

    name = load_port().zones[zone_id].name_zh
    page.get_by_role("button", name=name, exact=True).click()
    page.locator(f"[data-testid=zone-title][data-zone='{zone_id}']").wait_for(timeout=10_000)
    # Ships move between the two reads: compare again until the page and a fresh snapshot agree.
    for _ in range(8):
        page.wait_for_timeout(2500)
        shown = shown_mmsis(page)
        engine = vessels_by_zone(engine_snapshot(demo.live.url)).get(zone_id, set())
        if shown == engine:
            break
    assert shown == engine and shown, (zone_id, shown, engine)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "zone_1366x768.png"))
    assert not page.__dict__["off_machine"]
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name=load_port().zones[zone_id].name_en).wait_for(timeout=10_000)
    page.get_by_role("button", name="中文").click()
    page.get_by_role("button", name="English").wait_for(timeout=10_000)


def _white_outline(page: Any) -> tuple[int, int]:
    """Centre (x, y) of the selected zone's white outline on the map, from a screenshot."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)
    mapped = img[:, MAP_X0:820]
    ys, xs = np.nonzero((mapped > 245).all(axis=2))
    assert len(xs) > 20, "no zone outline drawn"
    return int(xs.mean()) + MAP_X0, int(ys.mean())


def test_clicking_a_zone_on_the_map_opens_its_page(desk: Any, demo: Any) -> None:
    from geodata import load_port

    port = load_port()
    by_zone = vessels_by_zone(engine_snapshot(demo.live.url))
    # an anchorage with no ship in it, so the click lands on the anchorage, not on a ship
    empty = [
        z.id
        for z in port.zones.values()
        if z.kind == "anchorage" and not by_zone.get(z.id) and z.id != "Z-ANC-PILOT"
    ]
    if not empty:
        pytest.skip("every anchorage holds a ship right now")
    zone_id = empty[0]
    page = desk
    page.get_by_role("button", name=port.zones[zone_id].name_zh, exact=True).click()
    page.locator(f"[data-testid=zone-title][data-zone='{zone_id}']").wait_for(timeout=10_000)
    page.wait_for_timeout(2000)
    x, y = _white_outline(page)
    page.get_by_role("button", name="霞山港区", exact=True).click()
    page.locator("[data-testid=zone-title][data-zone='Z-PA-XIASHAN']").wait_for(timeout=10_000)
    page.wait_for_timeout(1000)
    title = page.locator(f"[data-testid=zone-title][data-zone='{zone_id}']")
    for _ in range(3):  # the first click after load can be lost while the browser is busy
        page.mouse.click(x, y)
        try:
            title.wait_for(timeout=4000)
            break
        except PlaywrightTimeout:
            continue
    page.screenshot(path=str(SHOTS / "map_click_1366x768.png"))
    assert title.is_visible()


def test_acknowledging_without_the_operator_token_is_refused(desk: Any) -> None:
    page = desk
    page.get_by_text("告警台", exact=True).click()
    page.get_by_role("button", name="确认", exact=True).click()
    message = page.locator("[data-testid=ack-message]")
    message.wait_for(timeout=10_000)
    assert "拒绝确认" in message.inner_text() and "TWIN_OPERATOR_TOKEN" in message.inner_text()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "alerts_refused_1366x768.png"))


def _shown_kpis(page: Any, zone_id: str) -> tuple[str | None, dict[str, str]]:
    """The KPI block of `zone_id` as shown: its window end and each figure's raw value by key."""
    block = page.locator(f"[data-testid=zone-kpis][data-zone='{zone_id}']")
    block.wait_for(timeout=30_000)
    rows = block.locator("tr[data-key]")
    figures = {
        str(rows.nth(i).get_attribute("data-key")): str(rows.nth(i).get_attribute("data-value"))
        for i in range(rows.count())
    }
    return block.get_attribute("data-end"), figures


def test_the_zone_page_shows_its_kpis_as_the_test_computes_them_from_the_store(
    desk: Any, demo: Any
) -> None:
    """Replayed (a fixed time), each zone kind's KPI block equals the test's own computation: its own
    replay of the demo's history store at the shown time, through twin.kpi.zone."""
    from datetime import datetime, timedelta

    from dashboards.ops.replaybar import state_of_snapshot
    from dashboards.ops.store import MAX_EVENTS
    from dashboards.ops.zone_kpi import compute
    from feeds.live import real_engine_factory
    from feeds.replay import ReplaySession
    from geodata import load_port
    from twin.zones import ZoneIndex

    port = load_port()
    history = Path(demo.live.twin.config.history_dir)
    page = desk
    page.locator(".replay-back button").click()
    badge = page.locator("[data-testid=replay]")
    badge.wait_for(timeout=60_000)
    at = datetime.fromisoformat(str(badge.get_attribute("data-ts")).replace("Z", "+00:00"))
    session = ReplaySession(history, real_engine_factory(port))
    snapshot = session.snapshot_at(at)
    assert snapshot is not None, "no engine checkpoint in the demo's store"
    state = state_of_snapshot(snapshot, 0, tuple(session.recent_events(MAX_EVENTS)), session.zone_since())
    index = ZoneIndex(port)
    zones = [v.get("zone_id") for v in state.vessels.values()]
    anchorage = max(
        (z.id for z in port.zones.values() if z.kind == "anchorage"), key=lambda z: (zones.count(z), z)
    )
    for zone_id in (anchorage, "Z-CH-INNER", "Z-PA-XIASHAN", "Z-GATE-BM-CT"):
        page.locator(f".zone-{zone_id} button").click()
        page.locator(f"[data-testid=zone-title][data-zone='{zone_id}']").wait_for(timeout=10_000)
        end, shown = _shown_kpis(page, zone_id)
        want = compute(port, state, zone_id, 6, history, index)
        assert want is not None
        assert end == (at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        assert want.window.end_utc == at + timedelta(seconds=1)
        expected = {f.key: f.value for f in want.figures}
        assert set(shown) == set(expected), zone_id
        for key, value in expected.items():
            if value is None:
                assert shown[key] == "", (zone_id, key, shown[key])
            else:
                assert float(shown[key]) == pytest.approx(value, rel=1e-9), (zone_id, key)
        if zone_id == "Z-PA-XIASHAN":
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "zone_kpis_1366x768.png"))
        if zone_id == anchorage:
            assert expected["ships_now"] == zones.count(anchorage)
    # the header counts the replayed open alerts; the alerts desk is the replayed one, not acknowledgeable
    open_now = sum(1 for a in state.alerts.values() if a.get("state") != "cleared")
    assert badge.get_attribute("data-alerts") == str(open_now)
    page.get_by_text("告警台", exact=True).click()
    page.locator("[data-testid=ack-replay]").wait_for(timeout=10_000)
    assert page.get_by_role("button", name="确认", exact=True).is_disabled()
    page.get_by_text("区域详情", exact=True).click()
    page.locator(".replay-live button").click()
    page.locator("[data-testid=live]").wait_for(timeout=10_000)
    page.get_by_text("告警台", exact=True).click()
    page.locator("[data-testid=ack-replay]").wait_for(state="detached", timeout=10_000)
    assert page.get_by_role("button", name="确认", exact=True).is_enabled()
    page.get_by_text("区域详情", exact=True).click()


def test_the_channel_sequence_tab_proposes_moves_of_ships_at_anchor_or_berth(desk: Any, demo: Any) -> None:
    page = desk
    # The proposal is made from the desk's state at one twin time (its data-ts); a ship can be
    # "approaching" only briefly, so the test records the phases of every state the desk's store
    # holds meanwhile, by twin time, and checks the proposal against the state it was made from.
    seen: dict[str, dict[int, set[str]]] = {}
    stop = threading.Event()

    def record() -> None:
        while not stop.is_set():
            state = demo.ops.store.state()
            if state.ts_utc:
                by_ship = seen.setdefault(state.ts_utc, {})
                for mmsi, row in state.vessels.items():
                    by_ship.setdefault(int(mmsi), set()).add(str(row.get("phase")))
            stop.wait(0.02)

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    try:
        page.get_by_text("航道排序", exact=True).click()  # opening the tab starts a first proposal
        done = page.locator("[data-testid=sequence-time]")
        done.wait_for(timeout=120_000)
        first = done.get_attribute("data-ts")
        page.wait_for_timeout(2500)  # the twin's clock moves on: the next proposal is for a later time
        page.locator(".propose button").click()
        page.locator("[data-testid=sequence-computing]").wait_for(timeout=10_000)
        page.locator(f"[data-testid=sequence-time]:not([data-ts='{first}'])").wait_for(timeout=120_000)
        table = page.locator("[data-testid=sequence-table]")
        table.wait_for(timeout=10_000)
        made_at = page.locator("[data-testid=sequence-time]").get_attribute("data-ts")
        mmsis = [int(x) for x in table.locator("tbody tr .mmsi").all_inner_texts()]
    finally:
        stop.set()
        recorder.join(timeout=5)
    assert mmsis, "an empty proposal"
    assert made_at in seen, "the proposal's state time was never held by the desk's store"
    phases = seen[made_at]
    movable = {"at_anchor", "at_berth", "approaching"}
    assert all(phases.get(m, set()) & movable for m in mmsis), {m: phases.get(m) for m in mmsis}
    assert any(phases.get(m, set()) & {"at_anchor", "at_berth"} for m in mmsis)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "sequence_1366x768.png"))
    page.get_by_text("区域详情", exact=True).click()


def test_the_desk_renders_at_1920x1080_and_opens_a_vessel_page(desk: Any) -> None:
    from PIL import Image

    page = desk  # the same session, resized: a second page load would cost ~20 s of SwiftShader
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Xiashan port area", exact=True).click()
    page.locator("[data-testid=zone-title][data-zone='Z-PA-XIASHAN']").wait_for(timeout=10_000)
    page.get_by_text("Vessels in the zone").wait_for(timeout=10_000)
    page.get_by_text("Alerts desk", exact=True).wait_for(timeout=10_000)  # tab titles follow the language
    page.wait_for_timeout(2000)
    SHOTS.mkdir(exist_ok=True)
    shot = page.screenshot(path=str(SHOTS / "zone_1920x1080.png"))
    img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    land = (np.abs(img - np.array([50, 60, 72])).sum(axis=2) < 30).mean()
    assert land > 0.02, "the 3D map drew no land"
    mmsis = sorted(shown_mmsis(page))
    assert mmsis, "no ship at Xiashan"
    page.locator("select:visible").first.select_option(index=1)  # the zone's first ship, after "–"
    title = page.locator("[data-testid=vessel-title]")
    title.wait_for(timeout=10_000)
    assert int(title.get_attribute("data-mmsi") or 0) in mmsis
    assert "IMO" in page.locator("[data-testid=vessel-identity]").inner_text()
    page.screenshot(path=str(SHOTS / "vessel_1920x1080.png"))
