"""A tiny engine with the `twin.engine.Engine` interface (contracts §5), for the bus tests.

State: the last position of each vessel (by MMSI) and a row count per canonical kind. Its
snapshot bytes are JSON (no pickle), and its `state_hash` depends only on the frames applied,
so an interrupted run and an uninterrupted one over the same inputs compare equal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl


@dataclass
class FakeDelta:
    """What one `apply` changed: upserted vessels and counts."""

    vessels: list[list[Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        return {"vessels": {"columns": ["mmsi", "lon", "lat"], "rows": self.vessels,
                            "removed": []},
                "counts": self.counts}

    def is_empty(self) -> bool:
        return not self.vessels and not self.counts


class FakeEngine:
    """Same calls as the real engine: apply, snapshot, state_hash, to/from snapshot bytes."""

    def __init__(self) -> None:
        self.vessels: dict[int, list[float]] = {}
        self.counts: dict[str, int] = {}
        self.applied = 0

    def apply(self, frames: dict[str, pl.DataFrame], now: datetime) -> FakeDelta:
        delta = FakeDelta()
        for kind, frame in sorted(frames.items()):
            if frame.height == 0:
                continue
            self.counts[kind] = self.counts.get(kind, 0) + frame.height
            delta.counts[kind] = self.counts[kind]
            if kind == "ais_position":
                for mmsi, lon, lat in frame.select("mmsi", "lon", "lat").iter_rows():
                    self.vessels[int(mmsi)] = [lon, lat]
                    delta.vessels.append([int(mmsi), lon, lat])
        self.applied += 1
        return delta

    def snapshot(self, now: datetime) -> dict[str, Any]:
        rows = [[mmsi, *pos] for mmsi, pos in sorted(self.vessels.items())]
        return {"ts_utc": now.isoformat(), "vessels": {"columns": ["mmsi", "lon", "lat"], "rows": rows},
                "counts": dict(self.counts)}

    def state_hash(self) -> str:
        body = json.dumps({"v": sorted(self.vessels.items()), "c": sorted(self.counts.items())})
        return hashlib.sha256(body.encode()).hexdigest()

    def to_snapshot_bytes(self) -> bytes:
        return json.dumps({"vessels": [[k, v] for k, v in self.vessels.items()],
                           "counts": self.counts}).encode()

    @classmethod
    def from_snapshot_bytes(cls, data: bytes) -> FakeEngine:
        body = json.loads(data)
        engine = cls()
        engine.vessels = {int(k): v for k, v in body["vessels"]}
        engine.counts = dict(body["counts"])
        return engine


def make_engine(snapshot: bytes | None) -> FakeEngine:
    """The engine factory the live process takes: fresh, or restored from snapshot bytes."""
    return FakeEngine() if snapshot is None else FakeEngine.from_snapshot_bytes(snapshot)
