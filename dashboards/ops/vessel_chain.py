"""The vessel page's call chain: vessel → port call(s) → cargo → customs declarations and their
Time Release Study (WCO TRS) stages, from the history store.

Sources (read when the page opens and again when the store gains a customs part; the shown time,
live or replayed, cuts what is listed):
- port calls and their events: the port-call events the desk holds (engine call ids, `<mmsi>-nnnn`);
- declarations: the stored `customs_event` rows (`feeds.store.read_history`) of the last
  `LOOKBACK_DAYS`; a stage's time is its first report (as the engine keeps it), the current stage
  is the latest reported, the channel and mode the latest non-null;
- cargo: stored `port_call_cargo` rows (call_id, mmsi, tonnes, teu, cargo; `feeds.schema.PORT_CALL_CARGO`),
  which the live twin (`feeds.live`) writes like the feed kinds (the demo's: the simulator's plan,
  reported at the start). A store without them (written before, or by another writer) makes the
  page say cargo is not in the store.

Joining: a customs row carries a call id but no MMSI. A declared call belongs to the vessel when a
stored cargo row ties that call id to its MMSI, or when the id has the form `<mmsi>-…` (the
simulator's and the engine's form). A declared call is shown under the engine's call of the same id;
otherwise on its own, marked as joined by MMSI (the engine numbers calls itself, so ids may differ).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from feeds.store import read_history

LOOKBACK_DAYS = 30
TRS_STAGES = ("arrival", "lodged", "risk_assessed", "inspection_start", "inspection_end", "released", "exit")
CARGO_KIND = "port_call_cargo"


@dataclass(frozen=True)
class Stage:
    """One TRS stage a declaration reached: when, and the time since the previous stage reached."""

    stage: str
    ts_utc: datetime
    since_previous_s: float | None


@dataclass(frozen=True)
class Declaration:
    """A customs declaration as the store holds it up to the shown time."""

    declaration_id: str
    call_id: str
    mode: str | None
    channel: str | None
    current_stage: str | None
    stages: tuple[Stage, ...]

    def stage_time(self, stage: str) -> datetime | None:
        return next((s.ts_utc for s in self.stages if s.stage == stage), None)

    @property
    def release_s(self) -> float | None:
        """TRS release time: arrival → released (s), when both are reached."""
        a, r = self.stage_time("arrival"), self.stage_time("released")
        return None if a is None or r is None else (r - a).total_seconds()


@dataclass(frozen=True)
class Cargo:
    """What a call loads or discharges, as a cargo row reported it."""

    tonnes: float | None
    teu: float | None
    cargo: str | None


@dataclass(frozen=True)
class CallLink:
    """One port call of the vessel: its engine events and/or its declared cargo and declarations.

    `linked_by` says how the declared side was tied to the vessel: "same_id" (the engine's call of
    the same id), "cargo_row" (a stored cargo row with the MMSI), "call_id" (the `<mmsi>-…` form),
    or None (engine events only).
    """

    call_id: str
    events: tuple[Mapping[str, Any], ...]
    cargo: tuple[Cargo, ...]
    declarations: tuple[Declaration, ...]
    linked_by: str | None


@dataclass(frozen=True)
class VesselRecords:
    """The stored rows of one vessel: its customs rows, its cargo rows (None: kind not stored)."""

    mmsi: int
    customs: pl.DataFrame
    cargo: pl.DataFrame | None
    parts: int


def _parts(history_dir: Path, kind: str) -> int:
    return sum(1 for _ in (history_dir / kind).glob("date=*/*.parquet"))


def chain_parts(history_dir: Path) -> int:
    """How many customs and cargo parts the store holds (a new one means new rows to read)."""
    return _parts(history_dir, "customs_event") + _parts(history_dir, CARGO_KIND)


def read_cargo(history_dir: Path, mmsi: int | None = None) -> pl.DataFrame | None:
    """The stored `port_call_cargo` rows (`feeds.schema.PORT_CALL_CARGO`), only `mmsi`'s when given
    (filtered before collecting), or None when the store holds none (a store written before the live
    twin kept the kind, or by another writer)."""
    if not _parts(history_dir, CARGO_KIND):
        return None
    rows = read_history(history_dir, CARGO_KIND)
    return (rows if mmsi is None else rows.filter(pl.col("mmsi") == mmsi)).collect()


def read_vessel_records(history_dir: Path, mmsi: int, at: datetime | None) -> VesselRecords:
    """The vessel's customs rows since `at` − LOOKBACK_DAYS (all when `at` is None) and cargo rows."""
    parts = chain_parts(history_dir)  # before reading: a part written meanwhile is read next time
    mine = read_cargo(history_dir, mmsi)
    calls = [] if mine is None else mine["call_id"].drop_nulls().unique().to_list()
    start = None if at is None else at - timedelta(days=LOOKBACK_DAYS)
    customs = (
        read_history(history_dir, "customs_event", start=start)
        .filter(pl.col("call_id").str.starts_with(f"{mmsi}-") | pl.col("call_id").is_in(calls))
        .collect()
    )
    return VesselRecords(mmsi, customs, mine, parts)


def declarations(customs: pl.DataFrame, at: datetime | None) -> list[Declaration]:
    """Declarations from customs rows reported at or before `at`, by id."""
    rows = customs if at is None else customs.filter(pl.col("ts_utc") <= at)
    out = []
    for (did,), g in rows.sort("ts_utc", maintain_order=True).group_by("declaration_id", maintain_order=True):
        first: dict[str, datetime] = {}
        for stage, ts in zip(g["stage"], g["ts_utc"], strict=True):
            if stage is not None:
                first.setdefault(stage, ts)
        ordered = sorted(first.items(), key=lambda kv: (kv[1], _rank(kv[0])))
        stages = tuple(
            Stage(s, ts, None if k == 0 else (ts - ordered[k - 1][1]).total_seconds())
            for k, (s, ts) in enumerate(ordered)
        )
        staged = g.drop_nulls("stage")
        out.append(
            Declaration(
                declaration_id=str(did),
                call_id=str(g["call_id"].drop_nulls().last() or ""),
                mode=_text(g["mode"].drop_nulls().last()),
                channel=_text(g["channel"].drop_nulls().last()),
                current_stage=_text(staged["stage"].last()) if staged.height else None,
                stages=stages,
            )
        )
    return sorted(out, key=lambda d: (d.stages[0].ts_utc if d.stages else datetime.max, d.declaration_id))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _rank(stage: str) -> int:
    return TRS_STAGES.index(stage) if stage in TRS_STAGES else len(TRS_STAGES)


def call_chain(
    records: VesselRecords | None, events: Sequence[Mapping[str, Any]], at: datetime | None
) -> list[CallLink]:
    """The vessel's calls, oldest first: engine calls from `events` (the desk's, already cut at the
    shown time), joined by equal call id with the declared calls of `records` up to `at`."""
    by_call: dict[str, list[Mapping[str, Any]]] = {}
    for e in sorted(events, key=lambda e: str(e.get("ts_utc"))):
        if e.get("call_id"):
            by_call.setdefault(str(e["call_id"]), []).append(e)
    decls = [] if records is None else declarations(records.customs, at)
    cargo_rows = None if records is None else records.cargo
    if cargo_rows is not None and at is not None:
        cargo_rows = cargo_rows.filter(pl.col("ts_utc").is_null() | (pl.col("ts_utc") <= at))
    cargo_by: dict[str, list[Cargo]] = {}
    if cargo_rows is not None:
        for r in cargo_rows.iter_rows(named=True):
            cargo_by.setdefault(str(r["call_id"]), []).append(Cargo(r["tonnes"], r["teu"], r["cargo"]))
    declared = {d.call_id for d in decls} | set(cargo_by)
    ids = list(by_call) + sorted(declared - set(by_call))
    out = []
    for cid in ids:
        mine = tuple(d for d in decls if d.call_id == cid)
        cargo = tuple(cargo_by.get(cid, ()))
        linked = None
        if cid in by_call and (mine or cid in cargo_by):
            linked = "same_id"
        elif cid in cargo_by:
            linked = "cargo_row"
        elif mine:
            linked = "call_id"
        out.append(CallLink(cid, tuple(by_call.get(cid, ())), cargo, mine, linked))
    first = {c.call_id: str(c.events[0].get("ts_utc")) if c.events else "" for c in out}
    for c in out:
        if not c.events and c.declarations and c.declarations[0].stages:
            first[c.call_id] = c.declarations[0].stages[0].ts_utc.isoformat()
    return sorted(out, key=lambda c: (first[c.call_id] or "~", c.call_id))
