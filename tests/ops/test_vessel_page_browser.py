"""The vessel page in a real browser on the real demo: the call chain of a ship with declarations
equals the test's own polars query of the history store, and the UKC of a ship in the channel,
replayed at a past time, equals twin.ukc.live_ukc computed here from the stored position and
static data at the desk's shown time. Screenshots at 1366×768 in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import shapely

from feeds.store import read_history
from tests.ops.opskit import engine_snapshot

SHOTS = Path(__file__).resolve().parent / "screenshots"


def _history(demo: Any) -> Path:
    history = demo.live.twin.config.history_dir
    assert history is not None
    return Path(history)


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _store_declarations(
    history: Path, mmsi: int, at: datetime
) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """The test's own query: per declaration of the ship's calls, the latest stage reported at or
    before `at` and each stage's first report time (ISO, UTC)."""
    rows = (
        pl.scan_parquet(history / "customs_event" / "**" / "*.parquet", hive_partitioning=True)
        .filter(pl.col("call_id").str.starts_with(f"{mmsi}-"), pl.col("ts_utc") <= at)
        .sort("ts_utc", maintain_order=True)
        .collect()
    )
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for (did,), g in rows.group_by("declaration_id", maintain_order=True):
        first = g.group_by("stage", maintain_order=True).agg(pl.col("ts_utc").first()).sort("ts_utc")
        stages = [(s, ts.isoformat().replace("+00:00", "Z")) for s, ts in first.iter_rows()]
        out[str(did)] = (str(g["stage"][-1]), stages)
    return out


def _page_declarations(page: Any) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    rows = page.locator("[data-testid=declaration]").evaluate_all(
        """els => els.map(d => [d.dataset.id, d.dataset.current,
            Array.from(d.closest('tr').querySelectorAll('[data-stage]'))
                 .map(s => [s.dataset.stage, s.dataset.ts])])"""
    )
    return {str(i): (str(c), [(str(s), str(t)) for s, t in st]) for i, c, st in rows}


@pytest.fixture(scope="module")
def ready(demo: Any) -> Path:
    """The demo once its history holds customs rows of a ship the engine tracks."""
    import time

    history = _history(demo)
    for _ in range(120):
        customs = read_history(history, "customs_event").collect()
        if customs.height and read_history(history, "ais_position").select(pl.len()).collect().item():
            tracked = {int(r[0]) for r in engine_snapshot(demo.live.url)["vessels"]["rows"]}
            owners = {int(c.split("-")[0]) for c in customs["call_id"].drop_nulls().to_list()}
            if tracked & owners:
                return history
        time.sleep(1.0)
    pytest.fail("no customs declaration of a tracked ship reached the history store in 120 s")


@pytest.fixture()
def page(chrome: Any) -> Iterator[Any]:
    p = chrome.new_page(viewport={"width": 1366, "height": 768})
    yield p
    p.close()


def _replayed(history: Path, at: datetime) -> tuple[dict[int, dict[str, Any]], dict[str, Any]] | None:
    """The ships and the tide feed entry as the test's own replay has them at `at`: a fresh
    `ReplaySession` on the same store (newest engine checkpoint at or before `at` + the stored inputs
    after it); None without one."""
    from feeds.live import real_engine_factory
    from feeds.replay import ReplaySession
    from geodata import load_port

    snapshot = ReplaySession(history, real_engine_factory(load_port())).snapshot_at(at)
    if snapshot is None:
        return None
    cols = snapshot["vessels"]["columns"]
    rows = {int(r[0]): dict(zip(cols, r, strict=True)) for r in snapshot["vessels"]["rows"]}
    return rows, dict(snapshot["feeds"]["tide"])


def _scroll_to(page: Any, test_id: str) -> None:
    """Scroll a section into view; the desk redraws its HTML every refresh, so a node may go stale."""
    from playwright.sync_api import Error

    for _ in range(10):
        try:
            page.locator(f"[data-testid={test_id}]").scroll_into_view_if_needed(timeout=2000)
            page.wait_for_timeout(300)
            return
        except Error:
            page.wait_for_timeout(200)


def _open(page: Any, demo: Any, mmsi: int, lang: str) -> None:
    page.goto(f"{demo.ops_url}?vessel={mmsi}&lang={lang}")
    # attached, not visible: under load the tab may still be switching when the HTML lands
    page.locator(f"[data-testid=vessel-title][data-mmsi='{mmsi}']").wait_for(state="attached", timeout=60_000)
    page.locator("[data-testid=vessel-ukc]").wait_for(state="attached", timeout=60_000)
    page.locator("[data-testid=call-chain]").wait_for(state="attached", timeout=60_000)
    page.locator("[data-testid=vessel-title]").wait_for(timeout=60_000)


def test_the_chain_of_a_ship_with_declarations_equals_the_history_store(
    page: Any, demo: Any, ready: Path
) -> None:
    customs = read_history(ready, "customs_event").collect()
    tracked = {int(r[0]) for r in engine_snapshot(demo.live.url)["vessels"]["rows"]}
    counts = customs.with_columns(mmsi=pl.col("call_id").str.split("-").list.first().cast(pl.Int64))
    counts = counts.filter(pl.col("mmsi").is_in(list(tracked))).group_by("mmsi").agg(pl.len()).sort("len")
    mmsi = int(counts["mmsi"][-1])  # the tracked ship with the most customs rows
    _open(page, demo, mmsi, "en")
    for _ in range(20):  # the desk re-reads the store when it gains a part (flushed every 10 s)
        ts = page.locator("[data-testid=vessel-ukc]").get_attribute("data-ts")
        shown, want = _page_declarations(page), _store_declarations(ready, mmsi, _utc(ts))
        if shown == want:
            break
        page.wait_for_timeout(1000)
    assert want and shown == want, ts
    assert page.locator("[data-testid=chain-call]").count() >= 1
    # each call's cargo as the store holds it (the simulator's plan, port_call_cargo)
    cargo = read_history(ready, "port_call_cargo").filter(pl.col("mmsi") == mmsi).collect()
    assert cargo.height, "the live twin stored no cargo row of the ship"
    for row in cargo.iter_rows(named=True):
        call = page.locator(f"[data-testid=chain-call][data-call='{row['call_id']}']")
        teu = [f"{row['teu']:,.0f} TEU"] if row["teu"] else []
        text = " · ".join([f"{row['tonnes']:,.0f} t", *teu, row["cargo"]])
        assert call.locator("[data-testid=chain-cargo]").inner_text() == f"Cargo: {text}"
    ukc = page.locator("[data-testid=vessel-ukc]")
    assert (
        ukc.locator("[data-testid=ukc-now]").count() + ukc.locator("[data-testid=ukc-missing]").count() == 1
    )
    SHOTS.mkdir(exist_ok=True)
    _scroll_to(page, "call-chain")
    page.screenshot(path=str(SHOTS / "vessel_chain_en_1366x768.png"))
    _open(page, demo, mmsi, "zh")
    _scroll_to(page, "vessel-ukc")
    page.screenshot(path=str(SHOTS / "vessel_ukc_zh_1366x768.png"))
    assert "富余水深" in page.locator("[data-testid=vessel-ukc]").inner_text()
    _scroll_to(page, "call-chain")
    page.screenshot(path=str(SHOTS / "vessel_chain_zh_1366x768.png"))
    assert set(_page_declarations(page)) >= set(want)  # the same declarations in Chinese


def test_the_ukc_of_a_ship_in_the_channel_equals_twin_ukc_at_the_shown_replayed_time(
    page: Any, demo: Any, ready: Path
) -> None:
    from geodata import load_port
    from twin.alert_rules import by_class, load_rules
    from twin.bathymetry import load_bathymetry
    from twin.tide import read_constituents_toml
    from twin.ukc import UkcRule, Vessel, live_ukc

    port = load_port()

    def mid_channel() -> list[dict[str, Any]]:
        """Ships in the channel with a draught, underway, 20–45 km in: still in the channel at the
        replayed time (the newest stored time, up to 20 sim-minutes behind live at ×120, minus 1 min)."""
        snap = engine_snapshot(demo.live.url)
        cols = snap["vessels"]["columns"]
        rows = [dict(zip(cols, r, strict=True)) for r in snap["vessels"]["rows"]]
        return [
            r
            for r in rows
            if r["phase"] == "in_channel"
            and r["draught_m"]
            and (r["sog_kn"] or 0) > 4
            and 20 <= port.channel.chainage_at(r["lon"], r["lat"])[0] <= 45
        ]

    in_channel = mid_channel()
    for _ in range(60):
        if in_channel:
            break
        page.wait_for_timeout(1000)
        in_channel = mid_channel()
    assert in_channel, "no ship with a draught underway in the middle of the channel"
    mmsi = int(in_channel[0]["mmsi"])
    _open(page, demo, mmsi, "en")
    live_net = page.locator("[data-testid=ukc-now]").get_attribute("data-net")
    assert live_net is not None  # a figure, not a missing-data note
    page.screenshot(path=str(SHOTS / "vessel_ukc_channel_en_1366x768.png"))
    # one minute back from the newest stored time: the desk now shows the store's twin at `at`
    page.locator(".replay-back button").click()
    ts = None
    for _ in range(120):
        shown = page.locator("[data-testid=vessel-ukc]").get_attribute("data-ts")
        replay = page.locator("[data-testid=replay]")
        if replay.count() and shown == replay.get_attribute("data-ts"):
            ts = shown
            break
        page.wait_for_timeout(250)
    assert ts is not None
    at = _utc(ts)
    # the ship to check is in the channel at `at` in the test's own replay (under load the one opened
    # live may have berthed by then); another one is opened from its channel zone's ship list
    replayed = _replayed(ready, at)
    assert replayed is not None, f"no engine checkpoint at or before {at}"
    rows, tide_feed = replayed
    here = [
        r
        for r in rows.values()
        if r["phase"] == "in_channel" and r["draught_m"] and r["zone_id"] in port.zones
    ]
    assert here, f"no ship with a draught in the channel at {at}"
    row = next((r for r in here if int(r["mmsi"]) == mmsi), here[0])
    if int(row["mmsi"]) != mmsi:
        mmsi = int(row["mmsi"])
        page.get_by_role("button", name=port.zones[row["zone_id"]].name_en, exact=True).click()
        page.locator(f"[data-testid=zone-title][data-zone='{row['zone_id']}']").wait_for(timeout=60_000)
        page.locator("select:visible").first.select_option(label=f"{row['name'] or mmsi} ({mmsi})")
        page.locator(f"[data-testid=vessel-title][data-mmsi='{mmsi}']").wait_for(
            state="attached", timeout=60_000
        )
        page.locator("[data-testid=ukc-now]").wait_for(state="attached", timeout=60_000)
    assert page.locator("[data-testid=vessel-ukc]").get_attribute("data-ts") == ts  # still the replayed time
    rule = next(r for r in load_rules().rules if r.kind == "ukc").params
    point = shapely.Point(row["lon"], row["lat"])
    seg = next((s for s in port.channel.segments if s.area.contains(point)), None)
    part = "outer" if seg is None else seg.part  # in the channel zone, off a segment: the outer rule
    cls = row["ship_class"] or "unknown"
    ratio = by_class(rule["length_beam_ratio_by_class"], cls)
    beam = row["beam_m"] or (row["length_m"] / ratio if row["length_m"] and ratio else None)
    ship = Vessel(
        draught_m=row["draught_m"],
        speed_kn=max(row["sog_kn"] or 0.0, 0.0),
        cb=by_class(rule["cb_by_class"], cls) or 0.8,
        beam_m=beam,
        length_m=row["length_m"],
    )
    pct = rule["outer_pct"] if part == "outer" else rule["inner_pct"]
    tide = read_constituents_toml(port.files["tide"])
    # the gauge's surge as the UKC alert adds it: observed level − prediction at that reading, while fresh
    surge = 0.0
    if tide_feed.get("level_m") is not None and not tide_feed["stale"]:
        read_at = np.datetime64(_utc(tide_feed["last_utc"]).replace(tzinfo=None), "us")
        surge = tide_feed["level_m"] - float(tide.level_m(np.array([read_at]))[0])
    want = live_ukc(
        ship,
        row["lat"],
        row["lon"],
        np.datetime64(at.replace(tzinfo=None), "us"),
        load_bathymetry(port.files["bathymetry"]),
        tide,
        rule=UkcRule(pct / 100.0, rule["minimum_m"]),
        squat_method=rule["squat_method"],
        channel_width_m=None if seg is None else seg.width_m,
        surge_m=surge,
    )
    now = page.locator("[data-testid=ukc-now]")
    used = {k: now.get_attribute(f"data-{k}") for k in ("lat", "lon", "depth", "tide", "squat", "speed")}
    mine = (row["lat"], row["lon"], want.depth_below_cd_m, want.tide_m, want.squat_m, ship.speed_kn)
    assert float(now.get_attribute("data-net")) == pytest.approx(want.net_ukc_m, abs=1e-6), (at, used, mine)
    assert now.inner_text() == f"{want.net_ukc_m:.2f}"
    assert float(now.get_attribute("data-surge")) == pytest.approx(surge, abs=1e-9)
    draught = page.locator("[data-testid=ukc-draught]").get_attribute("data-draught")
    assert float(draught) == pytest.approx(row["draught_m"])
    route = page.locator("[data-testid=ukc-route-min]")
    departure = at.replace(second=0, microsecond=0)  # the route departs at the shown minute
    assert route.get_attribute("data-departure") == departure.isoformat().replace("+00:00", "Z")
    _scroll_to(page, "vessel-ukc")
    page.screenshot(path=str(SHOTS / "vessel_ukc_replay_en_1366x768.png"))
    page.locator(".replay-live button").click()
