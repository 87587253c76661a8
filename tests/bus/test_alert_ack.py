"""Acknowledging an alert through the bus: refused without the token, journalled and applied with it.

A real engine with the port's alert rules runs behind the bus. A ship is fed through `/ingest`
at 15 kn in the inner channel (limit 12.5 kn, warning after 30 s: twin/rules/zhanjiang_alerts.toml),
so the engine raises `channel_speed:<mmsi>`; the test then acknowledges it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bus_clients import open_ingest, open_stream
from websockets.exceptions import InvalidStatus

from feeds.live import LiveHandle, real_engine_factory, start_live
from geodata import load_port

TOKEN = "zjport-ack-test-token-0123456789"
MMSI = 412777001

# the bundled channel-speed rule, but raised at once (the bundled one waits 30 s of the twin's clock)
RULES = Path(__file__).parents[1] / "data" / "alerts" / "channel_speed_at_once.toml"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHandle]:
    port = load_port()
    handle = start_live(port, ws_port=0, journal_dir=tmp_path / "journal", token=TOKEN,
                        make_engine=real_engine_factory(port, RULES))
    yield handle
    handle.stop()


def _speeding_rows(port: Any) -> list[dict[str, Any]]:
    # inbound at 15 kn along the inner channel from K55: one report every 10 s for 2 min, ending
    # now (no simulator here, so the twin's clock is the wall clock and old reports would be dark)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=125)
    rows = []
    for i in range(13):
        km = 55.0 + i * 10 * 15 * 1852 / 3600 / 1000  # 15 kn for 10 s ≈ 77 m
        lon, lat = port.channel.position_at(km)
        rows.append({"ts_utc": (t0 + timedelta(seconds=10 * i)).isoformat(), "mmsi": MMSI, "lat": lat,
                     "lon": lon, "sog_kn": 15.0, "cog_deg": 300.0, "heading_deg": 300.0, "nav_status": 0,
                     "source": "test"})
    return rows


async def _alert_state(url: str, alert_id: str) -> dict[str, Any] | None:
    ws = await open_stream(url)
    try:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
    finally:
        await ws.close()
    return next((a for a in snapshot.get("alerts", []) if a["id"] == alert_id), None)


async def _send(url: str, token: str | None, body: dict[str, Any]) -> Any:
    ws = await open_ingest(url, token)
    try:
        await ws.send(json.dumps(body))
        return json.loads(await asyncio.wait_for(ws.recv(), 15))
    finally:
        await ws.close()


def test_ack_refused_without_token_and_applied_with_it(live: LiveHandle) -> None:
    port = load_port()
    alert_id = f"channel_speed:{MMSI}"

    async def scenario() -> None:
        answer = await _send(live.url, TOKEN, {"v": 1, "kind": "ais_position", "rows": _speeding_rows(port)})
        assert "ack" in answer
        for _ in range(60):
            alert = await _alert_state(live.url, alert_id)
            if alert is not None:
                break
            await asyncio.sleep(0.5)
        assert alert is not None and alert["state"] == "raised" and alert["priority"] == "warning"

        when = datetime.now(UTC).isoformat()
        row = {"ts_utc": when, "alert_id": alert_id, "by": "VTS duty officer 值班员", "note": "pilot told"}
        ack = {"v": 1, "kind": "alert_ack", "rows": [row]}
        with pytest.raises(InvalidStatus, match="401"):  # no token: the handshake itself is refused
            await _send(live.url, None, ack)
        assert (await _alert_state(live.url, alert_id))["state"] == "raised"  # nothing changed

        assert "ack" in await _send(live.url, TOKEN, ack)
        for _ in range(50):
            alert = await _alert_state(live.url, alert_id)
            if alert and alert["state"] == "acknowledged":
                break
            await asyncio.sleep(0.2)
        assert alert is not None and alert["state"] == "acknowledged"

    asyncio.run(scenario())


def test_a_two_sentence_message_split_over_two_ingest_messages_is_decoded(live: LiveHandle) -> None:
    # gpsd sample.aivdm: type 5 of MMSI 351759000, "EVER DIADEM", sent as two fragments; a gateway
    # cutting its batches by time may put them in two /ingest messages on the same connection
    first = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C"
    second = "!AIVDM,2,2,1,A,88888888880,2*25"

    async def scenario() -> None:
        ws = await open_ingest(live.url, TOKEN)
        try:
            for n, line in enumerate((first, second)):
                await ws.send(json.dumps({"v": 1, "kind": "nmea", "lines": [line], "id": n}))
                json.loads(await asyncio.wait_for(ws.recv(), 15))
        finally:
            await ws.close()
        for _ in range(50):
            health = json.loads(json.dumps(live.health()))
            if health["feeds"]["ais"]["rows"] >= 1:
                break
            await asyncio.sleep(0.2)
        assert health["feeds"]["ais"]["rows"] == 1  # one static row, nothing rejected
        assert health["feeds"]["ais"]["rejected"] == 0

    asyncio.run(scenario())
