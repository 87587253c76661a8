"""The live twin process: sources → journal → engine → bus, on one asyncio loop.

Order of every input batch (simulator tick, ingest message, file):
1. validated into canonical frames (off the loop, in a worker thread);
2. appended to the journal (`feeds.journal`), which gives it its seq;
3. made durable by a group-commit fsync; an ingest client gets `{"ack": seq}` only now;
4. applied to the engine strictly in seq order (`engine.apply(frames, now)`), in a worker
   thread under the engine lock; the delta is serialised once, in the same thread, and queued
   to every `/stream` client by the hub;
5. buffered for the history store and written there in periodic flushes (at-least-once: a
   crash between a flush and its watermark can store a batch twice; the calls' cargo too, under
   `port_call_cargo`), with one batch-log row per record (its seq, clock and the inputs that are
   not feed rows: acknowledgements, the calls' cargo, as applied) for `feeds.replay`;
6. every `checkpoint_every_s` of *engine* time, the engine's whole state (alerts included) is
   written to the history directory as a checkpoint (`feeds.replay.write_checkpoint`): a replay
   starts from the newest one before the time asked for.

The engine is snapshotted every `snapshot_every_s` seconds (and at a clean stop) with the seq
it covers; recovery = newest snapshot + replay of the journal after it, so a `kill -9` loses
nothing acknowledged. `start_live` runs all this in a background thread with its own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Protocol

import polars as pl

from feeds.bus import DEFAULT_ORIGINS, FEED_OF_KIND, OUTBOX_MESSAGES, BusServer, Hub, IngestBatch
from feeds.journal import Journal, Record
from feeds.schema import SCHEMAS, STORED_SCHEMAS, conform

log = logging.getLogger(__name__)

MAX_PENDING: Final = 256              # journalled batches waiting for the engine before sources wait
STALE_AFTER_S: Final = {"ais": 120.0, "gate": 900.0, "customs": 3600.0, "tide": 1200.0}
WATERMARK_FILE: Final = ".live-history-watermark.json"
_ENVELOPE_KEYS: Final = ("v", "type", "seq")


class DeltaLike(Protocol):
    """What `Engine.apply` returns (contracts §5)."""

    def to_message(self) -> dict[str, Any]: ...


class EngineLike(Protocol):
    """The engine calls the live process makes (contracts §5)."""

    def apply(self, frames: dict[str, pl.DataFrame], now: datetime) -> DeltaLike: ...

    def snapshot(self, now: datetime) -> dict[str, Any]: ...

    def state_hash(self) -> str: ...

    def to_snapshot_bytes(self) -> bytes: ...


# A batch waiting for the history store: (journal seq, accepted frames, rejected rows, feed name,
# the batch's clock, its source); the last two go to the replay's batch log (feeds.replay).
HistoryItem = tuple[int, dict[str, pl.DataFrame], pl.DataFrame, str, datetime, str]

# An engine factory: None → a fresh engine; bytes → the engine restored from a snapshot.
EngineFactory = Callable[[bytes | None], EngineLike]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _json_default(value)


def message_body(message: dict[str, Any], now: datetime, applied: int) -> str:
    """An engine message dict as JSON text, without envelope keys, with `ts_utc` and `applied`."""
    body = {key: value for key, value in message.items() if key not in _ENVELOPE_KEYS}
    body.setdefault("ts_utc", _iso(now))
    body["applied"] = applied
    return json.dumps(body, default=_json_default, separators=(",", ":"), allow_nan=False)


def _is_empty(delta: DeltaLike, message: dict[str, Any]) -> bool:
    """Whether a delta changed nothing: the engine's own `empty` flag when it has one."""
    flag = getattr(delta, "empty", None)
    if isinstance(flag, bool):
        return flag
    check = getattr(delta, "is_empty", None)
    if callable(check):
        return bool(check())
    for key, value in message.items():
        if key in (*_ENVELOPE_KEYS, "ts_utc"):
            continue
        if isinstance(value, dict) and "rows" in value:
            if value.get("rows") or value.get("removed"):
                return False
        elif value:
            return False
    return True


@dataclass
class FeedState:
    """Freshness of one feed: newest data time and when data last arrived (wall clock)."""

    last_utc: datetime | None = None
    received_wall: float | None = None
    rows: int = 0
    rejected: int = 0


@dataclass
class LiveConfig:
    """Settings of one live process.

    `snapshot_every_s` and `history_flush_s` are wall-clock seconds; `max_pending` bounds the
    journalled batches waiting for the engine (sources wait when it is reached).
    `checkpoint_every_s` is engine (twin clock) seconds between replay checkpoints in
    `history_dir` (0 = none; none without a history directory).
    """

    journal_dir: Path
    make_engine: EngineFactory
    history_dir: Path | None = None
    host: str = "127.0.0.1"
    ws_port: int = 8765
    token: str | None = None
    origins: Sequence[str] = DEFAULT_ORIGINS
    snapshot_every_s: float = 60.0
    history_flush_s: float = 10.0
    checkpoint_every_s: float = 900.0
    outbox_messages: int = OUTBOX_MESSAGES
    max_pending: int = MAX_PENDING
    sim_clock: bool = False                 # ingest uses the simulator's clock, not the wall clock
    tick_s: float = 1.0                     # wall-clock ticks when idle (0 = none); see LiveTwin._tick_loop
    sources: list[Callable[[LiveTwin], Any]] = field(default_factory=list)  # coroutine factories


class LiveTwin:
    """Journal, engine, hub and sources of one live process; implements `feeds.bus.LiveCore`.

    Construction does no I/O; `recover()` (blocking) opens the journal and rebuilds the engine,
    `run()` (async) serves until `stop_event` is set.
    """

    def __init__(self, config: LiveConfig) -> None:
        self.config = config
        self.journal: Journal | None = None
        self.engine: EngineLike | None = None
        self.applied_seq = 0
        self.snapshot_seq = 0
        self.replayed = 0
        self._now: datetime | None = None          # clock of the last applied batch
        self.feeds: dict[str, FeedState] = {name: FeedState() for name in STALE_AFTER_S}
        self.counters: dict[str, int] = {"batches": 0, "engine_errors": 0, "history_errors": 0,
                                         "deltas": 0, "snapshot_errors": 0}
        self.ingest_errors: dict[str, int] = {}
        self.rejected_by_rule: dict[str, int] = {}
        self.hub = Hub(self, config.outbox_messages)
        self.server = BusServer(self, self.hub, host=config.host, port=config.ws_port, token=config.token,
                                origins=config.origins)
        self.stop_event: asyncio.Event | None = None
        self.done_files: set[str] = set()
        self._pending: dict[int, Record] = {}
        self._pending_changed: asyncio.Event | None = None
        self._engine_lock: asyncio.Lock | None = None
        self._sync_task: asyncio.Future[int] | None = None
        self._history: list[HistoryItem] = []
        self._history_watermark = 0
        self._flush_lock = asyncio.Lock()
        self._flush_inflight: tuple[asyncio.Future[None], list[HistoryItem]] | None = None
        self._snapshot_cache: tuple[int, str] | None = None
        self._started_wall = time.time()
        # recent stage durations in seconds, for /health (where the time of a batch goes)
        self.timings: dict[str, deque[float]] = {}
        self._journalled_at: dict[int, float] = {}
        self._sim_t: datetime | None = None
        self._last_submit = time.monotonic()
        self._next_checkpoint: float | None = None  # engine time (epoch s) of the next replay checkpoint
        self._checkpoint_due: tuple[bytes, datetime, int] | None = None
        self._checkpoint_writes: set[asyncio.Future[None]] = set()

    # -- recovery ------------------------------------------------------------------------
    def recover(self) -> None:
        """Open the journal, restore the newest snapshot and replay the records after it (blocking)."""
        journal = Journal(self.config.journal_dir)
        self.journal = journal
        latest = journal.latest_snapshot()
        base = 0
        payload: bytes | None = None
        if latest is not None:
            base, payload = latest.seq, latest.payload
            clock = latest.meta.get("now_utc")
            if isinstance(clock, str):
                self._now = datetime.fromisoformat(clock.replace("Z", "+00:00"))
            self.done_files.update(str(name) for name in latest.meta.get("done_files", []))
        self.engine = self.config.make_engine(payload)
        self.snapshot_seq = base
        self._history_watermark = self._read_watermark()
        start = min(base, self._history_watermark) if self.config.history_dir else base
        for record in journal.records(after=start):
            if record.seq > base:
                self._apply_record(record)
                if (due := self._take_checkpoint_due()) is not None:
                    self._write_checkpoint(due)
                self.replayed += 1
            self._note_record(record)
            if self.config.history_dir and record.seq > self._history_watermark:
                rejected = pl.DataFrame()
                self._history.append((record.seq, record.frames, rejected, str(record.meta.get("feed", "")),
                                      record.now, str(record.meta.get("src", ""))))
        self.applied_seq = journal.last_seq

    def _note_record(self, record: Record) -> None:
        self._now = record.now if self._now is None else max(self._now, record.now)
        name = record.meta.get("file")
        if isinstance(name, str):
            self.done_files.add(name)

    def _read_watermark(self) -> int:
        if self.config.history_dir is None:
            return 0
        path = Path(self.config.history_dir) / WATERMARK_FILE
        try:
            return int(json.loads(path.read_text())["seq"])
        except FileNotFoundError:
            return 0
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            log.warning("history watermark %s unreadable; history may get duplicates", path)
            return 0

    def _apply_record(self, record: Record) -> str | None:
        """Apply one record to the engine; returns the delta body text or None (blocking)."""
        assert self.engine is not None
        try:
            delta = self.engine.apply(record.frames, record.now)
            message = delta.to_message()
            body = None if _is_empty(delta, message) else message_body(message, record.now, record.seq)
        except Exception as exc:  # an engine bug on one batch must not stop the port
            self.counters["engine_errors"] += 1
            log.error("engine failed on journal record %d: %s: %s", record.seq, type(exc).__name__, exc)
            return None
        self._checkpoint_due = self._checkpoint_payload(record)
        return body

    def _checkpoint_payload(self, record: Record) -> tuple[bytes, datetime, int] | None:
        """The engine's state for a replay checkpoint after the first record and then at the first
        record at or after each `checkpoint_every_s` boundary of engine time; None when none is due
        (blocking; called with the engine held). `_write_checkpoint` stores it, off the engine lock."""
        every = self.config.checkpoint_every_s
        if self.config.history_dir is None or every <= 0 or self.engine is None:
            return None
        t = record.now.timestamp()
        if self._next_checkpoint is not None and t < self._next_checkpoint:
            return None
        self._next_checkpoint = (t // every + 1) * every
        started = time.perf_counter()
        try:
            payload = self.engine.to_snapshot_bytes()
        except Exception as exc:  # a missing checkpoint only lengthens a replay; the port goes on
            self.counters["checkpoint_errors"] = self.counters.get("checkpoint_errors", 0) + 1
            log.error("replay checkpoint at seq %d failed: %s: %s", record.seq, type(exc).__name__, exc)
            return None
        self.note_timing("checkpoint_state", time.perf_counter() - started)
        return payload, record.now, record.seq

    def _write_checkpoint(self, due: tuple[bytes, datetime, int]) -> None:
        """Store one checkpoint (`feeds.replay.write_checkpoint`; blocking, atomic)."""
        from feeds.replay import write_checkpoint

        assert self.config.history_dir is not None
        payload, now, seq = due
        try:
            write_checkpoint(self.config.history_dir, payload, now, seq)
        except OSError as exc:
            self.counters["checkpoint_errors"] = self.counters.get("checkpoint_errors", 0) + 1
            log.error("replay checkpoint at seq %d not written: %s", seq, exc)
            return
        self.counters["checkpoints"] = self.counters.get("checkpoints", 0) + 1

    def _take_checkpoint_due(self) -> tuple[bytes, datetime, int] | None:
        due, self._checkpoint_due = self._checkpoint_due, None
        return due

    # -- LiveCore ------------------------------------------------------------------------
    def clock(self) -> datetime:
        """The twin's time: the simulator's when it drives the twin, else the wall clock."""
        if self.config.sim_clock and self._sim_t is not None:
            return self._sim_t
        wall = datetime.now(UTC)
        return wall if self._now is None else max(wall, self._now)

    async def submit_ingest(self, batch: IngestBatch) -> asyncio.Future[int]:
        """Journal one ingest batch; the returned future resolves to its seq once durable."""
        self._count_rejected(batch.feed, batch.rejected)
        seq = await self.submit(batch.frames, self.clock(), {"src": "ingest", "feed": batch.feed},
                                batch.rejected)
        return asyncio.ensure_future(self._durable(seq))

    async def snapshot_message(self) -> tuple[int, str]:
        """(applied seq, snapshot body text), built under the engine lock, cached per seq."""
        assert self._engine_lock is not None and self.engine is not None
        async with self._engine_lock:
            cached = self._snapshot_cache
            if cached is not None and cached[0] == self.applied_seq:
                return cached
            applied = self.applied_seq
            now = self._now or datetime.now(UTC)
            engine = self.engine
            body = await asyncio.to_thread(lambda: message_body(engine.snapshot(now), now, applied))
            self._snapshot_cache = (applied, body)
            return applied, body

    def count_ingest_error(self, rule: str) -> None:
        """Count an ingest message refused as a whole, by rule."""
        self.ingest_errors[rule] = self.ingest_errors.get(rule, 0) + 1

    async def state_hash(self) -> str:
        """The engine's `state_hash()`, under the engine lock and off the loop."""
        assert self._engine_lock is not None and self.engine is not None
        engine = self.engine
        async with self._engine_lock:
            return await asyncio.to_thread(engine.state_hash)

    def health(self) -> dict[str, Any]:
        """Feed freshness, engine seq and counters (the `/health` body)."""
        wall = time.time()
        feeds: dict[str, Any] = {}
        for name, state in self.feeds.items():
            age = None if state.received_wall is None else round(wall - state.received_wall, 3)
            feeds[name] = {
                "last_utc": _iso(state.last_utc),
                "received_age_s": age,
                "rows": state.rows,
                "rejected": state.rejected,
                "stale": age is None or age > STALE_AFTER_S[name],
            }
        journal = self.journal
        body: dict[str, Any] = {
            "v": 1,
            "status": "ok" if self.engine is not None else "starting",
            "now_utc": _iso(self._now),
            "engine": {"seq": self.applied_seq, "snapshot_seq": self.snapshot_seq,
                       "replayed_on_start": self.replayed, "pending": len(self._pending)},
            "journal": {"last_seq": journal.last_seq if journal else 0,
                        "synced_seq": journal.synced_seq if journal else 0,
                        "truncated_bytes_on_open": journal.truncated_bytes if journal else 0},
            "feeds": feeds,
            "stream": {"clients": len(self.hub.clients), "coalesced": self.hub.coalesced},
            "counters": dict(self.counters),
            "ingest_errors": dict(self.ingest_errors),
            "rejected_by_rule": dict(self.rejected_by_rule),
            "refused": dict(self.server.refused),
            "timings_ms": self._timing_summary(),
            "uptime_s": round(wall - self._started_wall, 1),
        }
        return body

    # -- the pipeline --------------------------------------------------------------------
    def count_rejected(self, feed: str, rejected: pl.DataFrame) -> None:
        """Count rejected rows of a feed, by rule (health: `rejected_by_rule`)."""
        self._count_rejected(feed, rejected)

    def _count_rejected(self, feed: str, rejected: pl.DataFrame) -> None:
        if rejected.is_empty():
            return
        self.feeds[feed].rejected += rejected.height
        for rule, count in rejected.group_by("rule").len().iter_rows():
            self.rejected_by_rule[rule] = self.rejected_by_rule.get(rule, 0) + int(count)

    async def submit(
        self,
        frames: dict[str, pl.DataFrame],
        now: datetime,
        meta: dict[str, Any],
        rejected: pl.DataFrame | None = None,
    ) -> int:
        """Journal one batch (waits while `max_pending` batches wait for the engine); returns its seq.

        The record is not yet durable: await `_durable(seq)` before acknowledging it.
        """
        assert self.journal is not None and self._pending_changed is not None
        while len(self._pending) >= self.config.max_pending:
            self._pending_changed.clear()
            await self._pending_changed.wait()
        frames = {kind: frame for kind, frame in frames.items() if frame.height}
        journal = self.journal
        started = time.perf_counter()
        seq = await asyncio.to_thread(journal.append, frames, now, meta)
        self._journalled_at[seq] = time.perf_counter()
        self.note_timing("journal_append", self._journalled_at[seq] - started)
        self._pending[seq] = Record(seq, now, frames, meta)
        self._last_submit = time.monotonic()
        self._pending_changed.set()
        wall = time.time()
        for kind, frame in frames.items():
            feed = FEED_OF_KIND.get(kind)
            if feed is None or "ts_utc" not in frame.columns:
                continue  # e.g. port_call_cargo: no feed freshness to track
            state = self.feeds[feed]
            state.rows += frame.height
            state.received_wall = wall
            newest = frame.get_column("ts_utc").max()
            if isinstance(newest, datetime) and (state.last_utc is None or newest > state.last_utc):
                state.last_utc = newest
        if self.config.history_dir is not None:
            self._history.append((seq, frames, rejected if rejected is not None else pl.DataFrame(),
                                  str(meta.get("feed", "")), now, str(meta.get("src", ""))))
        self.counters["batches"] += 1
        return seq

    async def _durable(self, seq: int) -> int:
        """Wait until record `seq` is fsynced; concurrent waiters share one fsync (group commit)."""
        journal = self.journal
        assert journal is not None
        while journal.synced_seq < seq:
            if self._sync_task is None or self._sync_task.done():
                self._sync_task = asyncio.ensure_future(self._timed_sync())
            await asyncio.shield(self._sync_task)
        return seq

    async def _timed_sync(self) -> int:
        assert self.journal is not None
        started = time.perf_counter()
        synced = await asyncio.to_thread(self.journal.sync)
        self.note_timing("fsync", time.perf_counter() - started)
        return synced

    def note_timing(self, stage: str, seconds: float) -> None:
        """Record how long one batch spent in `stage` (the last 2,000 per stage are kept)."""
        self.timings.setdefault(stage, deque(maxlen=2000)).append(seconds)

    def _timing_summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for stage, values in self.timings.items():
            ordered = sorted(values)
            if ordered:
                p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
                out[stage] = {"p50_ms": round(1e3 * ordered[len(ordered) // 2], 2),
                              "p99_ms": round(1e3 * p99, 2), "n": len(ordered)}
        return out

    async def _apply_loop(self) -> None:
        assert self._pending_changed is not None and self._engine_lock is not None
        while True:
            following = self.applied_seq + 1
            while following not in self._pending:
                self._pending_changed.clear()
                await self._pending_changed.wait()
            try:
                await self._durable(following)
            except OSError as exc:
                # fsync failed: nothing is applied before it is durable; retry rather than die
                self.counters["journal_errors"] = self.counters.get("journal_errors", 0) + 1
                log.error("journal fsync failed: %s; retrying in 1 s", exc)
                await asyncio.sleep(1.0)
                continue
            record = self._pending.pop(following)
            self._pending_changed.set()  # room for a waiting source
            journalled = self._journalled_at.pop(following, None)
            async with self._engine_lock:
                started = time.perf_counter()
                if journalled is not None:
                    self.note_timing("journalled_to_apply", started - journalled)
                work = asyncio.ensure_future(asyncio.to_thread(self._apply_record, record))
                try:
                    body = await asyncio.shield(work)
                except asyncio.CancelledError:
                    # stopping: the engine is mid-apply in its thread; let it finish and count it,
                    # or the stop snapshot would claim one record less than it holds
                    await asyncio.wait([work])
                    self.applied_seq = following
                    self._note_record(record)
                    raise
                self.note_timing("apply", time.perf_counter() - started)
                self.applied_seq = following
                self._note_record(record)
                due = self._take_checkpoint_due()
            if due is not None:  # written beside the engine, never holding it
                write = asyncio.ensure_future(asyncio.to_thread(self._write_checkpoint, due))
                self._checkpoint_writes.add(write)
                write.add_done_callback(self._checkpoint_writes.discard)
            if body is not None:
                self.counters["deltas"] += 1
                self.hub.publish(following, body)

    async def _snapshot_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.snapshot_every_s)
            await self.take_snapshot()

    async def take_snapshot(self) -> None:
        """Store an engine snapshot covering every applied record (skipped when nothing is new)."""
        assert self._engine_lock is not None and self.engine is not None and self.journal is not None
        if self.applied_seq == self.snapshot_seq:
            return
        engine = self.engine
        async with self._engine_lock:
            seq = self.applied_seq
            # besides the engine: the clock (a resumed simulation starts after it) and the files
            # already read, whose journal records may be pruned with the segments this covers
            meta = {"now_utc": _iso(self._now), "done_files": sorted(self.done_files)}
            work = asyncio.ensure_future(asyncio.to_thread(engine.to_snapshot_bytes))
            try:
                payload = await asyncio.shield(work)
            except asyncio.CancelledError:
                await asyncio.wait([work])  # never release the engine lock while it is being read
                raise
            except Exception as exc:  # a failed snapshot only lengthens the next replay
                self.counters["snapshot_errors"] += 1
                log.error("engine snapshot failed: %s: %s", type(exc).__name__, exc)
                return
        journal = self.journal
        keep_from = min(seq, self._history_watermark) if self.config.history_dir else seq
        await asyncio.to_thread(journal.write_snapshot, seq, payload, keep_from, meta)
        self.snapshot_seq = seq

    async def _history_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.history_flush_s)
            await self.flush_history()

    async def flush_history(self) -> None:
        """Write the buffered accepted (and rejected) rows to the history store, then the watermark.

        One flush at a time: a flush interrupted by the stop (its task cancelled) keeps running
        in its thread and the final flush waits for it, so two never race on the same files.
        """
        async with self._flush_lock:
            if self._flush_inflight is not None:
                future, pending = self._flush_inflight
                await asyncio.wait([future])
                self._flush_inflight = None
                self._finish_flush(future, pending)
            root = self.config.history_dir
            journal = self.journal
            if root is None or journal is None or not self._history:
                return
            # only durable records: a history row must never exist without its journal record
            synced = journal.synced_seq
            batch = sorted((item for item in self._history if item[0] <= synced), key=lambda item: item[0])
            if not batch:
                return
            self._history = [item for item in self._history if item[0] > synced]
            future = asyncio.ensure_future(
                asyncio.to_thread(_write_history, Path(root), batch, datetime.now(UTC))
            )
            self._flush_inflight = (future, batch)
            await asyncio.shield(future)
            self._flush_inflight = None
            self._finish_flush(future, batch)

    def _finish_flush(
        self, future: asyncio.Future[None], batch: list[HistoryItem]
    ) -> None:
        error = future.exception()
        if error is None:
            self._history_watermark = max(self._history_watermark, batch[-1][0])
            return
        if not isinstance(error, (OSError, ValueError, pl.exceptions.PolarsError)):
            raise error
        self.counters["history_errors"] += 1
        log.error("history flush failed (%s); rows kept for the next flush", error)
        self._history = batch + self._history


    # -- running -------------------------------------------------------------------------
    async def run(self, ready: Callable[[LiveTwin], None] | None = None) -> None:
        """Recover, serve and run the sources until `stop_event` is set; then stop cleanly."""
        self.stop_event = asyncio.Event()
        self._pending_changed = asyncio.Event()
        self._engine_lock = asyncio.Lock()
        await asyncio.to_thread(self.recover)
        await self.server.start()
        apply = asyncio.create_task(self._apply_loop(), name="apply")
        tasks = [asyncio.create_task(self._snapshot_loop(), name="snapshot")]
        if self.config.history_dir is not None:
            tasks.append(asyncio.create_task(self._history_loop(), name="history"))
        producers: list[asyncio.Task[None]] = []
        if self.config.tick_s > 0 and not self.config.sim_clock:
            producers.append(asyncio.create_task(self._tick_loop(), name="tick"))
        for source in self.config.sources:
            producers.append(asyncio.create_task(self._guard(source), name="source"))
        if ready is not None:
            ready(self)
        try:
            await self.stop_event.wait()
        finally:
            # stop the inputs first, let the engine catch up with what was journalled, then the rest
            await self.server.close()
            for task in producers:
                task.cancel()
            await asyncio.gather(*producers, return_exceptions=True)
            deadline = time.monotonic() + 10.0
            while self._pending and time.monotonic() < deadline and not apply.done():
                await asyncio.sleep(0.01)
            for task in (apply, *tasks):
                task.cancel()
            await asyncio.gather(apply, *tasks, return_exceptions=True)
            await self.take_snapshot()
            await self.flush_history()
            await asyncio.gather(*self._checkpoint_writes, return_exceptions=True)
            assert self.journal is not None
            await asyncio.to_thread(self.journal.close)

    async def _guard(self, source: Callable[[LiveTwin], Any]) -> None:
        """Run one source; a source that fails is logged and counted, the twin keeps serving."""
        try:
            await source(self)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one broken feed must not stop the others
            self.counters["source_errors"] = self.counters.get("source_errors", 0) + 1
            log.error("source failed: %s: %s", type(exc).__name__, exc)

    async def _tick_loop(self) -> None:
        """Advance the engine's clock when no input arrives, so that silence shows.

        The engine only learns that time passed through `apply(frames, now)`; without input a
        feed outage would never turn its feed `stale` nor its vessels `dark`. When nothing was
        submitted for `tick_s`, an empty batch at the wall clock is journalled and applied like
        any other (so a replay computes the same state). Not used under the simulator's clock,
        whose batches come several times a second.
        """
        period = self.config.tick_s
        while True:
            await asyncio.sleep(period)
            if time.monotonic() - self._last_submit >= period and not self._pending:
                await self.submit({}, self.clock(), {"src": "tick"})

    def set_sim_time(self, t_utc: datetime) -> None:
        """Advance the simulated clock (called by the simulator source)."""
        self._sim_t = t_utc


def _write_history(
    root: Path, batch: list[HistoryItem], ingested: datetime
) -> None:
    from feeds.replay import write_batch_log
    from feeds.store import write_frame, write_rejected

    by_kind: dict[str, list[pl.DataFrame]] = {}
    rejected_by_feed: dict[str, list[pl.DataFrame]] = {}
    for _seq, frames, rejected, feed, now, _src in batch:
        for kind, frame in frames.items():
            if kind in SCHEMAS:
                by_kind.setdefault(kind, []).append(conform(frame, SCHEMAS[kind]))
            elif kind in STORED_SCHEMAS and frame.height:  # the calls' cargo; acks stay in the batch log
                by_kind.setdefault(kind, []).append(_stored_rows(frame, STORED_SCHEMAS[kind], now))
        if rejected.height and feed:
            rejected_by_feed.setdefault(feed, []).append(rejected)
    for kind, parts in by_kind.items():
        write_frame(root, kind, pl.concat(parts, how="vertical_relaxed"))
    for feed, parts in rejected_by_feed.items():
        write_rejected(root, feed, pl.concat(parts, how="vertical_relaxed"), ingested)
    # after the rows: a batch in the log always has its rows stored
    write_batch_log(root, [(seq, now, src, frames) for seq, frames, _r, _f, now, src in batch])
    path = root / WATERMARK_FILE
    temp = root / f"{WATERMARK_FILE}.{uuid.uuid4().hex}.tmp"
    root.mkdir(parents=True, exist_ok=True)
    with temp.open("w") as handle:
        json.dump({"seq": batch[-1][0]}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _stored_rows(frame: pl.DataFrame, schema: dict[str, pl.DataType], now: datetime) -> pl.DataFrame:
    """`frame` in a stored kind's `schema`: a missing `ts_utc` is the batch's clock `now` (when it was
    reported to the twin), other missing columns are null; extra columns are dropped."""
    filled = [
        pl.col(name) if name in frame.columns
        else pl.lit(now if name == "ts_utc" else None).alias(name)
        for name in schema
    ]  # fmt: skip
    return conform(frame.select(filled), schema)


# -- sources -------------------------------------------------------------------------------
def sim_step_s(speed: float, batches_per_wall_s: float = 5.0) -> float:
    """Simulated seconds per batch for `speed`: at least 1 s, and about five batches per wall second.

    Each batch costs a fixed parse + apply time (tens of ms on two cores, see bench/bus.md), so a
    1 s step at ×30 would spend most of a core on per-batch overhead; five batches per second
    still gives the ≥ 1 Hz deltas of the protocol.
    """
    return max(1.0, speed / batches_per_wall_s)


async def _submit_cargo(twin: LiveTwin, simulation: Any) -> None:
    """Journal the simulated calls' cargo once, as a `port_call_cargo` frame, before any traffic.

    The engine's throughput KPIs need the tonnes/TEU of each call (contracts §5) and the ops desk's
    vessel page shows them with the cargo kind; a real port gets them from its port community
    system, the demo from the simulator's plan. The history store keeps the rows, stamped with this
    batch's clock (`_write_history`).
    """
    calls = getattr(simulation, "calls", None)
    if not isinstance(calls, pl.DataFrame) or calls.is_empty():
        return
    wanted = [name for name in ("call_id", "mmsi", "tonnes", "teu", "cargo") if name in calls.columns]
    if "call_id" not in wanted:
        return
    start = getattr(getattr(simulation, "config", None), "start_utc", None) or twin.clock()
    await twin.submit({"port_call_cargo": calls.select(wanted)}, start, {"src": "sim", "feed": "cargo"})


def simulator_source(simulation: Any, step_s: float, speed: float) -> Callable[[LiveTwin], Any]:
    """A source driving the twin from `feeds.simulate.Simulation` at `speed` × real time.

    First the simulated calls' cargo is submitted once (`port_call_cargo`). Then each `SimBatch` is
    parsed (NMEA via `feeds.ais.parse_nmea_lines`, stamped with the batch end time), merged with
    its gate/customs/tide frames and submitted with `now = b.t_utc`. After a recovery the
    simulation resumes after the recovered clock (those batches are already journalled).
    """

    async def run(twin: LiveTwin) -> None:
        from feeds.ais import parse_nmea_lines

        resume_after = twin._now
        if resume_after is None:
            await _submit_cargo(twin, simulation)
        iterator = iter(simulation.iter_batches(step_s=step_s, from_utc=resume_after))
        start_wall: float | None = None
        start_sim: datetime | None = None
        while True:
            batch = await asyncio.to_thread(next, iterator, None)
            if batch is None:
                return
            if resume_after is not None and batch.t_utc <= resume_after:
                continue  # already journalled before the restart
            twin.set_sim_time(batch.t_utc)
            if start_wall is None or start_sim is None:
                start_wall, start_sim = time.monotonic(), batch.t_utc
            result = await asyncio.to_thread(parse_nmea_lines, batch.nmea, "ZJSIM", batch.t_utc)
            frames = dict(result.frames)
            for kind, attr in (("gate_event", "gate"), ("customs_event", "customs"), ("tide_obs", "tide")):
                frame = getattr(batch, attr, None)
                if isinstance(frame, pl.DataFrame) and frame.height:
                    frames[kind] = frame
            twin._count_rejected("ais", result.rejected)
            await twin.submit(frames, batch.t_utc, {"src": "sim", "feed": "ais"}, result.rejected)
            due = start_wall + (batch.t_utc - start_sim).total_seconds() / max(speed, 1e-9)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    return run


def files_source(
    kind: str, pattern: str, fmt: str = "auto", poll_s: float = 2.0
) -> Callable[[LiveTwin], Any]:
    """A source reading feed files matching `pattern` (a glob), each once, as one batch per file.

    `kind` is the feed ("ais", "gate", "customs", "tide"). Files already journalled (by name,
    recorded in the journal) are not read again after a restart; new files are polled for
    every `poll_s` seconds.
    """

    def read(path: Path) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
        if kind == "ais":
            from feeds.ais import read_ais

            result = read_ais(path, fmt=fmt, default_ts_utc=None)
        elif kind == "gate":
            from feeds.gate import read_gate

            result = read_gate(path, fmt)
        elif kind == "customs":
            from feeds.customs import read_customs

            result = read_customs(path, fmt)
        elif kind == "tide":
            from feeds.tide_gauge import read_tide

            result = read_tide(path, fmt)
        else:
            raise ValueError(f"unknown feed kind {kind!r}")
        return dict(result.frames), result.rejected

    async def run(twin: LiveTwin) -> None:
        import glob

        failed: set[str] = set()
        while True:
            for name in sorted(glob.glob(pattern)):
                path = Path(name)
                key = str(path.resolve())
                if key in twin.done_files or key in failed or not path.is_file():
                    continue
                try:
                    frames, rejected = await asyncio.to_thread(read, path)
                except (OSError, ValueError) as exc:
                    failed.add(key)  # reported once, not at every poll
                    twin.counters["file_errors"] = twin.counters.get("file_errors", 0) + 1
                    log.error("%s: cannot be read: %s", path, exc)
                    continue
                twin._count_rejected(kind, rejected)
                await twin.submit(frames, twin.clock(), {"src": "file", "feed": kind, "file": key}, rejected)
                # only now: a snapshot must never call a file done before its record is journalled
                twin.done_files.add(key)
            await asyncio.sleep(poll_s)

    return run


# -- in a background thread ----------------------------------------------------------------
class LiveHandle:
    """A live twin running in a background thread with its own event loop."""

    def __init__(self, twin: LiveTwin, thread: threading.Thread, loop: asyncio.AbstractEventLoop) -> None:
        self.twin = twin
        self._thread = thread
        self._loop = loop

    @property
    def url(self) -> str:
        """`ws://host:port`: `/stream`, `/ingest` and `/health` live under it."""
        return self.twin.server.url

    def health(self) -> dict[str, Any]:
        """The `/health` body, read thread-safely on the twin's loop."""
        future = asyncio.run_coroutine_threadsafe(_call(self.twin.health), self._loop)
        return future.result(timeout=10)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop serving, apply what is journalled, snapshot, flush history, join the thread."""
        if self._thread.is_alive() and self.twin.stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                self._loop.call_soon_threadsafe(self.twin.stop_event.set)
        self._thread.join(timeout_s)


async def _call(function: Callable[[], Any]) -> Any:
    return function()


def start_twin(config: LiveConfig, timeout_s: float = 120.0) -> LiveHandle:
    """Run a `LiveTwin(config)` in a daemon thread; returns once it listens (raises if it fails)."""
    twin = LiveTwin(config)
    started = threading.Event()
    failure: list[BaseException] = []
    holder: list[asyncio.AbstractEventLoop] = []

    def main() -> None:
        loop = asyncio.new_event_loop()
        holder.append(loop)
        try:
            loop.run_until_complete(twin.run(ready=lambda _twin: started.set()))
        except BaseException as exc:  # handed to the starting thread, which raises it
            failure.append(exc)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="twin-live", daemon=True)
    thread.start()
    if not started.wait(timeout_s):
        raise TimeoutError(f"the live twin did not start within {timeout_s} s")
    if failure:
        raise RuntimeError(f"the live twin failed to start: {failure[0]}") from failure[0]
    return LiveHandle(twin, thread, holder[0])


def real_engine_factory(port_model: Any, rules_path: str | Path | None = None) -> EngineFactory:
    """The factory for `twin.engine.Engine` on `port_model` (contracts §5), with alert rules
    attached (`twin.alerts`; the bundled rules unless `rules_path`), taking operator
    acknowledgements (`alert_ack`) as input."""
    from twin.alert_rules import load_rules
    from twin.alerts import AlertEngine, AlertingEngine
    from twin.engine import Engine, EngineConfig

    rules = load_rules(rules_path) if rules_path is not None else None

    def make(snapshot: bytes | None) -> EngineLike:
        if snapshot is None:
            return AlertingEngine(Engine(port_model, EngineConfig()), AlertEngine(port_model, rules))
        # the alert engine's state (acknowledgements, dwell timers) travels in the snapshot
        return AlertingEngine.from_snapshot(port_model, snapshot, AlertEngine(port_model, rules))

    return make


def start_live(
    port_model: Any,
    *,
    simulate: Any | None = None,
    speed: float = 1.0,
    host: str = "127.0.0.1",
    ws_port: int = 8765,
    journal_dir: str | Path,
    history_dir: str | Path | None = None,
    token: str | None = None,
    step_s: float | None = None,
    make_engine: EngineFactory | None = None,
    origins: Sequence[str] = DEFAULT_ORIGINS,
) -> LiveHandle:
    """Start simulator → journal → engine → bus in a background thread; returns when it listens.

    `simulate` is a `feeds.simulate.SimConfig` (None: no simulator, only ingest); `speed` is the
    simulated seconds per wall second; `ws_port` 0 picks a free port (see `.url`). `token`
    enables `/ingest` (None disables it). `step_s` is the simulated seconds per batch; None
    picks `sim_step_s(speed)` (five batches per wall second). Prints nothing; the caller prints `.url`.
    """
    sources: list[Callable[[LiveTwin], Any]] = []
    if simulate is not None:
        from feeds.simulate import Simulation

        step = sim_step_s(speed) if step_s is None else step_s
        sources.append(simulator_source(Simulation(simulate, port_model), step, speed))
    config = LiveConfig(
        journal_dir=Path(journal_dir),
        make_engine=make_engine or real_engine_factory(port_model),
        history_dir=None if history_dir is None else Path(history_dir),
        host=host,
        ws_port=ws_port,
        token=token,
        origins=origins,
        sim_clock=simulate is not None,
        sources=sources,
    )
    return start_twin(config)
