"""Start the ops desk: one shared `OpsStore` on the engine's `/stream`, Panel on its own thread.

`start_ops_server(port, stream_url, ...)` returns once the HTTP server listens (port 0 picks a free
one) and prints nothing; the caller prints `.url`. Nothing happens at import.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from dashboards.ops.acks import Acknowledger, BusAcknowledger
from dashboards.ops.app import OpsContext, make_session_app
from dashboards.ops.deck import DeckBuilder
from dashboards.ops.store import OpsStore, zone_of_feature
from twin.port import Port
from twin.zones import ZoneIndex


@dataclass
class OpsServer:
    """The running desk: its URL, the shared store, and a `stop()`."""

    url: str
    store: OpsStore
    _server: Any
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop the HTTP server and the store's subscription."""
        self.store.stop()

        def _shutdown() -> None:
            self._server.stop()
            self._server.io_loop.stop()

        self._loop.call_soon_threadsafe(_shutdown)
        self._thread.join(timeout=10)


def start_ops_server(
    port: Port,
    stream_url: str,
    *,
    host: str = "127.0.0.1",
    http_port: int = 8060,
    history_dir: Path | None = None,
    depth: xr.DataArray | None = None,  # drawn in the export's map; not on the live map (DeckBuilder)
    operator_token: str | None = None,
    acknowledger: Acknowledger | None = None,
    ingest_token: str | None = None,
) -> OpsServer:
    """Serve the desk at `http://host:port/ops`, fed by one store following `stream_url`.

    `operator_token` (from TWIN_OPERATOR_TOKEN, read by the caller) guards acknowledgements: None
    refuses them all. `acknowledger` defaults to a `BusAcknowledger` on the same bus's `/ingest`.
    """
    import panel as pn

    pn.extension("deckgl", theme="dark")
    store = OpsStore(stream_url)
    store.start()
    ack = acknowledger or BusAcknowledger(stream_url.rsplit("/stream", 1)[0] + "/ingest", ingest_token)
    ctx = OpsContext(
        port=port,
        store=store,
        deck=DeckBuilder(port, depth),
        acknowledger=ack,
        operator_token=operator_token,
        history_dir=history_dir,
        zones=zone_of_feature(port),
        zone_index=ZoneIndex(port),
        depth=depth,
    )
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
                {"ops": make_session_app(ctx)},
                port=http_port,
                address=host,
                show=False,
                start=False,
                title="Zhanjiang ops desk",
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

    thread = threading.Thread(target=run, name="ops-desk", daemon=True)
    thread.start()
    if not ready.wait(60):
        raise RuntimeError("the ops desk did not start within 60 s")
    if "error" in box:
        store.stop()
        raise RuntimeError(f"the ops desk could not listen on {host}:{http_port}: {box['error']}") from box[
            "error"
        ]
    server = box["server"]
    url = f"http://{host}:{server.port}/ops"
    return OpsServer(url, store, server, box["loop"], thread)
