"""Start the ops desk: one shared `OpsStore` on the engine's `/stream`, Panel on its own thread.

`start_ops_server(port, stream_url, ...)` returns once the HTTP server listens (port 0 picks a free
one) and prints nothing; the caller prints `.url`. Nothing happens at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from dashboards.ops.acks import Acknowledger, BusAcknowledger
from dashboards.ops.app import OpsContext, make_session_app
from dashboards.ops.deck import DeckBuilder
from dashboards.ops.store import OpsStore, zone_of_feature
from dashboards.panel_serve import PanelThread, serve_panel
from twin.port import Port
from twin.zones import ZoneIndex


@dataclass
class OpsServer:
    """The running desk: its URL, the shared store, and a `stop()`."""

    url: str
    store: OpsStore
    _panel: PanelThread

    def stop(self) -> None:
        """Stop the HTTP server and the store's subscription."""
        self.store.stop()
        self._panel.stop()


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
    try:
        panel = serve_panel({"ops": make_session_app(ctx)}, host=host, http_port=http_port,
                            title="Zhanjiang ops desk", name="ops desk")
    except RuntimeError:
        store.stop()
        raise
    return OpsServer(f"http://{host}:{panel.port}/ops", store, panel)
