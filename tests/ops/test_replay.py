"""Replay: the desk shows the positions the history store holds for a past time.

`feeds.replay.positions_at` against hand-made history, then the desk in a real browser on the real
demo: stepping back enters the replay, the map's vessel data equals the test's own polars query of
the store, and moving the slider again changes the map data; "Back to live" returns to the stream.
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


def _store_positions(history: Path, at: datetime) -> dict[int, tuple[float, float]]:
    """The test's own query: per MMSI the latest stored fix in (at - 30 min, at]."""
    frame = (
        pl.scan_parquet(history / "ais_position" / "**" / "*.parquet", hive_partitioning=True)
        .filter(pl.col("ts_utc") <= at, pl.col("ts_utc") > at - timedelta(minutes=30))
        .drop_nulls(["lon", "lat"])
        .sort("ts_utc", maintain_order=True)
        .group_by("mmsi")
        .agg(pl.col("lon").last(), pl.col("lat").last())
        .collect()
    )
    return {int(m): (lon, lat) for m, lon, lat in frame.iter_rows()}


MAP_VESSELS_JS = """() => {
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.data === undefined || m.data === null) continue;
      const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if (!('_layer_vessel-markers' in d)) continue;
      const mmsi = Array.from(d.mmsi), pos = Array.from(d.position);
      return mmsi.map((x, i) => [Number(x), Array.from(pos[i])]);
    }
  }
  return null;
}"""


def _map_vessels(page: Any) -> dict[int, tuple[float, float]]:
    rows = page.evaluate(MAP_VESSELS_JS)
    assert rows is not None, "no vessel layer data in the page's Bokeh document"
    return {int(m): (float(p[0]), float(p[1])) for m, p in rows}


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


def test_replay_at_a_past_time_shows_the_positions_the_history_holds(desk: Any, demo: Any) -> None:
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
    want = _store_positions(history, at)
    assert want, f"the history holds no position in the 30 min up to {at}"
    shown = _map_vessels(page)
    assert set(shown) == set(want)
    for mmsi, (lon, lat) in want.items():
        assert shown[mmsi] == pytest.approx((lon, lat), abs=1e-6), mmsi
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "replay_1366x768.png"))

    # moving the slider (two more steps back) changes the time and the map data
    page.locator(".replay-back button").click()
    _wait_replay_ts(page, not_ts=at.isoformat().replace("+00:00", "Z"))
    page.locator(".replay-back button").click()
    at2 = _wait_replay_ts(page, not_ts=(at - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"))
    page.wait_for_timeout(800)
    assert at2 == at - timedelta(minutes=2)  # one step is one minute
    shown2 = _map_vessels(page)
    assert shown2 != shown
    assert set(shown2) == set(_store_positions(history, at2))

    # dragging the slider's handle to the left third replays an earlier time, again as stored
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
    shown3, want3 = _map_vessels(page), _store_positions(history, at3)
    assert set(shown3) == set(want3) and shown3
    for mmsi, (lon, lat) in want3.items():
        assert shown3[mmsi] == pytest.approx((lon, lat), abs=1e-6), mmsi

    page.locator(".replay-live button").click()
    page.locator("[data-testid=live]").wait_for(timeout=10_000)
    assert page.locator("[data-testid=replay]").count() == 0


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
    with page.expect_download(timeout=20_000) as info:
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
