"""Helpers of the ops desk tests (a uniquely named module: conftests of other folders shadow each other)."""

from __future__ import annotations

import json
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
