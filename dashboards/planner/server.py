"""Start the planner screen: one shared `PlannerStore`, Panel on its own thread and loop.

`start_planner_server(port, depth, ...)` returns once the HTTP server listens (port 0 picks a free
one) and prints nothing; the caller prints `.url`. It needs no live bus. Nothing happens at import.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import xarray as xr

from dashboards.planner.app import make_session_app
from dashboards.planner.store import DEFAULT_START, PlannerStore
from twin.port import Port


@dataclass
class PlannerServer:
    """The running planner: its URL, the shared store, and a `stop()`."""

    url: str
    store: PlannerStore
    _server: Any
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop the HTTP server; running jobs are abandoned (their threads are daemons of the pool)."""
        self.store.stop()

        def _shutdown() -> None:
            self._server.stop()
            self._server.io_loop.stop()

        self._loop.call_soon_threadsafe(_shutdown)
        self._thread.join(timeout=10)


def start_planner_server(
    port: Port,
    depth: xr.DataArray,
    *,
    host: str = "127.0.0.1",
    http_port: int = 8070,
    scenarios_dir: Path | None = None,
    start_utc: datetime = DEFAULT_START,
) -> PlannerServer:
    """Serve the planner at `http://host:port/planner` for the port model and its depth grid.

    `scenarios_dir`: a folder whose `.toml` files the picker offers beside the bundled scenarios.
    Raises RuntimeError when the port cannot be bound.
    """
    import panel as pn

    from twin.tide import read_constituents_toml

    pn.extension("deckgl", theme="dark")
    store = PlannerStore(
        port,
        depth,
        read_constituents_toml(port.files["tide"]),
        scenarios_dir=scenarios_dir,
        start_utc=start_utc,
    )
    threading.Thread(target=store.warm, name="planner-warm", daemon=True).start()
    if http_port == 0:
        # Bokeh checks the browser's Origin against host:port, so the port must be known up front.
        with socket.socket() as probe:
            probe.bind((host, 0))
            http_port = int(probe.getsockname()[1])
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            server = pn.serve(
                {"planner": make_session_app(store)},
                port=http_port,
                address=host,
                show=False,
                start=False,
                title="Zhanjiang planner",
                websocket_origin=[f"{host}:{http_port}", f"localhost:{http_port}", f"127.0.0.1:{http_port}"],
            )
            server.start()
        except (OSError, ValueError) as exc:
            box["error"] = exc
            ready.set()
            return
        box.update(server=server, loop=loop)
        ready.set()
        server.io_loop.start()

    thread = threading.Thread(target=run, name="planner", daemon=True)
    thread.start()
    if not ready.wait(60):
        raise RuntimeError("the planner did not start within 60 s")
    if "error" in box:
        raise RuntimeError(f"the planner could not listen on {host}:{http_port}: {box['error']}") from box[
            "error"
        ]
    server = box["server"]
    return PlannerServer(f"http://{host}:{server.port}/planner", store, server, box["loop"], thread)


def main() -> None:
    """`python -m dashboards.planner.server`: the planner alone on :8070, for development."""
    import time

    from geodata import load_port

    port = load_port()
    with xr.open_dataset(port.files["bathymetry"]) as ds:
        depth = ds["depth"].load()
    running = start_planner_server(port, depth, scenarios_dir=Path("scenarios"))
    print(f"  planner : {running.url}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
