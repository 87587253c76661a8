"""Start the planner screen: one shared `PlannerStore`, Panel on its own thread and loop.

`start_planner_server(port, depth, ...)` returns once the HTTP server listens (port 0 picks a free
one) and prints nothing; the caller prints `.url`. It needs no live bus. Nothing happens at import.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import xarray as xr

from dashboards.panel_serve import PanelThread, serve_panel
from dashboards.planner.app import make_session_app
from dashboards.planner.store import DEFAULT_START, PlannerStore
from twin.port import Port


@dataclass
class PlannerServer:
    """The running planner: its URL, the shared store, and a `stop()`."""

    url: str
    store: PlannerStore
    _panel: PanelThread

    def stop(self) -> None:
        """Stop the HTTP server; running jobs are abandoned (their threads are daemons of the pool)."""
        self.store.stop()
        self._panel.stop()


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
    panel = serve_panel({"planner": make_session_app(store)}, host=host, http_port=http_port,
                        title="Zhanjiang planner", name="planner")
    return PlannerServer(f"http://{host}:{panel.port}/planner", store, panel)

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
