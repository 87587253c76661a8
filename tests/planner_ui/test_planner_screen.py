"""The planner screen in Debian's Chromium: both maps drawn, linked cameras, the deltas equal to the
domain functions called directly, a run from the screen with its progress, the offline report, a bad
scenario file's error, and the two screen sizes."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashboards.planner.deck import VIEW
from tests.planner_ui.conftest import windows_called_directly
from twin.fasttime import compare
from twin.port import Port
from twin.scenario import bundled, load_scenario

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START = datetime(2026, 11, 28, tzinfo=UTC)
RULE = {"outer": 0.15, "inner": 0.10}
DECK_STATE = """() => { const out = {};
  for (const doc of window.Bokeh.documents) for (const m of doc.all_models)
    if (m.css_classes && m.css_classes.length && m.initialViewState !== undefined)
      out[m.css_classes[0]] = {view: m.viewState, init: m.initialViewState};
  return out; }"""


def _pixels(page: Any, selector: str) -> np.ndarray:
    from PIL import Image

    shot = page.locator(selector).screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)


def _colourful(img: np.ndarray) -> float:
    """Share of pixels with a saturated colour (the UKC classes, the difference columns)."""
    return float(((img.max(axis=2) - img.min(axis=2)) > 80).mean())


def _cyan(img: np.ndarray) -> float:
    """Share of pixels in the difference layer's gain colour (0, 229, 255)."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return float(((r < 90) & (g > 150) & (b > 190)).mean())


def _kpi(page: Any) -> dict[str, dict[str, Any]]:
    """The deltas table's rows (Panel panes sit in shadow roots: Playwright's locators pierce them)."""
    return page.locator("tr[data-kpi]").evaluate_all(
        """(trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.kpi, {...tr.dataset,
               cells: [...tr.querySelectorAll('td')].map((td) => td.textContent)}]))"""
    )


def _run_status(page: Any) -> dict[str, Any] | None:
    status = page.locator("[data-testid=run-status]")
    if status.count() == 0:
        return None
    out: dict[str, Any] = status.first.evaluate(
        "(s) => ({state: s.dataset.state, done: +s.dataset.done, total: +s.dataset.total})"
    )
    bar = page.locator("progress").first
    out["bar"], out["max"] = bar.evaluate("(p) => [+p.value, +p.max]")
    return out


def _shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "planner-screenshots"


@pytest.fixture(scope="module")
def page(chrome: Any, planner: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The dredge scenario in English at 1366×768, loaded until the default run's deltas show."""
    page = chrome.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    offsite: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else offsite.append(r.url)
        ),
    )
    # a session builds its maps on the server before the page loads: slow when the 2 cores are shared
    page.goto(planner.url + "?scenario=dredge_outer_1m&lang=en", timeout=180_000)
    page.locator(".pl-map-base canvas").first.wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid=sim-source]", timeout=240_000)
    page.wait_for_selector("[data-kpi=window_h_per_day]", timeout=240_000)
    page.wait_for_timeout(2500)  # deck.gl draws after the data arrive
    shots = _shots_dir(tmp_path_factory)
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "planner_1366.png"))
    page.offsite = offsite
    yield page
    page.close()


def test_both_maps_are_drawn_and_the_scenario_shows_the_difference(page: Any) -> None:
    base = _pixels(page, ".pl-map-base canvas >> nth=0")
    scen = _pixels(page, ".pl-map-scen canvas >> nth=0")
    assert _colourful(base) > 0.03 and _colourful(scen) > 0.03
    assert _cyan(scen) > 0.002 and _cyan(base) < 0.0005  # the dredge's gain columns, only on the scenario
    assert page.offsite == []


def test_moving_one_map_moves_the_other(page: Any) -> None:
    before = _pixels(page, ".pl-map-scen canvas >> nth=0")
    for source, other in (("pl-map-base", "pl-map-scen"), ("pl-map-scen", "pl-map-base")):
        box = page.locator(f".{source} canvas").first.bounding_box()
        x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 90, y - 30, steps=8)
        page.mouse.up()
        page.wait_for_function(
            f"""() => {{ const s = ({DECK_STATE})(); const v = s['{source}'].view, o = s['{other}'].init;
                return v && o && v.longitude !== {VIEW["longitude"]}
                       && Math.abs(v.longitude - o.longitude) < 1e-9
                       && Math.abs(v.latitude - o.latitude) < 1e-9; }}""",
            timeout=15_000,
        )
    page.wait_for_timeout(1000)
    after = _pixels(page, ".pl-map-scen canvas >> nth=0")
    assert (np.abs(after - before).sum(axis=2) > 60).mean() > 0.02  # the scenario map really moved


def test_deltas_equal_compare_and_windows_called_directly(page: Any, port: Port) -> None:
    scen = load_scenario(bundled("dredge_outer_1m"))
    direct = compare(port, scen, days=3.0, seeds=[1, 2], start_utc=START, progress=False, ukc_fraction=RULE)
    days = windows_called_directly(port, "dredge_outer_1m", 7)
    rows = _kpi(page)
    summary = direct["summary"]
    expected = {
        "wait_mean_h": summary["wait_mean_h"]["difference"],
        "wait_total_h": summary["wait_total_h"]["difference"],
        "deep_wait_mean_h": summary["deep_wait_mean_h"]["difference"],
        "berth_occupancy_pct": summary["berth_occupancy_pct"]["difference"],
        "throughput_t_per_day": summary["throughput_t"]["difference"] / 3.0,
        "window_h_per_day": np.mean([d["scenario_h"] for d in days])
        - np.mean([d["baseline_h"] for d in days]),
        "windows_per_day": np.mean([d["scenario_windows"] for d in days])
        - np.mean([d["baseline_windows"] for d in days]),
    }
    for key, value in expected.items():
        assert float(rows[key]["delta"]) == pytest.approx(value, abs=1e-9), key
    assert float(rows["wait_mean_h"]["ci"]) == summary["wait_mean_h"]["ci95"]
    assert float(rows["throughput_t_per_day"]["baseline"]) == pytest.approx(
        summary["throughput_t"]["baseline"] / 3
    )
    # the text shown is the same number, rounded
    delta = summary["wait_mean_h"]["difference"]
    shown = f"{'+' if delta > 0 else ''}{delta:,.2f}" if round(delta, 2) != 0 else "0.00"
    assert rows["wait_mean_h"]["cells"][3] == shown
    first = page.locator("[data-testid=windows-table] tr[data-date='2026-11-28'] td").all_inner_texts()
    assert first == [
        "2026-11-28",
        f"{days[0]['baseline_h']:.2f}",
        f"{days[0]['scenario_h']:.2f}",
        f"{days[0]['gain_h']:+.2f}",
        f"{days[0]['baseline_windows']}/{days[0]['scenario_windows']}",
    ]


def test_a_run_from_the_screen_shows_progress_then_its_deltas(page: Any, port: Port) -> None:
    page.locator(".pl-days input").fill("2")
    page.locator(".pl-days input").press("Enter")
    page.locator(".pl-seeds input").fill("2")
    page.locator(".pl-seeds input").press("Enter")
    page.wait_for_timeout(500)
    page.locator(".pl-run button").click()
    seen = []
    previous_shown = False  # the last result stays on the screen, marked, while the new run runs
    end = time.monotonic() + 240
    while time.monotonic() < end:
        status = _run_status(page)
        if status and status["state"] != "done":
            previous_shown = previous_shown or page.locator("[data-testid=previous-run]").count() > 0
        if status and (not seen or status != seen[-1]):
            seen.append(status)
        if status and status["state"] == "done" and status["total"] == 4 and status["bar"] == 4:
            break
        page.wait_for_timeout(100)
    assert seen[-1]["state"] == "done" and seen[-1]["done"] == 4 and seen[-1]["bar"] == 4
    running = [s for s in seen if s["state"] in ("queued", "running") and s["total"] == 4]
    assert running and all(s["done"] < 4 for s in running)
    dones = [s["done"] for s in running]
    assert dones == sorted(dones) and len(set(dones)) >= 2  # the count went up while the runs ran
    # the bar follows the count (its DOM update may trail the status text by one tick)
    assert any(0 < s["bar"] < 4 and s["max"] == 4 for s in seen)
    assert previous_shown
    page.wait_for_selector("[data-testid=sim-source]:has-text('2 days')", timeout=20_000)
    direct = compare(
        port,
        load_scenario(bundled("dredge_outer_1m")),
        days=2.0,
        seeds=[1, 2],
        start_utc=START,
        progress=False,
        ukc_fraction=RULE,
    )
    rows = _kpi(page)
    assert float(rows["wait_total_h"]["delta"]) == direct["summary"]["wait_total_h"]["difference"]
    assert float(rows["throughput_t_per_day"]["delta"]) == pytest.approx(
        direct["summary"]["throughput_t"]["difference"] / 2.0, abs=1e-9
    )


def test_the_exported_report_is_offline_and_holds_the_deltas(
    page: Any, chrome: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with page.expect_download(timeout=60_000) as info:
        page.locator(".pl-export").get_by_text("Export report (HTML)").click()
    download = info.value
    assert download.suggested_filename == "planner-dredge_outer_1m.html"
    text = Path(download.path()).read_text(encoding="utf-8")
    stripped = re.sub(r"<script>.*?</script>", "<script></script>", text, flags=re.DOTALL)
    assert set(re.findall(r"<script[^>]*>", stripped)) == {"<script>"}
    assert "http://" not in stripped and "https://" not in stripped
    assert not re.search(r"(src|href)\s*=|url\(|@import", stripped, re.IGNORECASE)
    shown = _kpi(page)
    for key, row in shown.items():
        assert f"data-kpi='{key}'" in text and f"data-delta='{row['delta']}'" in text
    assert "dredge K0–K47.2: 1 m deeper" in text
    # the file draws both maps with the network cut off
    path = tmp_path / "report.html"
    path.write_text(text, encoding="utf-8")
    offline = chrome.new_page(viewport={"width": 1366, "height": 900})
    offline.route(re.compile(r"^https?://"), lambda route: route.abort())
    offline.goto(path.as_uri())
    offline.wait_for_function("() => (window.__rendered || 0) >= 2", timeout=60_000)
    offline.wait_for_timeout(1500)
    assert _colourful(_pixels(offline, "#map-base")) > 0.03 and _cyan(_pixels(offline, "#map-scen")) > 0.002
    offline.screenshot(path=str(_shots_dir(tmp_path_factory) / "planner_report.png"))
    offline.close()


def test_a_bad_scenario_file_shows_its_validation_error(chrome: Any, planner: Any) -> None:
    page = chrome.new_page(viewport={"width": 1366, "height": 768})
    page.goto(planner.url + "?scenario=file:bad.toml&lang=en", timeout=180_000)
    error = page.locator("[data-testid=scenario-error]")
    error.wait_for(timeout=60_000)
    assert "bad.toml, line 5: dredge[0].to_km: must be greater than from_km (10.0)" in error.inner_text()
    assert "invalid" in page.locator(".pl-scenario select").inner_text()
    assert page.locator(".pl-run button").is_disabled()  # nothing to simulate or export
    page.close()


def test_chinese_by_default_at_1920x1080(
    chrome: Any, planner: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(planner.url, timeout=180_000)
    page.wait_for_selector("[data-kpi=wait_mean_h]", timeout=240_000)
    page.wait_for_timeout(2500)
    assert "规划方案比选" in page.locator("h1").first.inner_text()
    assert "锚地等待" in page.locator("[data-testid=kpi-table]").inner_text()
    for side in ("pl-map-base", "pl-map-scen"):
        box = page.locator(f".{side} canvas").first.bounding_box()
        assert box["width"] > 800 and box["height"] > 450  # the maps take the room a big screen gives
        assert _colourful(_pixels(page, f".{side} canvas >> nth=0")) > 0.03
    page.screenshot(path=str(_shots_dir(tmp_path_factory) / "planner_1920.png"))
    page.close()
