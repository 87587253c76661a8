"""The ops desk in a real browser on the real demo: zones from the list and the map, the alerts desk."""

from __future__ import annotations

import io
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
