"""Cockpit: time to first full render, per-update payload and browser-side update time at 500, 5,000
and 20,000 vessels.

A synthetic bus speaks protocol v1 (docs/protocol.md) with N vessels all moving every second, to
the real cockpit in headless Chromium (SwiftShader: CPU WebGL, so upper bounds for a GPU wall).
Baseline, same run: what a pydeck-JSON path sends and redraws per update — the whole vessel layer
re-serialised by `pydeck.Deck.to_json()` (our vessel layers, same rows). Ratios are baseline ÷ ours.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from typing import Any

import numpy as np
import polars as pl

from twin.engine import VESSEL_COLUMNS

COLUMNS = VESSEL_COLUMNS  # the engine's vessel table, as it goes on the bus
PHASES = ["in_channel", "at_anchor", "at_berth", "approaching", "departing"]


def vessel_rows(n: int, t: float, rng_seed: int = 1) -> list[list[Any]]:
    rng = np.random.default_rng(rng_seed)
    lon0 = rng.uniform(110.3, 110.95, n)
    lat0 = rng.uniform(20.9, 21.3, n)
    heading = rng.uniform(0, 360, n)
    speed = 10.0 / 3600 / 60  # ≈10 kn in degrees per second, roughly
    lon = lon0 + np.sin(np.radians(heading)) * speed * t * 60
    lat = lat0 + np.cos(np.radians(heading)) * speed * t * 60
    return [
        [
            400_000_000 + i,
            f"SHIP {i}",
            "bulk",
            round(float(lon[i]), 6),
            round(float(lat[i]), 6),
            10.0,
            round(float(heading[i]), 1),
            round(float(heading[i]), 1),
            200.0,
            32.0,
            12.0,
            PHASES[i % 5],
            None,
            None,
            "2026-11-28T00:00:00Z",
            False,
        ]
        for i in range(n)
    ]


def kpis() -> dict[str, Any]:
    return {
        "vessels_total": {
            "value": 1.0,
            "unit": "",
            "label_zh": "船舶",
            "label_en": "Vessels",
            "updated_utc": "2026-11-28T00:00:00Z",
            "stale": False,
            "trend": [],
        }
    }


class SyntheticBus:
    """A protocol-v1 `/stream` with N moving vessels, one delta per second; records payload sizes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.sizes: list[int] = []
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._stop: asyncio.Event | None = None

    async def _handler(self, ws: Any) -> None:
        import contextlib

        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):  # the page closed at the end of its measurement
            await self._stream(ws)

    async def _stream(self, ws: Any) -> None:
        t, seq = 0.0, 0
        snap = {
            "v": 1,
            "type": "snapshot",
            "seq": seq,
            "ts_utc": "2026-11-28T00:00:00Z",
            "vessels": {"columns": COLUMNS, "rows": vessel_rows(self.n, t)},
            "kpis": kpis(),
            "alerts": [],
        }
        await ws.send(json.dumps(snap, separators=(",", ":")))
        while True:
            await asyncio.sleep(1.0)
            t += 1.0
            seq += 1
            body = json.dumps(
                {
                    "v": 1,
                    "type": "delta",
                    "seq": seq,
                    "ts_utc": "2026-11-28T00:00:00Z",
                    "vessels": {"columns": COLUMNS, "rows": vessel_rows(self.n, t)},
                },
                separators=(",", ":"),
            )
            self.sizes.append(len(body.encode()))
            await ws.send(body)

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0, max_size=2**26) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def start(self) -> SyntheticBus:
        self._thread.start()
        self._ready.wait(10)
        return self


def pydeck_baseline_bytes(n: int) -> int:
    """Bytes of the vessel layers as pydeck JSON (the whole layer every update)."""
    from layers import deck_spec
    from layers.vessels import vessel_layers

    frame = pl.DataFrame(
        [dict(zip(COLUMNS, r, strict=True)) for r in vessel_rows(n, 1.0)], infer_schema_length=None
    )
    spec = deck_spec(vessel_layers(frame))
    return len(json.dumps(spec["layers"], separators=(",", ":")).encode())


def measure(n: int, browser: Any) -> dict[str, float]:
    from werkzeug.serving import make_server

    from dashboards.cockpit.app import create_app
    from geodata import load_port

    bus = SyntheticBus(n).start()
    app = create_app(load_port(), f"ws://127.0.0.1:{bus.port}/stream", depth=None, chart_period_s=60)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    start = time.perf_counter()
    page.goto(f"http://127.0.0.1:{server.server_port}/")
    page.wait_for_function("window.__twin && window.__twin.firstFullRenderMs !== null", timeout=180_000)
    first_ms = page.evaluate("window.__twin.firstFullRenderMs")  # from navigation start
    wall_first = (time.perf_counter() - start) * 1000
    page.wait_for_timeout(8000)
    updates = page.evaluate("window.__twin.updateMs.slice(1)")
    page.close()
    server.shutdown()
    ours = statistics.median(bus.sizes) if bus.sizes else float("nan")
    baseline = pydeck_baseline_bytes(n)
    return {
        "vessels": n,
        "first_render_ms": first_ms,
        "first_render_wall_ms": wall_first,
        "update_bytes": ours,
        "pydeck_bytes": baseline,
        "payload_ratio": baseline / ours,
        "update_ms_p50": statistics.median(updates) if updates else float("nan"),
        "update_ms_p90": float(np.percentile(updates, 90)) if updates else float("nan"),
        "updates": len(updates),
    }


def main() -> None:
    from dashboards.browser import chromium

    with chromium() as browser:
        print("vessels  first_render_ms  update_kB  pydeck_kB  payload_ratio  update_ms_p50  update_ms_p90")
        for n in (500, 5_000, 20_000):
            r = measure(n, browser)
            print(
                f"{n:>7}  {r['first_render_ms']:>15.0f}  {r['update_bytes'] / 1e3:>9.0f}  "
                f"{r['pydeck_bytes'] / 1e3:>9.0f}  {r['payload_ratio']:>13.2f}  {r['update_ms_p50']:>13.0f}  "
                f"{r['update_ms_p90']:>13.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
