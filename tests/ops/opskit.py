"""Helpers of the ops desk tests (a uniquely named module: conftests of other folders shadow each other)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any


def engine_snapshot(bus_url: str) -> dict[str, Any]:
    """The engine's state as a fresh client of the bus gets it (its first message)."""
    from websockets.sync.client import connect

    with connect(bus_url.rstrip("/") + "/stream", max_size=2**25, open_timeout=5) as ws:
        msg: dict[str, Any] = json.loads(ws.recv(timeout=10))
    assert msg["type"] == "snapshot"
    return msg


def vessels_by_zone(snapshot: dict[str, Any]) -> dict[str, set[int]]:
    """MMSIs per zone id, from the snapshot's vessel table."""
    cols = snapshot["vessels"]["columns"]
    out: dict[str, set[int]] = {}
    for row in snapshot["vessels"]["rows"]:
        rec = dict(zip(cols, row, strict=True))
        if rec["zone_id"]:
            out.setdefault(rec["zone_id"], set()).add(int(rec["mmsi"]))
    return out


def speeding_rows(mmsi: int, end: datetime) -> list[dict[str, Any]]:
    """AIS positions of a ship inbound at 15 kn along the inner channel (from K55), a report every
    10 s for the 2 min ending at `end`: enough for the `channel_speed` alert rule to fire."""
    from geodata import load_port

    port = load_port()
    t0 = end - timedelta(seconds=120)
    rows = []
    for i in range(13):
        lon, lat = port.channel.position_at(55.0 + i * 10 * 15 * 1852 / 3600 / 1000)
        rows.append({"ts_utc": (t0 + timedelta(seconds=10 * i)).isoformat(), "mmsi": mmsi, "lat": lat,
                     "lon": lon, "sog_kn": 15.0, "cog_deg": 300.0, "heading_deg": 300.0, "nav_status": 0,
                     "source": "test"})
    return rows
