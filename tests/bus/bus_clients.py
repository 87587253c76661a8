"""Small helpers for driving a live twin from tests and benches: rows, ingest, stream reading."""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

TOKEN = "zjport-test-token-0123456789abcdef"  # the ingest token of the test twins


def position_rows(batch: int, count: int, base_mmsi: int = 412000000) -> list[dict[str, Any]]:
    """`count` canonical ais_position rows for batch number `batch` (deterministic)."""
    return [
        {
            "ts_utc": f"2026-11-28T03:{batch // 60 % 60:02d}:{batch % 60:02d}Z",
            "mmsi": base_mmsi + i,
            "lat": 21.0 + 0.0001 * batch,
            "lon": 110.4 + 0.0001 * i,
            "sog_kn": 10.0,
            "cog_deg": 45.0,
            "heading_deg": 44.0,
            "nav_status": 0,
            "source": "test",
        }
        for i in range(count)
    ]


def ingest_message(batch: int, count: int, **extra: Any) -> str:
    """An `/ingest` message with `count` position rows of batch `batch`."""
    return json.dumps({"v": 1, "kind": "ais_position", "rows": position_rows(batch, count), **extra})


async def open_ingest(url: str, token: str | None) -> ClientConnection:
    """Connect to `/ingest` with a bearer token (None: no Authorization header)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    return await connect(f"{url}/ingest", additional_headers=headers, max_size=2**24)


async def open_stream(url: str, **kwargs: Any) -> ClientConnection:
    """Connect to `/stream` with no message size cap (snapshots can be large)."""
    return await connect(f"{url}/stream", max_size=None, **kwargs)
