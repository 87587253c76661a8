"""A server-side subscriber of the engine's bus: keeps the latest merged state for server-rendered views.

The browser pages subscribe to the bus themselves for the live map and tiles; this client serves the
parts rendered in Python (the cockpit's plotly charts). It reconnects on its own and says whether
it is connected, so a view can show "stale" rather than old numbers as if they were current.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidURI


class BusSubscriber:
    """Background thread following `/stream`; `latest()` returns a copy of the merged state."""

    def __init__(self, url: str, *, reconnect_s: float = 1.5) -> None:
        self.url = url
        self.reconnect_s = reconnect_s
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._connected = False
        self._last_message = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BusSubscriber:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="bus-subscriber", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def connected(self) -> bool:
        return self._connected

    def seconds_since_message(self) -> float:
        return time.monotonic() - self._last_message if self._last_message else float("inf")

    def latest(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._state))

    def _merge(self, msg: dict[str, Any]) -> None:
        with self._lock:
            if msg.get("type") == "snapshot":
                self._state = {k: v for k, v in msg.items() if k != "vessels"}
                return
            for key in ("kpis", "charts", "feeds"):
                if isinstance(msg.get(key), dict):
                    self._state.setdefault(key, {}).update(msg[key])
            if msg.get("alerts"):
                by_id = {a["id"]: a for a in self._state.get("alerts", [])}
                by_id.update({a["id"]: {**by_id.get(a["id"], {}), **a} for a in msg["alerts"]})
                self._state["alerts"] = list(by_id.values())
            self._state["seq"] = msg.get("seq")
            self._state["ts_utc"] = msg.get("ts_utc")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                async with connect(self.url, max_size=2**25, open_timeout=5) as ws:
                    self._connected = True
                    async for raw in ws:
                        self._last_message = time.monotonic()
                        self._merge(json.loads(raw))
                        if self._stop.is_set():
                            return
            except (OSError, ConnectionClosed, InvalidURI, TimeoutError, json.JSONDecodeError):
                pass  # the engine is down or restarting: show stale, retry below
            self._connected = False
            await asyncio.sleep(self.reconnect_s)
