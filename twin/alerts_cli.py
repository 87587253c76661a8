"""`twin alerts`: the alerts a stored history produces, replayed through a fresh engine.

    twin alerts --history DIR --json [--rules FILE] [--geodata DIR] [--step-s 60] [--from T] [--to T]

The history store's inputs (`feeds.store.read_history`: ais_position, ais_static, gate_event,
customs_event, tide_obs) are read one UTC day at a time, cut into windows of `--step-s` seconds and
applied in time order to a fresh `Engine` with an `AlertEngine` attached; each window is applied at
its end time (the replay's clock, never the wall clock). Prints every alert transition (raise,
update, escalate, clear) and the final alerts, as JSON with `--json`, else as a text table.
Exit codes: 0 done, 2 bad input (a rules file error, a missing directory).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

KINDS = ("ais_static", "ais_position", "gate_event", "customs_event", "tide_obs")


def _utc(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Wire the options of `twin alerts`."""
    parser.add_argument("--history", required=True, help="history store directory (twin ingest output)")
    parser.add_argument("--rules", help="alert rules TOML (default: the bundled Zhanjiang rules)")
    parser.add_argument("--geodata", help="geodata directory (default: the bundled Zhanjiang set)")
    parser.add_argument("--step-s", type=float, default=60.0, help="replay window, seconds (default 60)")
    parser.add_argument(
        "--from", dest="start", type=_utc, help="replay from this time (ISO 8601, UTC if no zone)"
    )
    parser.add_argument("--to", dest="end", type=_utc, help="replay up to this time (exclusive)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def replay(
    history: str | Path,
    *,
    rules_path: str | None = None,
    geodata_dir: str | None = None,
    step_s: float = 60.0,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """Replay a history store through a fresh Engine + AlertEngine.

    Returns {"history": [transition dicts], "alerts": [final public alerts, cleared too],
    "windows": n applied}. Raises RulesFileError for a bad rules file, ValueError for step_s <= 0.
    """
    from feeds.store import read_history
    from geodata import load_port
    from twin.alert_rules import load_rules
    from twin.alerts import AlertEngine
    from twin.engine import Engine

    if step_s <= 0:
        raise ValueError(f"--step-s must be positive, not {step_s}")
    rules = load_rules(rules_path)
    port = load_port(geodata_dir) if geodata_dir else load_port()
    eng = Engine(port)
    alerts = AlertEngine(port, rules).attach(eng)
    lazy = {k: read_history(history, k, start, end) for k in KINDS}
    spans = [
        f.select(pl.col("ts_utc").min().alias("a"), pl.col("ts_utc").max().alias("b")).collect()
        for f in lazy.values()
    ]
    firsts = [s["a"][0] for s in spans if s["a"][0] is not None]
    lasts = [s["b"][0] for s in spans if s["b"][0] is not None]
    windows = 0
    if firsts:
        step_us = int(step_s * 1_000_000)
        day: date = min(firsts).date()
        while day <= max(lasts).date():
            d0 = datetime(day.year, day.month, day.day, tzinfo=UTC)
            frames = {
                k: f.filter(pl.col("ts_utc") >= d0, pl.col("ts_utc") < d0 + timedelta(days=1)).collect()
                for k, f in lazy.items()
            }
            keyed = {
                k: f.with_columns((pl.col("ts_utc").dt.epoch("us") // step_us).alias("__w"))
                for k, f in frames.items()
                if f.height
            }
            for w in sorted({w for f in keyed.values() for w in f["__w"].unique().to_list()}):
                batch = {k: f.filter(pl.col("__w") == w).drop("__w") for k, f in keyed.items()}
                now = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=(w + 1) * step_us)
                eng.apply({k: f for k, f in batch.items() if f.height}, now)
                windows += 1
            day += timedelta(days=1)
    return {
        "history": alerts.history_records(),
        "alerts": alerts.alerts(include_cleared=True),
        "windows": windows,
    }


def run(args: argparse.Namespace) -> int:
    """Run `twin alerts`; 0 on success, 2 on bad input (message on stderr)."""
    from twin.alert_rules import RulesFileError

    if not Path(args.history).is_dir():
        print(f"twin alerts: no history store at {args.history}", file=sys.stderr)
        return 2
    try:
        out = replay(
            args.history,
            rules_path=args.rules,
            geodata_dir=args.geodata,
            step_s=args.step_s,
            start=args.start,
            end=args.end,
        )
    except (RulesFileError, ValueError, FileNotFoundError) as exc:
        print(f"twin alerts: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(f"{len(out['history'])} alert transitions over {out['windows']} windows")
    for t in out["history"]:
        print(f"{t['ts_utc']}  {t['event']:<11} {t['priority']:<15} {t['alert_id']:<40} {t['text_en']}")
    return 0
