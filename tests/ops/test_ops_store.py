"""The desk's store and queries on hand-made bus messages; the operator check; the ack path."""

from __future__ import annotations

import asyncio
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import shapely

from dashboards.ops.acks import AckResult, check_operator
from dashboards.ops.store import (
    OpsStore,
    alert_context_area,
    alert_zone,
    needs_ack,
    open_alerts,
    vessels_in_zone,
    zone_of_feature,
)
from geodata import load_port
from twin.engine import VESSEL_COLUMNS

COLS = VESSEL_COLUMNS


def row(mmsi: int, zone: str | None, phase: str = "at_anchor") -> list[Any]:
    return [
        mmsi,
        f"SHIP {mmsi}",
        "cargo",
        110.5,
        21.1,
        0.0,
        0.0,
        0.0,
        200.0,
        30.0,
        12.0,
        phase,
        zone,
        None,
        "2026-11-28T01:00:00Z",
        False,
    ]


def snapshot(**parts: Any) -> dict[str, Any]:
    base = {
        "v": 1,
        "type": "snapshot",
        "seq": 0,
        "ts_utc": "2026-11-28T01:00:00Z",
        "vessels": {"columns": COLS, "rows": []},
        "berths": [],
        "anchorages": [],
        "gates": [],
        "events": [],
        "alerts": [],
        "feeds": {},
    }
    return base | parts


def delta(seq: int, ts: str, **parts: Any) -> dict[str, Any]:
    return {"v": 1, "type": "delta", "seq": seq, "ts_utc": ts} | parts


def run(coro: Any) -> Any:
    """Run a coroutine on its own thread: Playwright's sync API may hold this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def port() -> Any:
    return load_port()


def test_vessels_are_kept_upserted_and_removed() -> None:
    store = OpsStore("ws://127.0.0.1:9/stream")
    store._merge(snapshot(vessels={"columns": COLS, "rows": [row(1, "Z-ANC-IN-1"), row(2, "Z-ANC-IN-1")]}))
    store._merge(
        delta(
            1,
            "2026-11-28T01:10:00Z",
            vessels={"columns": COLS, "rows": [row(2, "Z-CH-INNER", "in_channel")], "removed": [1]},
        )
    )
    state = store.state()
    assert set(state.vessels) == {2}
    assert state.vessels[2]["zone_id"] == "Z-CH-INNER"
    assert store.state() is state  # one shared copy until the next message


def test_time_in_zone_is_a_lower_bound_for_ships_first_met_in_a_snapshot() -> None:
    store = OpsStore("ws://127.0.0.1:9/stream")
    store._merge(snapshot(vessels={"columns": COLS, "rows": [row(1, "Z-ANC-IN-1")]}))
    store._merge(delta(1, "2026-11-28T01:05:00Z", vessels={"columns": COLS, "rows": [row(2, "Z-ANC-IN-1")]}))
    store._merge(delta(2, "2026-11-28T01:06:00Z", vessels={"columns": COLS, "rows": [row(1, "Z-ANC-IN-1")]}))
    entry = store.state().zone_entry
    assert (entry[1].since_utc, entry[1].exact) == ("2026-11-28T01:00:00Z", False)
    assert (entry[2].since_utc, entry[2].exact) == ("2026-11-28T01:05:00Z", True)
    # a reconnect's snapshot keeps what the desk already knew
    store._merge(
        snapshot(
            ts_utc="2026-11-28T02:00:00Z",
            vessels={"columns": COLS, "rows": [row(1, "Z-ANC-IN-1"), row(2, "Z-ANC-IN-1")]},
        )
    )
    assert store.state().zone_entry[2].since_utc == "2026-11-28T01:05:00Z"


def test_zone_members_resolve_to_their_zone(port: Any) -> None:
    zones = zone_of_feature(port)
    assert zones["ANC-IN-1"] == "Z-ANC-IN-1"
    assert zones["CH-IN-1"] == "Z-CH-INNER"
    assert zones["BM-CT-1"] == "Z-PA-BAOMAN"
    assert zones["GATE-BM-IN"] == "Z-GATE-BM-CT"


def test_open_alerts_most_urgent_first_with_zone_and_kind_filters(port: Any) -> None:
    zones = zone_of_feature(port)
    store = OpsStore("ws://127.0.0.1:9/stream")
    alerts: list[dict[str, Any]] = [
        {"id": "a", "rule": "anchor_wait", "priority": "caution", "state": "raised", "subject": "ANC-IN-1"},
        {"id": "b", "rule": "ukc", "priority": "alarm", "state": "raised", "subject": 7},
        {"id": "c", "rule": "ukc", "priority": "warning", "state": "cleared", "subject": 7},
        {
            "id": "d",
            "rule": "gate_queue",
            "priority": "warning",
            "state": "raised",
            "zone_id": "Z-GATE-BM-CT",
        },
        {
            "id": "e",
            "rule": "anchor_wait",
            "priority": "caution",
            "state": "acknowledged",
            "acknowledged_by": "VTS-1",
            "subject": "ANC-IN-2",
            "raised_utc": "2026-11-28T00:30:00Z",
        },
    ]
    store._merge(
        snapshot(vessels={"columns": COLS, "rows": [row(7, "Z-CH-INNER", "in_channel")]}, alerts=alerts)
    )
    state = store.state()
    # acknowledged alerts stay open until cleared, but need no second acknowledgement
    assert [a["id"] for a in open_alerts(state, zones)] == ["b", "d", "e", "a"]
    assert [a["id"] for a in open_alerts(state, zones) if needs_ack(a)] == ["b", "d", "a"]
    assert [a["id"] for a in open_alerts(state, zones, zone_id="Z-CH-INNER")] == ["b"]
    assert [a["id"] for a in open_alerts(state, zones, kind="anchor_wait")] == ["e", "a"]
    assert alert_zone(alerts[0], state, zones) == "Z-ANC-IN-1"
    assert [v["mmsi"] for v in vessels_in_zone(state, "Z-CH-INNER")] == [7]


def test_the_operator_token_is_required_and_checked() -> None:
    assert check_operator(None, "anything") == "ack_no_token"
    assert check_operator("s3cret", None) == "ack_bad_token"
    assert check_operator("s3cret", "wrong") == "ack_bad_token"
    assert check_operator("s3cret", "s3cret") is None


class FakeAcknowledger:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    async def acknowledge(self, alert_id: str, by: str, note: str, ts_utc: str) -> AckResult:
        self.sent.append((alert_id, by, note, ts_utc))
        return AckResult(True, "journal seq 42")


def _desk(port: Any, token: str | None, ack: FakeAcknowledger) -> Any:
    from dashboards.ops.app import OpsContext, OpsDesk
    from dashboards.ops.deck import DeckBuilder

    store = OpsStore("ws://127.0.0.1:9/stream")
    store._merge(
        snapshot(
            alerts=[
                {
                    "id": "a1",
                    "rule": "ukc",
                    "priority": "alarm",
                    "state": "raised",
                    "subject": "ANC-IN-1",
                    "text_zh": "富余水深不足",
                    "text_en": "UKC low",
                }
            ]
        )
    )
    ctx = OpsContext(port, store, DeckBuilder(port), ack, token, None, zone_of_feature(port))
    return OpsDesk(ctx)


def test_the_desk_sends_an_acknowledgement_only_with_the_right_token(port: Any) -> None:
    ack = FakeAcknowledger()
    desk = _desk(port, "s3cret", ack)
    desk.ack_alert.value = "a1"
    desk.ack_note.value = "pilot informed"
    desk.ack_by.value = "VTS-2"
    desk.ack_token.value = "wrong"
    run(desk._on_ack(None))
    assert not ack.sent and "Refused" not in desk.ack_message.object and "拒绝" in desk.ack_message.object
    desk.ack_token.value = "s3cret"
    run(desk._on_ack(None))
    assert ack.sent == [("a1", "VTS-2", "pilot informed", "2026-11-28T01:00:00Z")]
    assert "journal seq 42" in desk.ack_message.object


def test_a_desk_without_a_configured_token_refuses_every_acknowledgement(port: Any) -> None:
    ack = FakeAcknowledger()
    desk = _desk(port, None, ack)
    desk.ack_alert.value = "a1"
    desk.ack_note.value = "n"
    desk.ack_token.value = "s3cret"
    run(desk._on_ack(None))
    assert not ack.sent and "TWIN_OPERATOR_TOKEN" in desk.ack_message.object


def test_the_depth_grid_averages_blocks_leaves_out_land_and_colours_like_the_bathymetry_bitmap() -> None:
    import numpy as np
    import xarray as xr

    from dashboards.ops.deck import depth_grid_layer
    from layers.port_layers import depth_colours

    values = np.full((4, 6), np.nan)
    values[:2, :2] = [[10.0, 12.0], [14.0, np.nan]]  # one block with water (mean 12 m), the rest land
    values[2:, 4:] = 20.0
    depth = xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={"lat": 21.0 + 0.01 * np.arange(4), "lon": 110.0 + 0.01 * np.arange(6)},
    )
    layer = depth_grid_layer(depth, cells=2)
    frame = layer["data"]
    assert layer["@@type"] == "SolidPolygonLayer" and not layer["pickable"]
    assert sorted(frame["depth_m"].tolist()) == [12.0, 20.0]
    first = frame[frame["depth_m"] == 12.0].iloc[0]
    assert first["fill"] == [int(c) for c in depth_colours(np.array([[12.0]]))[0, 0]]
    xs = [p[0] for p in first["polygon"]]
    ys = [p[1] for p in first["polygon"]]
    assert (min(xs), max(xs)) == (109.995, 110.015) and (min(ys), max(ys)) == (20.995, 21.015)


def test_an_alerts_context_is_its_zone_and_a_400_m_ring_round_its_ship(port: Any) -> None:
    zones = zone_of_feature(port)
    store = OpsStore("ws://127.0.0.1:9/stream")
    store._merge(snapshot(vessels={"columns": COLS, "rows": [row(7, "Z-ANC-IN-1")]}))
    state = store.state()
    ship_alert = {"id": "u", "rule": "ukc", "priority": "alarm", "state": "raised", "subject": 7}
    area = alert_context_area(port, ship_alert, state, zones)
    assert isinstance(area, shapely.MultiPolygon) and len(area.geoms) == 2
    zone_part, ring = area.geoms
    assert zone_part.equals(port.zones["Z-ANC-IN-1"].area)
    # the ring: centred on the ship (110.5 E, 21.1 N), 400 m in every direction. Degrees per metre:
    # 1 / 111,320 of latitude, and 1 / (111,320 · cos 21.1°) = 1 / 103,866 of longitude.
    lon0, lat0, lon1, lat1 = ring.bounds
    assert (lon0 + lon1) / 2 == pytest.approx(110.5) and (lat0 + lat1) / 2 == pytest.approx(21.1)
    assert (lat1 - lat0) / 2 * 111_320 == pytest.approx(400.0, rel=1e-6)
    assert (lon1 - lon0) / 2 * 111_320 * math.cos(math.radians(21.1)) == pytest.approx(400.0, rel=1e-6)
    # an alert on a feature: only its zone; on nothing the desk knows: nothing
    feature_alert = {"id": "a", "rule": "anchor_wait", "state": "raised", "subject": "ANC-IN-1"}
    assert alert_context_area(port, feature_alert, state, zones).equals(  # type: ignore[union-attr]
        port.zones[zones["ANC-IN-1"]].area
    )
    assert alert_context_area(port, {"id": "x", "subject": 99}, state, zones) is None
