"""`twin demo`: the whole twin on the built-in Zhanjiang simulation, offline, with no configuration.

Starts simulator → journal → engine → bus (feeds.live) and the cockpit, prints the URLs, and stops
cleanly on Ctrl-C (the engine journals and snapshots on the way out). Everything binds 127.0.0.1
unless `--host` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_START = "2026-11-28T00:00:00+08:00"  # local midnight: "today" on the tiles is a whole day


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="simulation seed (same seed, same day)")
    parser.add_argument(
        "--speed",
        type=float,
        default=30.0,
        help="simulated seconds per real second (default 30: a day in 48 min)",
    )
    parser.add_argument("--hours", type=float, default=48.0, help="simulated hours to generate")
    parser.add_argument("--start", default=DEFAULT_START, help="simulated start time, ISO 8601 with offset")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--cockpit-port", type=int, default=8050)
    parser.add_argument("--bus-port", type=int, default=8765)
    parser.add_argument("--ops-port", type=int, default=8060, help="ops desk (Panel) port")
    parser.add_argument("--planner-port", type=int, default=8070, help="planner screen (Panel) port")
    parser.add_argument(
        "--scenarios-dir",
        type=Path,
        default=Path("scenarios"),
        help="planner: a folder of extra scenario .toml files (default ./scenarios)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="journal and history directory (default: a fresh temporary one)",
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--tour", action="store_true", help="start the cockpit in tour mode")
    parser.add_argument("--tour-period-s", type=float, default=20.0)


class Demo:
    """The running demo: the live twin and the cockpit's HTTP server."""

    def __init__(
        self, live: Any, cockpit_server: Any, cockpit_url: str, ops: Any = None, planner: Any = None
    ) -> None:
        self.live = live
        self.cockpit_server = cockpit_server
        self.cockpit_url = cockpit_url
        self.ops = ops  # dashboards.ops.server.OpsServer, or None when not started
        self.ops_url: str | None = None if ops is None else ops.url
        self.planner = planner  # dashboards.planner.server.PlannerServer, or None when not started
        self.planner_url: str | None = None if planner is None else planner.url
        self._thread = threading.Thread(target=cockpit_server.serve_forever, name="cockpit", daemon=True)

    def start(self) -> Demo:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.cockpit_server.shutdown()
        if self.ops is not None:
            self.ops.stop()
        if self.planner is not None:
            self.planner.stop()
        self.live.stop()


def start_demo(
    *,
    seed: int = 7,
    speed: float = 30.0,
    hours: float = 48.0,
    start: datetime | None = None,
    host: str = "127.0.0.1",
    cockpit_port: int = 8050,
    bus_port: int = 8765,
    data_dir: Path | None = None,
    lang: str = "zh",
    tour: bool = False,
    tour_period_s: float = 20.0,
    stale_after_s: float = 15.0,
    ops_port: int | None = None,
    planner_port: int | None = None,
    scenarios_dir: Path | None = None,
) -> Demo:
    """Start everything; port 0 picks free ports. Returns once the servers listen.

    `ops_port` None (the default) leaves the ops desk out; it reads TWIN_OPERATOR_TOKEN for acknowledgements.
    `planner_port` None (the default) leaves the planner screen out; it needs no bus and offers the
    bundled scenarios plus the `.toml` files of `scenarios_dir`.
    """
    import xarray as xr
    from werkzeug.serving import make_server

    from dashboards.cockpit.app import create_app
    from feeds.live import start_live
    from feeds.simulate import SimConfig
    from geodata import load_port

    port = load_port()
    data = data_dir or Path(tempfile.mkdtemp(prefix="zhanjiang-twin-"))
    sim = SimConfig(seed=seed, start_utc=start or datetime.fromisoformat(DEFAULT_START), hours=hours)
    live = start_live(
        port,
        simulate=sim,
        speed=speed,
        host=host,
        ws_port=bus_port,
        journal_dir=data / "journal",
        history_dir=data / "history",
        token=os.environ.get("TWIN_INGEST_TOKEN"),
    )
    with xr.open_dataset(port.files["bathymetry"]) as ds:
        depth = ds["depth"].load()
    app = create_app(
        port,
        live.url.rstrip("/") + "/stream",
        depth=depth,
        lang=lang,
        tour=tour,
        tour_period_s=tour_period_s,
        stale_after_s=stale_after_s,
    )
    server = make_server(host, cockpit_port, app.server, threaded=True)
    url = f"http://{host}:{server.server_port}/"
    ops = None
    if ops_port is not None:
        from dashboards.ops.server import start_ops_server

        ops = start_ops_server(
            port,
            live.url.rstrip("/") + "/stream",
            host=host,
            http_port=ops_port,
            history_dir=data / "history",
            depth=depth,
            operator_token=os.environ.get("TWIN_OPERATOR_TOKEN"),
            ingest_token=os.environ.get("TWIN_INGEST_TOKEN"),
        )
    planner = None
    if planner_port is not None:
        from dashboards.planner.server import start_planner_server

        planner = start_planner_server(
            port, depth, host=host, http_port=planner_port, scenarios_dir=scenarios_dir
        )
    return Demo(live, server, url, ops, planner).start()


def run(args: argparse.Namespace) -> int:
    start = datetime.fromisoformat(args.start)
    if start.tzinfo is None:
        print(f"--start {args.start}: give an offset (e.g. +00:00 or +08:00)")
        return 2
    print("starting the Zhanjiang twin (simulation, engine, bus, cockpit) ...", flush=True)
    demo = start_demo(
        seed=args.seed,
        speed=args.speed,
        hours=args.hours,
        start=start.astimezone(UTC),
        host=args.host,
        cockpit_port=args.cockpit_port,
        bus_port=args.bus_port,
        data_dir=args.data_dir,
        lang=args.lang,
        tour=args.tour,
        tour_period_s=args.tour_period_s,
        ops_port=args.ops_port,
        planner_port=args.planner_port,
        scenarios_dir=args.scenarios_dir,
    )
    print(f"  cockpit (wall display) : {demo.cockpit_url}")
    print(f"  ops desk               : {demo.ops_url}")
    print(f"  planner                : {demo.planner_url}")
    print(f"  cockpit kiosk          : {demo.cockpit_url}kiosk")
    print(
        f"  engine bus (websocket) : {demo.live.url}/stream   health: "
        f"{demo.live.url.replace('ws://', 'http://')}/health"
    )
    print("press Ctrl-C to stop", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("stopping ...", flush=True)
    demo.stop()
    print("stopped", flush=True)
    return 0
