"""Canonical polars schemas of every feed kind (see DESIGN.md, "Canonical frames").

Column names carry units; times are UTC microseconds; unknown is null, never a sentinel.
Every adapter returns an `AdapterResult`: the accepted rows in these schemas, plus the
rejected rows with the raw input, the rule they broke and their 1-based source line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

UTC_US = pl.Datetime("us", "UTC")

AIS_POSITION: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,
    "mmsi": pl.UInt32(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "sog_kn": pl.Float32(),
    "cog_deg": pl.Float32(),
    "heading_deg": pl.Float32(),
    "nav_status": pl.UInt8(),
    "source": pl.Categorical(),
}

AIS_STATIC: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,
    "mmsi": pl.UInt32(),
    "imo": pl.UInt32(),
    "name": pl.String(),
    "callsign": pl.String(),
    "ship_type": pl.UInt8(),
    "length_m": pl.Float32(),
    "beam_m": pl.Float32(),
    "draught_m": pl.Float32(),
    "destination": pl.String(),
    "eta_utc": UTC_US,
}

GATE_EVENT: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,
    "gate_id": pl.String(),
    "lane": pl.UInt8(),
    "direction": pl.Enum(["in", "out"]),
    "visit_id": pl.String(),
    "truck_id": pl.String(),
    "container_ids": pl.List(pl.String()),
    "outcome": pl.Enum(["accepted", "rejected", "manual"]),
    "processing_s": pl.Float32(),
}

CUSTOMS_STAGES = [
    "arrival",
    "lodged",
    "risk_assessed",
    "inspection_start",
    "inspection_end",
    "released",
    "exit",
]

CUSTOMS_EVENT: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,
    "declaration_id": pl.String(),
    "call_id": pl.String(),
    "mode": pl.Enum(["sea", "road", "air", "rail"]),
    "stage": pl.Enum(CUSTOMS_STAGES),
    "channel": pl.Enum(["green", "yellow", "red"]),
}

TIDE_OBS: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,
    "station_id": pl.String(),
    "level_m": pl.Float64(),
}

# Rejected rows of any kind: enough to find, understand and replay the input.
REJECTED: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "line": pl.UInt64(),      # 1-based line in the source file (first line of a multi-line item)
    "rule": pl.String(),      # short machine name of the rule broken, e.g. "nmea.checksum"
    "detail": pl.String(),    # human sentence naming the field and the bad value
    "raw": pl.String(),       # the input exactly as read
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "ais_position": AIS_POSITION,
    "ais_static": AIS_STATIC,
    "gate_event": GATE_EVENT,
    "customs_event": CUSTOMS_EVENT,
    "tide_obs": TIDE_OBS,
}

# What a call loads or discharges, as a port system (or the simulator's plan) reports it to the
# engine (twin.engine, contracts §4). Not a sensor feed: it is not ingested on /ingest nor counted in
# feed freshness, but the history store keeps it (`STORED_SCHEMAS`) for the ops desk and `twin kpi`.
# `ts_utc` is when it was reported (the batch's clock when the rows carry no time of their own).
PORT_CALL_CARGO: dict[str, pl.DataType] = {
    "ts_utc": UTC_US,
    "call_id": pl.String(),
    "mmsi": pl.UInt32(),
    "tonnes": pl.Float64(),
    "teu": pl.Float64(),
    "cargo": pl.String(),
}

# Every kind the history store (feeds.store) holds: the feed kinds plus the calls' cargo.
STORED_SCHEMAS: dict[str, dict[str, pl.DataType]] = {**SCHEMAS, "port_call_cargo": PORT_CALL_CARGO}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with exactly `schema`."""
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast `frame` to `schema` (column order included); raises on a missing column."""
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks canonical columns {missing}")
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


@dataclass
class AdapterResult:
    """What every feed adapter returns.

    `frames` maps a canonical kind (keys of `SCHEMAS`) to its accepted rows; `rejected` holds
    the rows that broke a rule; `skipped` counts well-formed input the twin does not use
    (for example AIS message types other than positions and static data), by reason, in items.
    Invariant checked by the tests: `items_accepted + rejected.height + sum(skipped) == items_read`
    (see `accounting_holds`). For line-based feeds an item is one non-blank, non-comment line
    and every rejected row is one such line.
    """

    frames: dict[str, pl.DataFrame]
    rejected: pl.DataFrame = field(default_factory=lambda: empty(REJECTED))
    skipped: dict[str, int] = field(default_factory=dict)
    items_read: int = 0
    # Items (input lines for line-based feeds) that produced accepted rows. One item may give
    # several rows (a CSV row gives a position and static data) and several items may give one
    # row (the two sentences of an AIS type 5), so this differs from `accepted_count`.
    items_accepted: int = 0

    @property
    def accepted_count(self) -> int:
        """Accepted rows over all frames."""
        return sum(frame.height for frame in self.frames.values())

    @property
    def lines_read(self) -> int:
        """Alias of `items_read` for line-based feeds (NMEA, CSV, JSON lines)."""
        return self.items_read

    @property
    def lines_accepted(self) -> int:
        """Alias of `items_accepted` for line-based feeds."""
        return self.items_accepted

    @property
    def items_skipped(self) -> int:
        """Items counted in `skipped`, over all reasons."""
        return sum(self.skipped.values())

    def accounting_holds(self) -> bool:
        """The adapter invariant: every item read is accepted, rejected or skipped exactly once.

        `items_accepted + rejected.height + items_skipped == items_read`.
        """
        return self.items_accepted + self.rejected.height + self.items_skipped == self.items_read

    def reasons(self) -> dict[str, int]:
        """Rejected rows counted by rule."""
        if self.rejected.is_empty():
            return {}
        counts = self.rejected.group_by("rule").len().sort("rule")
        return dict(zip(counts["rule"].to_list(), counts["len"].to_list(), strict=True))
