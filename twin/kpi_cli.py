"""`twin kpi --history DIR [--from ISO --to ISO] [--window today|24h|7d] [--by FIELD] [--json]`.

Reads the history store (feeds.store: the *inputs*, canonical feed rows), replays them in time order
through a fresh `twin.engine.Engine` in batches of `--step-s` seconds (each batch holds the rows of
`[t, t + step)` and is applied with `now = t + step`, batch edges on multiples of the step since the
epoch, empty batches included, as the live process does), then computes every KPI of `twin.kpi` over
the window from the engine's events and the stored gate/customs rows. Prints the figures with their
units and definitions (`--json`: one JSON document on stdout).

The history store holds feed rows only; the calls' cargo figures (`port_call_cargo`: call_id, mmsi,
tonnes, teu, cargo) come from `--cargo FILE` (Parquet or CSV) or `DIR/port_call_cargo/**/*.parquet`,
and are applied before the first batch. Without them throughput is unknown (counted, not zero).
Exit codes: 0 done, 2 bad arguments or an empty history.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from feeds.schema import SCHEMAS

DEFAULT_STEP_S = 60.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_OF_INGEST = ("ais", "gate", "customs", "tide")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    parser.add_argument("--history", required=True, type=Path, help="history store directory (twin ingest)")
    parser.add_argument("--from", dest="start", help="window start, ISO 8601 with offset (custom window)")
    parser.add_argument("--to", dest="end", help="window end and replay clock, ISO 8601 with offset "
                                                  "(default: the newest stored row, rounded up to a step)")
    parser.add_argument("--window", choices=["today", "24h", "7d"], default="today",
                        help="window ending at --to when --from is not given (default: today, local day)")
    parser.add_argument("--by", help="group by: port_area, terminal, cargo, vessel_class, berth_id, gate_id, "
                                     "direction, channel, mode, feed (KPIs that cannot are left out)")
    parser.add_argument("--cargo", type=Path, help="calls' cargo figures (Parquet or CSV: call_id, mmsi, "
                                                   "tonnes, teu, cargo)")
    parser.add_argument("--lookback-h", type=float, default=24.0,
                        help="hours replayed before the window start, so calls begun earlier are known")
    parser.add_argument("--step-s", type=float, default=DEFAULT_STEP_S, help="replay batch length (s)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _time(text: str, name: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SystemExit(f"twin kpi: {name} {text!r} is not ISO 8601: {exc}") from exc
    if t.tzinfo is None:
        raise SystemExit(f"twin kpi: {name} {text!r} has no offset (a local time is never guessed)")
    return t.astimezone(UTC)


def _newest(history: Path) -> datetime | None:
    from feeds.store import read_history

    newest: datetime | None = None
    for kind in SCHEMAS:
        t = read_history(history, kind).select(pl.col("ts_utc").max()).collect().item()
        if isinstance(t, datetime) and (newest is None or t > newest):
            newest = t
    return newest


def _oldest(history: Path, since: datetime) -> datetime | None:
    from feeds.store import read_history

    oldest: datetime | None = None
    for kind in SCHEMAS:
        t = read_history(history, kind, since).select(pl.col("ts_utc").min()).collect().item()
        if isinstance(t, datetime) and (oldest is None or t < oldest):
            oldest = t
    return oldest


def _floor(t: datetime, step_s: float) -> datetime:
    """`t` down to a multiple of `step_s` since the epoch (the live batches' edges)."""
    step_us = max(1, round(step_s * 1_000_000))
    t_us = (t - EPOCH) // timedelta(microseconds=1)
    return EPOCH + timedelta(microseconds=t_us // step_us * step_us)


def _ceil(t: datetime, step_s: float) -> datetime:
    f = _floor(t, step_s)
    return f if f == t else f + timedelta(seconds=step_s)


def read_cargo(history: Path, path: Path | None) -> pl.DataFrame | None:
    """The calls' cargo frame from `path` (Parquet or CSV) or `history/port_call_cargo`; None if neither."""
    if path is not None:
        frame = pl.read_csv(path) if path.suffix.lower() == ".csv" else pl.read_parquet(path)
    elif any((history / "port_call_cargo").glob("**/*.parquet")):
        frame = pl.read_parquet(history / "port_call_cargo" / "**" / "*.parquet")
    else:
        return None
    keep = [c for c in ("call_id", "mmsi", "tonnes", "teu", "cargo") if c in frame.columns]
    return frame.select(keep)


def batches(frames: dict[str, pl.DataFrame], start: datetime, end: datetime,
            step_s: float) -> Iterator[tuple[datetime, dict[str, pl.DataFrame]]]:
    """(now, frames of [now − step, now)) from `start` (a step edge) until `end`, in time order."""
    sorted_frames = {k: f.sort("ts_utc", maintain_order=True) for k, f in frames.items()}
    us = {k: f["ts_utc"].dt.epoch("us").to_numpy() for k, f in sorted_frames.items()}
    step = timedelta(seconds=step_s)
    t = start
    while t < end:
        t_next = min(t + step, end)
        a_us, b_us = (t - EPOCH) // timedelta(microseconds=1), (t_next - EPOCH) // timedelta(microseconds=1)
        out = {}
        for kind, frame in sorted_frames.items():
            i, j = us[kind].searchsorted([a_us, b_us], side="left")
            out[kind] = frame.slice(int(i), int(j - i))
        yield t_next, out
        t = t_next


def replay(history: Path, start: datetime, end: datetime, step_s: float,
           cargo: pl.DataFrame | None) -> tuple[Any, dict[str, pl.DataFrame], pl.DataFrame]:
    """Replay the stored rows of `[start, end)` through a fresh engine of the bundled port.

    Returns (engine, the rows read by kind, the feed counts of the replay). Rejected rows of the
    store count at their ingest time when it lies in `[start, end)`.
    """
    from feeds.store import read_history, read_rejected
    from geodata import load_port
    from twin.engine import Engine
    from twin.kpi import compact_feed_counts, feed_counts_of
    from twin.kpi.core import FEED_COUNT_SCHEMA

    frames = {kind: read_history(history, kind, start, end).collect() for kind in SCHEMAS}
    eng = Engine(load_port())
    if cargo is not None:
        eng.apply({"port_call_cargo": cargo}, start)
    counts = [feed_counts_of(b, now) for now, b in _apply_all(eng, frames, start, end, step_s)]
    for feed in FEED_OF_INGEST:
        rej = (read_rejected(history, feed)
               .filter(pl.col("ingested_utc") >= start, pl.col("ingested_utc") < end)
               .select(pl.col("ingested_utc").dt.truncate("1s").alias("ts_utc")).collect())
        if rej.height:
            counts.append(rej.group_by("ts_utc").agg(pl.len().cast(pl.Int64).alias("rejected"))
                          .with_columns(pl.lit(feed).alias("feed"), pl.lit(0, pl.Int64).alias("rows"))
                          .select("feed", "ts_utc", "rows", "rejected"))
    if not counts:
        return eng, frames, pl.DataFrame(schema=FEED_COUNT_SCHEMA)
    return eng, frames, compact_feed_counts(pl.concat(counts))


def _apply_all(eng: Any, frames: dict[str, pl.DataFrame], start: datetime, end: datetime,
               step_s: float) -> Iterator[tuple[datetime, dict[str, pl.DataFrame]]]:
    for now, batch in batches(frames, start, end, step_s):
        eng.apply(batch, now)
        yield now, batch


def run(args: argparse.Namespace) -> int:
    """Replay, compute, print; returns the exit code."""
    from twin.kpi import Window, compute_all, inputs_from_engine, report

    history: Path = args.history
    if not history.is_dir():
        print(f"twin kpi: no history store at {history}", file=sys.stderr)
        return 2
    newest = _newest(history)
    if newest is None:
        print(f"twin kpi: the history store {history} holds no rows", file=sys.stderr)
        return 2
    end = _time(args.end, "--to") if args.end else _ceil(newest + timedelta(microseconds=1), args.step_s)
    window = Window.custom(_time(args.start, "--from"), end) if args.start else Window.at(args.window, end)
    oldest = _oldest(history, window.start_utc - timedelta(hours=args.lookback_h))
    if oldest is None or oldest >= end:
        print(f"twin kpi: no stored rows before {end.isoformat()}", file=sys.stderr)
        return 2
    start = _floor(oldest, args.step_s)
    eng, frames, counts = replay(history, start, end, args.step_s, read_cargo(history, args.cargo))
    inputs = inputs_from_engine(eng, gate=frames["gate_event"], static=frames["ais_static"],
                                feed_counts=counts, customs=frames["customs_event"])
    try:
        results = compute_all(inputs, window, args.by)
    except ValueError as exc:
        print(f"twin kpi: {exc}", file=sys.stderr)
        return 2
    doc = {"history": str(history), "now_utc": window.to_dict()["end_utc"], "window": window.to_dict(),
           "by": args.by, "replay": {"from_utc": start.isoformat().replace("+00:00", "Z"),
                                     "to_utc": window.to_dict()["end_utc"], "step_s": args.step_s,
                                     "events": eng.events.height},
           "kpis": report(results)}
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=1, default=str))
        return 0
    grouped = "" if args.by is None else f" by {args.by}"
    print(f"KPIs {window.kind} {doc['window']['start_utc']} → {doc['window']['end_utc']}{grouped} "
          f"({doc['replay']['events']} port-call events replayed)")
    for kpi_id, result in results.items():
        d = result.definition
        print(f"\n{kpi_id} [{d.unit}] {d.label_en} / {d.label_zh}\n  {d.formula}\n  source: {d.source}")
        with pl.Config(tbl_rows=50, tbl_cols=12, tbl_hide_dataframe_shape=True):
            print(result.table)
    return 0
