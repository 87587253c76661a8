"""Replay from the history store: the whole twin as it was at a past time.

Two levels:

- **positions** (cheap, no engine): `history_span(dir)` gives the oldest and newest stored
  `ais_position` time; `positions_at(dir, t)` the latest position of every MMSI at or before `t`
  within `window` (30 min by default), with its latest static report and its zone
  (`twin.zones.ZoneIndex`). The fallback when no engine checkpoint covers `t`.
- **the engine at t** (`ReplaySession.snapshot_at(t)`): the newest engine checkpoint at or before
  `t`, then the stored inputs after it up to `t` through that engine, batch by batch as the live
  process applied them; the result is the engine's protocol v1 snapshot at `t` (vessels with
  phases and zones, berths, anchorages, gates, events, KPIs, alerts, charts). A session keeps its
  engine and advances it while `t` moves forward; it restarts from a checkpoint when `t` moves back
  or a newer checkpoint lies between the engine's time and `t`.

What the live process (`feeds.live`) writes for it into the history directory, besides the
canonical frames of `feeds.store`:

    DIR/engine_checkpoints/date=YYYY-MM-DD/ckpt-<engine time>-<seq>.json   (`write_checkpoint`)
    DIR/engine_batches/date=YYYY-MM-DD/part-<uuid>.parquet                 (`write_batch_log`)

A checkpoint is one header line (format, engine time, journal seq, payload length and SHA-256)
then the engine's `to_snapshot_bytes` (alert state and acknowledgements included), written to a
temporary name, fsynced and renamed: a torn or altered file fails its check and is skipped with a
warning (`CheckpointError`), never loaded. The batch log has one row per applied journal record:
its seq, its clock (`now_utc`), its source, and the inputs that are not feed kinds (operator
acknowledgements `alert_ack`, `port_call_cargo`) as Arrow IPC bytes, exactly as applied (the store's
`port_call_cargo` rows are a copy for queries, stamped and conformed, so replay does not use them).

Batching rule: the canonical rows of batch `k` are the stored rows with
`now(k-1) <= ts_utc < now(k)` (the first batch after a checkpoint starts at the checkpoint's time).
That is exactly how the simulator batches (each batch holds `[t - step, t)`); a row that reached a
live process later than the next batch's clock is replayed in the batch of its own time.

Everything is read lazily with polars, so only the days around `t` are opened. Nothing here
touches the disk at import.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from feeds.schema import SCHEMAS
from feeds.store import read_history, write_part
from twin.engine import ship_class_of
from twin.state import iso
from twin.zones import ZoneIndex

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "engine_checkpoints"
BATCH_DIR = "engine_batches"
CHECKPOINT_FORMAT = "zjtwin-checkpoint/1"
_CKPT_NAME = re.compile(r"^ckpt-(\d{8}T\d{6}\.\d{6})Z-(\d{12})\.json$")
_STAMP = "%Y%m%dT%H%M%S.%f"
BATCH_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(),
    "now_utc": pl.Datetime("us", "UTC"),
    "src": pl.String(),
    "kinds": pl.List(pl.String()),            # canonical kinds with rows in the batch …
    "rows": pl.List(pl.Int64()),              # … their row counts …
    "lo_utc": pl.List(pl.Datetime("us", "UTC")),  # … and their first and last row times
    "hi_utc": pl.List(pl.Datetime("us", "UTC")),
    "extra_kinds": pl.List(pl.String()),
    "extra_ipc": pl.List(pl.Binary()),
}

WINDOW = timedelta(minutes=30)

REPLAY_SCHEMA: dict[str, pl.DataType] = {
    "mmsi": pl.Int64(),
    "ts_utc": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "sog_kn": pl.Float64(),
    "cog_deg": pl.Float64(),
    "heading_deg": pl.Float64(),
    "name": pl.String(),
    "ship_class": pl.String(),
    "length_m": pl.Float64(),
    "beam_m": pl.Float64(),
    "draught_m": pl.Float64(),
    "zone_id": pl.String(),
}


def history_span(history_dir: str | Path) -> tuple[datetime, datetime] | None:
    """(oldest, newest) stored `ais_position` time (aware, UTC); None when nothing is stored."""
    span = (
        read_history(history_dir, "ais_position")
        .select(pl.col("ts_utc").min().alias("lo"), pl.col("ts_utc").max().alias("hi"))
        .collect()
    )
    lo, hi = span.row(0)
    return None if lo is None or hi is None else (lo, hi)


def latest_positions(history_dir: str | Path, at: datetime, window: timedelta = WINDOW) -> pl.LazyFrame:
    """Per MMSI the latest stored `ais_position` row with `at - window < ts_utc <= at` (lazy).

    `at` must be timezone-aware (`read_history` raises `ValueError` otherwise). Ties on the same
    time keep the row stored last, as the engine would have applied it last.
    """
    end = at + timedelta(microseconds=1)  # read_history's end is exclusive; "at or before t" is inclusive
    return (
        read_history(history_dir, "ais_position", start=at - window + timedelta(microseconds=1), end=end)
        .drop_nulls(["lon", "lat"])
        .sort("ts_utc", maintain_order=True)
        .group_by("mmsi", maintain_order=True)
        .last()
    )


def positions_at(
    history_dir: str | Path,
    at: datetime,
    index: ZoneIndex | None = None,
    window: timedelta = WINDOW,
) -> pl.DataFrame:
    """The vessels at `at` as stored: one row per MMSI in `REPLAY_SCHEMA`, sorted by MMSI.

    Positions come from `latest_positions`; name, class and dimensions from the MMSI's latest
    `ais_static` at or before `at` (null when none); `zone_id` from `index` (null without one).
    Raises `ValueError` for a naive `at`.
    """
    positions = latest_positions(history_dir, at, window).collect()
    if positions.is_empty():
        return pl.DataFrame(schema=REPLAY_SCHEMA)
    static = (
        read_history(history_dir, "ais_static", end=at + timedelta(microseconds=1))
        .filter(pl.col("mmsi").is_in(positions["mmsi"].implode()))
        .sort("ts_utc", maintain_order=True)
        .group_by("mmsi", maintain_order=True)
        .last()
        .select("mmsi", "name", "ship_type", "length_m", "beam_m", "draught_m")
        .collect()
    )
    frame = positions.join(static, on="mmsi", how="left").with_columns(
        pl.col("ship_type")
        .map_elements(ship_class_of, return_dtype=pl.String, skip_nulls=True)
        .alias("ship_class")
    )
    if index is not None:
        zones = index.locate(frame["lon"], frame["lat"]).get_column("zone_id")
    else:
        zones = pl.Series("zone_id", [None] * frame.height, dtype=pl.String)
    frame = frame.with_columns(zones.alias("zone_id"))
    return frame.select([pl.col(name).cast(dtype) for name, dtype in REPLAY_SCHEMA.items()]).sort("mmsi")


# -- engine checkpoints ---------------------------------------------------------------------------
class CheckpointError(ValueError):
    """A checkpoint file that fails its check (torn, truncated, altered, another format)."""


@dataclass(frozen=True)
class Checkpoint:
    """One engine checkpoint: its file (None for a state a `ReplaySession` keeps in memory), the
    engine time it holds and the journal seq it covers."""

    path: Path | None
    now_utc: datetime
    seq: int


def _day_dir(root: Path, sub: str, at: datetime) -> Path:
    return root / sub / f"date={at.astimezone(UTC).date().isoformat()}"


def write_checkpoint(history_dir: str | Path, payload: bytes, now: datetime, seq: int) -> Path:
    """Store an engine state (`to_snapshot_bytes`) taken at engine time `now` after journal record
    `seq`, atomically (temporary file, fsync, rename); returns its path. ValueError for a naive `now`."""
    if now.tzinfo is None:
        raise ValueError("a checkpoint's engine time must be timezone-aware")
    now = now.astimezone(UTC)
    header = {"format": CHECKPOINT_FORMAT, "now_utc": now.isoformat().replace("+00:00", "Z"), "seq": seq,
              "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    directory = _day_dir(Path(history_dir), CHECKPOINT_DIR, now)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"ckpt-{now.strftime(_STAMP)}Z-{seq:012d}.json"
    temp = directory / f".{final.name}.{uuid.uuid4().hex}.tmp"
    try:
        with temp.open("xb") as handle:
            handle.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return final


def list_checkpoints(history_dir: str | Path, at: datetime | None = None) -> list[Checkpoint]:
    """The stored checkpoints with engine time at or before `at` (all when None), oldest first.

    Only names are read (`ckpt-<time>-<seq>.json`); temporary files are not listed."""
    root = Path(history_dir) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    last_day = None if at is None else f"date={at.astimezone(UTC).date().isoformat()}"
    found = []
    for day in root.glob("date=*"):
        if last_day is not None and day.name > last_day:
            continue
        for path in day.glob("ckpt-*.json"):
            match = _CKPT_NAME.match(path.name)
            if match is None:
                continue
            now = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            if at is None or now <= at:
                found.append(Checkpoint(path, now, int(match.group(2))))
    return sorted(found, key=lambda c: (c.now_utc, c.seq))


def read_checkpoint(checkpoint: Checkpoint | Path) -> bytes:
    """The engine state stored in a checkpoint file, after checking its header, length and SHA-256.

    Raises CheckpointError (naming the file and what failed) for a torn or altered file."""
    path = checkpoint.path if isinstance(checkpoint, Checkpoint) else checkpoint
    if path is None:
        raise CheckpointError("an in-memory checkpoint has no file")
    data = path.read_bytes()
    head, sep, payload = data.partition(b"\n")
    try:
        header = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint header ({exc})") from exc
    if not sep or not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a checkpoint of format {CHECKPOINT_FORMAT}")
    if len(payload) != header.get("bytes"):
        raise CheckpointError(f"{path}: torn checkpoint: {len(payload)} of {header.get('bytes')} bytes")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise CheckpointError(f"{path}: checkpoint payload does not match its SHA-256")
    return payload


def newest_checkpoint(history_dir: str | Path, at: datetime) -> tuple[Checkpoint, bytes] | None:
    """The newest checkpoint at or before `at` that passes its check, with its engine state; a bad
    one is logged (warning, with the reason) and the next older one tried. None when there is none."""
    for checkpoint in reversed(list_checkpoints(history_dir, at)):
        try:
            return checkpoint, read_checkpoint(checkpoint)
        except (CheckpointError, OSError) as exc:
            log.warning("skipping checkpoint %s: %s", checkpoint.path, exc)
    return None


# -- the batch log ---------------------------------------------------------------------------------
def write_batch_log(
    history_dir: str | Path, batches: Sequence[tuple[int, datetime, str, dict[str, pl.DataFrame]]]
) -> list[Path]:
    """Append (seq, engine clock, source, frames) of applied journal records to the batch log,
    one Parquet part per UTC day of the clock (`feeds.store.write_part`, atomic). Frames of kinds
    the history store does not hold are kept as Arrow IPC bytes; canonical kinds only by reference
    (their rows are in the store). Returns the written parts."""
    rows = []
    for seq, now, src, frames in batches:
        canonical = {k: f for k, f in frames.items() if k in SCHEMAS and f.height and "ts_utc" in f.columns}
        times = [f.get_column("ts_utc").cast(pl.Datetime("us", "UTC")) for f in canonical.values()]
        extra = {k: f for k, f in frames.items() if k not in SCHEMAS and f.height}
        ipc = []
        for frame in extra.values():
            buffer = io.BytesIO()
            frame.write_ipc(buffer)
            ipc.append(buffer.getvalue())
        rows.append({"seq": seq, "now_utc": now.astimezone(UTC), "src": src, "kinds": list(canonical),
                     "rows": [f.height for f in canonical.values()], "lo_utc": [t.min() for t in times],
                     "hi_utc": [t.max() for t in times], "extra_kinds": list(extra), "extra_ipc": ipc})
    if not rows:
        return []
    frame = pl.DataFrame(rows, schema=BATCH_SCHEMA)
    written = []
    for (day,), part in frame.group_by(pl.col("now_utc").dt.date(), maintain_order=True):
        directory = Path(history_dir) / BATCH_DIR / f"date={day.isoformat()}"
        written.append(write_part(part, directory))
    return written


def read_batch_log(history_dir: str | Path, after_seq: int, start: datetime, end: datetime) -> pl.DataFrame:
    """Batch-log rows with `seq > after_seq` and `start <= now_utc <= end`, by seq (duplicates of an
    at-least-once flush dropped)."""
    root = Path(history_dir) / BATCH_DIR
    if not any(root.glob("date=*/*.parquet")):
        return pl.DataFrame(schema=BATCH_SCHEMA)
    return (
        pl.scan_parquet(root / "**" / "*.parquet", hive_partitioning=True, hive_schema={"date": pl.Date()},
                        schema={**BATCH_SCHEMA, "date": pl.Date()})
        .filter(pl.col("date") >= start.astimezone(UTC).date(), pl.col("date") <= end.astimezone(UTC).date(),
                pl.col("seq") > after_seq, pl.col("now_utc") >= start, pl.col("now_utc") <= end)
        .drop("date")
        .unique("seq", keep="first", maintain_order=True)
        .sort("seq")
        .collect()
    )


# -- the engine at a past time ---------------------------------------------------------------------
class ReplayEngine(Protocol):
    """What a replay needs of an engine (`twin.alerts.AlertingEngine`, `twin.engine.Engine`)."""

    def apply(self, frames: dict[str, pl.DataFrame], now: datetime) -> Any: ...

    def snapshot(self, now: datetime) -> dict[str, Any]: ...

    def to_snapshot_bytes(self) -> bytes: ...


def input_batches(
    history_dir: str | Path, after_seq: int, start: datetime, end: datetime
) -> list[tuple[int, datetime, dict[str, pl.DataFrame]]]:
    """The stored inputs of the journal records after `after_seq` whose clock is in `[start, end]`,
    as (seq, clock, frames) in seq order (`start` is the clock of the state they apply to: a
    checkpoint's or the last applied batch's).

    The rows of a canonical kind are dealt to the records that held that kind (the batch log says
    which, how many rows and their first and last time) by time: a record's rows end at the later of
    its clock and its last row, the next record's begin there. That is exact when a feed delivers
    in time order (the simulator does); otherwise the counts disagree and a warning says the
    replay of those records is approximate.
    """
    log_rows = read_batch_log(history_dir, after_seq, start, end)
    if log_rows.is_empty():
        return []
    batches: list[tuple[int, datetime, dict[str, pl.DataFrame]]] = []
    # kind → the records holding it: (index in `batches`, rows, first row time, last row time, clock)
    held: dict[str, list[tuple[int, int, datetime, datetime, datetime]]] = {}
    for i, row in enumerate(log_rows.iter_rows(named=True)):
        frames: dict[str, pl.DataFrame] = {}
        for kind, blob in zip(row["extra_kinds"] or [], row["extra_ipc"] or [], strict=True):
            frames[kind] = pl.read_ipc(io.BytesIO(blob))
        for kind, n, lo, hi in zip(row["kinds"] or [], row["rows"] or [], row["lo_utc"] or [],
                                   row["hi_utc"] or [], strict=True):
            held.setdefault(kind, []).append((i, int(n), lo, hi, row["now_utc"]))
        batches.append((int(row["seq"]), row["now_utc"], frames))
    one_us = timedelta(microseconds=1)
    for kind, items in held.items():
        edges: list[datetime] = []
        for _i, _n, _lo, hi, now in items:  # where each record's rows end (exclusive), never decreasing
            edge = max(now, hi + one_us)
            edges.append(edge if not edges else max(edge, edges[-1]))
        first = min(items[0][2], start)
        rows = read_history(history_dir, kind, start=first, end=edges[-1]).collect()
        if rows.is_empty():
            continue
        bounds = pl.Series("bounds", edges, dtype=pl.Datetime("us", "UTC"))
        rows = rows.with_columns(bounds.search_sorted(rows["ts_utc"], side="right").alias("__k"))
        dealt = {int(k): part.drop("__k") for (k,), part in rows.group_by("__k", maintain_order=True)}
        short = [batches[i][0] for k, (i, n, *_rest) in enumerate(items)
                 if (dealt[k].height if k in dealt else 0) != n]
        if short:
            log.warning("replay of %s in records %s is approximate: stored rows out of time order", kind,
                        short[:5])
        for k, part in dealt.items():
            batches[items[k][0]][2][kind] = part
    return batches


class ReplaySession:
    """One desk session's replay engine: `snapshot_at(t)` is the engine's snapshot at `t`.

    `make_engine(state)` builds an engine from a checkpoint's bytes (`feeds.live.real_engine_factory`
    suits). Forward moves apply only the batches after the engine's time; a move back, or one past a
    newer checkpoint, restarts from the newest checkpoint at or before `t`: a stored one, or one
    of the states the session keeps in memory every `memory_every_s` of engine time while it
    advances (at most `memory_bytes` of them, oldest dropped), so that stepping back a minute
    replays a minute, not up to a checkpoint interval. Thread-safe.
    """

    def __init__(
        self,
        history_dir: str | Path,
        make_engine: Callable[[bytes], ReplayEngine],
        memory_every_s: float = 60.0,
        memory_bytes: int = 64 * 2**20,
    ) -> None:
        self.history_dir = Path(history_dir)
        self.make_engine = make_engine
        self.memory_every_s = memory_every_s
        self.memory_bytes = memory_bytes
        self._memory: list[tuple[Checkpoint, bytes]] = []  # by engine time
        self.engine: ReplayEngine | None = None
        self.seq = 0                       # journal seq of the last record in the engine
        self.now: datetime | None = None   # its clock
        self.restored_from: Checkpoint | None = None
        self.applied = 0                   # batches applied by the last call (for measurements)
        self._lock = threading.Lock()

    def snapshot_at(self, at: datetime) -> dict[str, Any] | None:
        """The engine's protocol v1 snapshot at `at` (aware), or None when no checkpoint is at or
        before `at`. Raises ValueError for a naive `at`."""
        if at.tzinfo is None:
            raise ValueError("a replay time must be timezone-aware")
        with self._lock:
            if not self._seek(at):
                return None
            assert self.engine is not None
            return self.engine.snapshot(at)

    def recent_events(self, limit: int) -> list[dict[str, Any]]:
        """The replay engine's latest `limit` port-call events (contracts §3 shape), oldest first;
        empty before the first `snapshot_at` or for an engine without an event log."""
        log_ = getattr(self.engine, "event_log", None) or []
        return [{"ts_utc": iso(e[0]), "mmsi": e[1], "call_id": e[2], "event": e[3], "location_id": e[4]}
                for e in sorted(log_[-limit:], key=lambda e: e[0])]

    def zone_since(self) -> dict[int, str | None]:
        """Per MMSI of the replay engine, the time (ISO UTC) of its first report in its current zone
        (`VesselState.zone_since_us`; None where unknown): the exact "time in zone" at the replayed
        time, which the protocol's vessel table does not carry."""
        vessels = getattr(self.engine, "vessels", None) or {}
        return {int(m): iso(getattr(v, "zone_since_us", None)) for m, v in vessels.items()}

    def _restored(self, payload: bytes) -> ReplayEngine:
        """The session's engine in the checkpoint's state: restored in place when it can be (no new
        zone index, rules or grids to build: most of a restore's cost), else a new one."""
        load = getattr(self.engine, "load_snapshot", None)
        if callable(load):
            try:
                load(payload)
            except ValueError as exc:
                log.info("replay engine rebuilt: %s", exc)
            else:
                assert self.engine is not None
                return self.engine
        return self.make_engine(payload)

    def _seek(self, at: datetime) -> bool:
        self.applied = 0
        newest = list_checkpoints(self.history_dir, at)
        behind = self.engine is None or self.now is None or at < self.now
        if behind or (newest and newest[-1].seq > self.seq):
            found = newest_checkpoint(self.history_dir, at)
            kept = [item for item in self._memory if item[0].now_utc <= at]
            if kept and (found is None or kept[-1][0].seq > found[0].seq):
                found = kept[-1]
            if found is None:
                self.engine, self.now, self.seq, self.restored_from = None, None, 0, None
                return False
            checkpoint, payload = found
            self.engine = self._restored(payload)
            self.now, self.seq, self.restored_from = checkpoint.now_utc, checkpoint.seq, checkpoint
        assert self.engine is not None and self.now is not None
        for seq, now, frames in input_batches(self.history_dir, self.seq, self.now, at):
            self.engine.apply(frames, now)
            self.seq, self.now = seq, now
            self.applied += 1
            self._remember()
        return True

    def _remember(self) -> None:
        """Keep the engine's state in memory when `memory_every_s` passed since the last one kept."""
        assert self.engine is not None and self.now is not None
        if self.memory_every_s <= 0 or self.memory_bytes <= 0:
            return
        last = max((c.now_utc for c, _ in self._memory if c.now_utc <= self.now), default=None)
        if last is not None and (self.now - last).total_seconds() < self.memory_every_s:
            return
        if any(c.seq == self.seq for c, _ in self._memory):
            return
        self._memory.append((Checkpoint(None, self.now, self.seq), self.engine.to_snapshot_bytes()))
        self._memory.sort(key=lambda item: (item[0].now_utc, item[0].seq))
        while sum(len(b) for _, b in self._memory) > self.memory_bytes and len(self._memory) > 1:
            self._memory.pop(0)
