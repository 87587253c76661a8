"""Replay: the desk shows the twin as the history store had it at a past time.

`feeds.replay.positions_at` against hand-made history (the fallback without checkpoints), then the
desk in a real browser on the real demo: stepping back enters the replay, and the map's vessels
(positions and phase colours), the badge's vessel count and a zone page (ships and open alerts)
equal the test's own `ReplaySession` on the same store; more steps and a drag of the slider still
match it; "Back to live" returns to the stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from feeds.replay import history_span, positions_at
from feeds.store import read_history, write_frame

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
SHOTS = Path(__file__).resolve().parent / "screenshots"


def _fix(ts: datetime, mmsi: int, lat: float, lon: float) -> dict[str, Any]:
    return {"ts_utc": ts, "mmsi": mmsi, "lat": lat, "lon": lon, "sog_kn": 5.0, "cog_deg": 90.0,
            "heading_deg": 90.0, "nav_status": 0, "source": "test"}


def test_positions_at_takes_each_ships_latest_fix_at_or_before_t_within_30_min(tmp_path: Path) -> None:
    rows = [_fix(T0 + timedelta(minutes=m), 412000001, 21.0 + m / 1000, 110.40) for m in range(0, 60, 10)]
    rows += [_fix(T0, 412000002, 21.2, 110.50)]  # silent afterwards: gone 30 min later
    rows += [_fix(T0 + timedelta(minutes=41), 412000003, 21.3, 110.60)]  # first seen after t
    write_frame(tmp_path, "ais_position", pl.DataFrame(rows))
    static = {"ts_utc": T0 - timedelta(hours=1), "mmsi": 412000001, "imo": 9000001, "name": "NAN HAI",
              "callsign": "BX", "ship_type": 70, "length_m": 180.0, "beam_m": 30.0, "draught_m": 10.5,
              "destination": "ZHANJIANG", "eta_utc": None}
    write_frame(tmp_path, "ais_static", pl.DataFrame([static]))

    assert history_span(tmp_path) == (T0, T0 + timedelta(minutes=50))
    at = T0 + timedelta(minutes=20)  # exactly on a fix: "at or before" includes it
    got = positions_at(tmp_path, at)
    assert got["mmsi"].to_list() == [412000001, 412000002]
    first = got.row(0, named=True)
    assert first["ts_utc"] == at and first["lat"] == pytest.approx(21.02)
    assert (first["name"], first["ship_class"], first["length_m"]) == ("NAN HAI", "cargo", 180.0)
    later = positions_at(tmp_path, T0 + timedelta(minutes=30, seconds=1))
    assert later["mmsi"].to_list() == [412000001]  # 412000002's last fix is older than 30 min
    assert positions_at(tmp_path, T0 - timedelta(minutes=1)).is_empty()
    with pytest.raises(ValueError):
        positions_at(tmp_path, datetime(2026, 11, 28, 1, 0))


def test_replay_bar_steps_plays_at_speed_stops_at_the_newest_time_and_returns_to_live(tmp_path: Path) -> None:
    from dashboards.ops.replaybar import ReplayBar
    from dashboards.ops.store import OpsState

    rows = [_fix(T0 + timedelta(minutes=m), 412000001, 21.0, 110.40 + m / 1000) for m in range(60)]
    write_frame(tmp_path, "ais_position", pl.DataFrame(rows))
    redraws: list[int] = []
    bar = ReplayBar(tmp_path, None, lambda: redraws.append(1))
    bar.set_lang("en")
    bar.update_span(force=True)
    assert bar.at is None and bar.slider.value == bar.slider.end  # live: the slider sits at the newest time
    bar.back.clicks += 1
    assert bar.at == T0 + timedelta(minutes=58) and redraws
    bar.play.value = True
    bar._next_speed()  # ×60 → ×300
    bar.tick(2.0)  # 2 s of wall clock at ×300 = 10 min, clamped to the newest stored time
    assert bar.at == T0 + timedelta(minutes=59) and not bar.play.value
    replayed = bar.state(OpsState(version=7))
    assert replayed.ts_utc == "2026-11-28T01:59:00Z"
    assert [v["lon"] for v in replayed.vessels.values()] == [pytest.approx(110.459)]
    bar.back_to_live()
    live = OpsState(version=7)
    assert bar.at is None and bar.state(live) is live


# -- in the browser, on the real demo ----------------------------------------------------------


def _replayed(history: Path, at: datetime) -> dict[str, Any]:
    """The test's own replay: a fresh `ReplaySession` on the same store (newest checkpoint at or
    before `at` + the stored inputs after it), independent of the desk's session."""
    from feeds.live import real_engine_factory
    from feeds.replay import ReplaySession
    from geodata import load_port

    snapshot = ReplaySession(history, real_engine_factory(load_port())).snapshot_at(at)
    assert snapshot is not None, f"no engine checkpoint at or before {at}"
    return snapshot


def _rows(snapshot: dict[str, Any]) -> dict[int, dict[str, Any]]:
    cols = snapshot["vessels"]["columns"]
    return {int(r[0]): dict(zip(cols, r, strict=True)) for r in snapshot["vessels"]["rows"]}


MAP_VESSELS_JS = """() => {
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.data === undefined || m.data === null) continue;
      const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if (!('_layer_vessel-markers' in d)) continue;
      const mmsi = Array.from(d.mmsi), pos = Array.from(d.position), fill = Array.from(d.fill);
      return mmsi.map((x, i) => [Number(x), Array.from(pos[i]), Array.from(fill[i])]);
    }
  }
  return null;
}"""


def _map_vessels(page: Any) -> dict[int, tuple[float, float, tuple[int, ...]]]:
    """MMSI → (lon, lat, fill colour) of the vessel markers the browser holds."""
    rows = page.evaluate(MAP_VESSELS_JS)
    assert rows is not None, "no vessel layer data in the page's Bokeh document"
    return {int(m): (float(p[0]), float(p[1]), tuple(int(c) for c in f)) for m, p, f in rows}


def _assert_map_is_the_replay(page: Any, history: Path, at: datetime) -> dict[str, Any]:
    """The map's markers are the replay engine's vessels at `at`: same ships, same positions, each
    coloured by its replayed port-call phase. Returns the test's own snapshot."""
    from layers import style

    snapshot = _replayed(history, at)
    want = _rows(snapshot)
    shown = _map_vessels(page)
    assert want and set(shown) == set(want)
    for mmsi, row in want.items():
        lon, lat, fill = shown[mmsi]
        assert (lon, lat) == pytest.approx((row["lon"], row["lat"]), abs=1e-6), mmsi
        assert list(fill) == style.PHASE.get(row["phase"] or "", style.PHASE_DEFAULT), (mmsi, row["phase"])
    return snapshot


@pytest.fixture(scope="module")
def desk(chrome: Any, demo: Any) -> Iterator[Any]:
    """The desk at 1366×768, live."""
    page = chrome.new_page(viewport={"width": 1366, "height": 768})
    page.goto(demo.ops_url)
    page.locator("canvas").first.wait_for(timeout=30_000)
    page.locator("[data-testid=live]").wait_for(timeout=30_000)
    yield page
    page.close()


def _wait_replay_ts(page: Any, not_ts: str | None = None) -> datetime:
    loc = page.locator("[data-testid=replay]")
    for _ in range(40):
        if loc.count() and loc.get_attribute("data-ts") not in (None, not_ts):
            break
        page.wait_for_timeout(250)
    ts = loc.get_attribute("data-ts")
    assert ts and ts != not_ts, ts
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_replay_at_a_past_time_shows_the_whole_twin_as_the_replay_engine_has_it(
    desk: Any, demo: Any
) -> None:
    from dashboards.ops.replaybar import state_of_snapshot
    from dashboards.ops.store import open_alerts, zone_of_feature

    page = desk
    history = _history_dir(demo)
    for _ in range(60):  # the live twin flushes its history every 10 s (wall)
        if read_history(history, "ais_position").select(pl.len()).collect().item() > 0:
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(11_000)  # one more flush, so that the slider spans more than one batch
    slider = page.locator(".replay-slider")
    assert slider.count() == 1 and slider.is_visible()
    page.locator(".replay-back button").click()
    at = _wait_replay_ts(page)
    page.wait_for_timeout(800)
    snapshot = _assert_map_is_the_replay(page, history, at)
    phases = {row["phase"] for row in _rows(snapshot).values()}
    assert phases - {None, "outside"}, f"only {phases}: nothing to tell the replayed phases apart"
    badge = page.locator("[data-testid=replay]")
    assert int(badge.get_attribute("data-vessels") or -1) == len(_rows(snapshot))
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "replay_1366x768.png"))

    # the zone page of the busiest zone lists the replayed ships with their replayed phases, and
    # as many open alerts as the replay engine has there
    rows = _rows(snapshot)
    zones = [r["zone_id"] for r in rows.values() if r["zone_id"]]
    zone = max(sorted(set(zones)), key=zones.count)
    page.locator(f".zone-{zone} button").click()
    page.locator(f"[data-testid=zone-title][data-zone='{zone}']").wait_for(timeout=10_000)
    page.wait_for_timeout(500)
    table = page.locator("[data-testid=zone-vessels] tbody tr")
    listed = {int(table.nth(i).locator("td").nth(1).inner_text()) for i in range(table.count())}
    assert listed == {m for m, r in rows.items() if r["zone_id"] == zone}
    replayed_state = state_of_snapshot(snapshot, 0)
    want_alerts = open_alerts(replayed_state, zone_of_feature(demo_port()), zone_id=zone)
    assert page.locator("[data-testid=zone-alerts] tbody tr").count() == len(want_alerts)

    # two more steps back: the time moves by a minute each and the map is again the replay's
    page.locator(".replay-back button").click()
    _wait_replay_ts(page, not_ts=at.isoformat().replace("+00:00", "Z"))
    page.locator(".replay-back button").click()
    at2 = _wait_replay_ts(page, not_ts=(at - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"))
    page.wait_for_timeout(800)
    assert at2 == at - timedelta(minutes=2)  # one step is one minute
    _assert_map_is_the_replay(page, history, at2)

    # dragging the slider's handle to the left third replays an earlier time, again as replayed
    handle = page.locator(".replay-slider .noUi-handle").first.bounding_box()
    track = page.locator(".replay-slider .noUi-base").first.bounding_box()
    assert handle and track
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] / 3, handle["y"] + handle["height"] / 2, steps=8)
    page.mouse.up()
    at3 = _wait_replay_ts(page, not_ts=at2.isoformat().replace("+00:00", "Z"))
    page.wait_for_timeout(1500)
    at3 = _wait_replay_ts(page, not_ts=None)  # settled: the last value the drag sent
    assert at3 < at2
    _assert_map_is_the_replay(page, history, at3)

    page.locator(".replay-live button").click()
    page.locator("[data-testid=live]").wait_for(timeout=10_000)
    assert page.locator("[data-testid=replay]").count() == 0


def demo_port() -> Any:
    """The port model the demo runs (the bundled one)."""
    from geodata import load_port

    return load_port()


def _history_dir(demo: Any) -> Path:
    """Where the demo's live twin writes its history (the store the desk replays from)."""
    history = demo.live.twin.config.history_dir
    assert history is not None
    return Path(history)


def test_export_button_downloads_a_zip_whose_files_parse(desk: Any, demo: Any) -> None:
    import io
    import json
    import zipfile

    from shapely.geometry import shape

    page = desk
    page.get_by_role("button", name="霞山港区", exact=True).click()
    page.locator("[data-testid=zone-title][data-zone='Z-PA-XIASHAN']").wait_for(timeout=10_000)
    with page.expect_download(timeout=60_000) as info:
        page.locator(".ops-export").get_by_text("导出").click()
    download = info.value
    assert download.suggested_filename.startswith("ops-Z-PA-XIASHAN-")
    data = Path(download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        table = pl.read_csv(zf.read("zone_vessels.csv"))
        tracks = pl.read_csv(zf.read("tracks.csv"))
        features = json.loads(zf.read("tracks.geojson"))["features"]
        for name in ("events.csv", "alerts.csv"):
            pl.read_csv(zf.read(name))
    assert table.height > 0 and tracks.height > 0
    assert {f["properties"]["mmsi"] for f in features} == set(tracks["mmsi"].to_list())
    assert all(shape(f["geometry"]).is_valid for f in features)
