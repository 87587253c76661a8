"""`twin serve --config FILE`: the live twin (sources → journal → engine → websocket bus).

The config is TOML; relative paths are relative to the config file. Every key is optional:

```toml
[live]
host = "127.0.0.1"              # bind address; "0.0.0.0" only behind a firewall/proxy
ws_port = 8765                   # /stream, /ingest and /health; 0 = any free port
journal_dir = "var/journal"      # write-ahead journal and engine snapshots
history_dir = "var/history"      # Parquet history store (feeds.store); omit to keep none
origins = ["http://localhost:*", "http://127.0.0.1:*"]   # browser origins allowed; "*" = any
token_env = "TWIN_INGEST_TOKEN"  # environment variable holding the /ingest bearer token
snapshot_every_s = 60.0
history_flush_s = 10.0
tick_s = 1.0                     # idle clock tick (journalled, so silence turns feeds stale); 0 = off
engine = "twin"                  # or "module:callable", an engine factory (snapshot bytes | None → engine)

[geodata]
dir = "path/to/geodata"          # the port's geodata set; omitted = the bundled Zhanjiang set

[simulate]                       # drive the twin from the built-in simulator
seed = 7
start_utc = "2026-11-28T00:00:00Z"
hours = 24.0
speed = 10.0                     # simulated seconds per wall second
step_s = 1.0

[[files]]                        # feed files read once each (polled for new ones)
kind = "ais"                     # ais, gate, customs, tide
glob = "spool/*.nmea"
format = "auto"
```

The token is never read from the file: only from the environment (`token_env`). Without it,
`/ingest` is disabled (403). Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 2 for a bad
config, 1 when the twin cannot start (port in use, corrupt journal).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from feeds.bus import DEFAULT_ORIGINS
from feeds.journal import JournalCorrupt
from feeds.live import (
    EngineFactory,
    LiveConfig,
    LiveTwin,
    files_source,
    real_engine_factory,
    sim_step_s,
    simulator_source,
)

DEFAULT_TOKEN_ENV = "TWIN_INGEST_TOKEN"


class ConfigError(Exception):
    """The config file is missing, not TOML, or has a bad value (the message names the key)."""


@dataclass
class ServeSettings:
    """The parsed config: the live config plus what is needed to build the sources lazily."""

    live: LiveConfig
    simulate: dict[str, Any] | None
    geodata_dir: Path | None
    engine_spec: str = "twin"


def _path(base: Path, value: Any, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a path string, got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _number(table: dict[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}.{key} must be a non-negative number, got {value!r}")
    return float(value)


def _engine_factory(spec: str, port_model: Any) -> EngineFactory:
    if spec == "twin":
        return real_engine_factory(port_model)
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ConfigError(f"live.engine must be 'twin' or 'module:callable', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"live.engine {spec!r} cannot be loaded: {exc}") from exc
    if not callable(factory):
        raise ConfigError(f"live.engine {spec!r} is not callable")
    return factory


def load_settings(config_file: Path, environ: dict[str, str] | None = None) -> ServeSettings:
    """Read and check `config_file`; raises `ConfigError` naming the bad key. Loads no port model."""
    env = dict(os.environ if environ is None else environ)
    try:
        raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot be read ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_file}: not valid TOML: {exc}") from exc
    base = config_file.resolve().parent
    live = raw.get("live", {})
    if not isinstance(live, dict):
        raise ConfigError("[live] must be a table")
    unknown = set(live) - {"host", "ws_port", "journal_dir", "history_dir", "origins", "token_env",
                           "snapshot_every_s", "history_flush_s", "tick_s", "engine"}
    if unknown:
        raise ConfigError(f"[live] has unknown keys {sorted(unknown)}")
    port = live.get("ws_port", 8765)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"live.ws_port must be an integer 0..65535, got {port!r}")
    host = live.get("host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"live.host must be a host name or address, got {host!r}")
    origins = live.get("origins", list(DEFAULT_ORIGINS))
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise ConfigError("live.origins must be a list of strings")
    token_env = live.get("token_env", DEFAULT_TOKEN_ENV)
    token = env.get(str(token_env)) or None
    history = live.get("history_dir")
    simulate = raw.get("simulate")
    if simulate is not None and not isinstance(simulate, dict):
        raise ConfigError("[simulate] must be a table")
    geodata = raw.get("geodata", {})
    geodata_dir = _path(base, geodata["dir"], "geodata.dir") if "dir" in geodata else None
    sources = []
    for index, item in enumerate(raw.get("files", [])):
        kind = item.get("kind")
        if kind not in ("ais", "gate", "customs", "tide"):
            raise ConfigError(f"files[{index}].kind must be ais, gate, customs or tide, got {kind!r}")
        pattern = _path(base, item.get("glob"), f"files[{index}].glob")
        sources.append(files_source(kind, str(pattern), str(item.get("format", "auto"))))
    config = LiveConfig(
        journal_dir=_path(base, live.get("journal_dir", "var/journal"), "live.journal_dir"),
        history_dir=None if history is None else _path(base, history, "live.history_dir"),
        make_engine=lambda _snapshot: _never(),  # replaced once the port model is loaded
        host=host,
        ws_port=port,
        token=token,
        origins=tuple(origins),
        snapshot_every_s=_number(live, "snapshot_every_s", 60.0, "live"),
        history_flush_s=_number(live, "history_flush_s", 10.0, "live"),
        tick_s=_number(live, "tick_s", 1.0, "live"),
        sim_clock=simulate is not None,
        sources=sources,
    )
    return ServeSettings(config, simulate, geodata_dir, str(live.get("engine", "twin")))


def _never() -> Any:
    raise RuntimeError("the engine factory was not set")


def _sim_config(table: dict[str, Any]) -> Any:
    from feeds.simulate import SimConfig

    start = table.get("start_utc")
    try:
        start_utc = datetime.fromisoformat(str(start).replace("Z", "+00:00")) if start else None
    except ValueError as exc:
        raise ConfigError(f"simulate.start_utc {start!r} is not an ISO 8601 time") from exc
    if start_utc is not None and start_utc.tzinfo is None:
        raise ConfigError("simulate.start_utc needs an offset (Z or +08:00)")
    kwargs: dict[str, Any] = {"seed": int(table.get("seed", 7)),
                              "hours": _number(table, "hours", 24.0, "simulate")}
    if start_utc is not None:
        kwargs["start_utc"] = start_utc
    return SimConfig(**kwargs)


def build(settings: ServeSettings) -> LiveTwin:
    """Load the port model (when the engine or simulator needs it) and assemble the live twin."""
    config = settings.live
    spec = settings.engine_spec
    port_model: Any = None
    if spec == "twin" or settings.simulate is not None:
        from geodata import load_port

        port_model = load_port(settings.geodata_dir)
    config.make_engine = _engine_factory(spec, port_model)
    if settings.simulate is not None:
        from feeds.simulate import Simulation

        table = settings.simulate
        simulation = Simulation(_sim_config(table), port_model)
        speed = _number(table, "speed", 10.0, "simulate")
        step_s = _number(table, "step_s", sim_step_s(speed), "simulate")
        config.sources.append(simulator_source(simulation, step_s, speed))
    return LiveTwin(config)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`twin serve` options."""
    parser.add_argument("--config", type=Path, required=True, help="TOML config file (see feeds/serve.py)")
    parser.add_argument("--port", type=int, default=None, help="override live.ws_port (0 = any free port)")
    parser.add_argument("--host", default=None, help="override live.host")


async def _serve(twin: LiveTwin) -> None:
    def ready(live: LiveTwin) -> None:
        url = live.server.url
        http = url.replace("ws://", "http://")
        print(f"twin serve: listening on {url}\n"
              f"  stream  {url}/stream\n  ingest  {url}/ingest\n  health  {http}/health", flush=True)
        print(f"twin serve: journal {live.config.journal_dir} at seq {live.applied_seq} "
              f"(snapshot {live.snapshot_seq}, replayed {live.replayed}); "
              f"ingest {'enabled' if live.config.token else 'disabled (no token in the environment)'}",
              flush=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)

    def stop() -> None:
        if twin.stop_event is not None:
            twin.stop_event.set()

    await twin.run(ready=ready)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code."""
    try:
        settings = load_settings(args.config)
        if args.port is not None:
            settings.live.ws_port = args.port
        if args.host is not None:
            settings.live.host = args.host
        twin = build(settings)
    except ConfigError as exc:
        print(f"twin serve: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(twin))
    except (OSError, JournalCorrupt) as exc:
        print(f"twin serve: cannot run: {exc}", file=sys.stderr)
        return 1
    print("twin serve: stopped", flush=True)
    return 0
