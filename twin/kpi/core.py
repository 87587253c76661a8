"""The parts every KPI shares: its written definition, the time window, the inputs and the result.

A KPI is computed in two steps, both polars:
1. *items*: one row per thing measured (a port call, a berth stay, a truck visit, a declaration,
   a feed), with the group columns it may be grouped by, the value it contributes and the source
   events it was derived from (`*_utc` columns and ids);
2. *aggregation*: expressions over the items of the window, per group.
`KpiResult.explain(...)` returns the items behind any figure: "why is this 14.2 h?" is answered by
the rows that were summed, counted or ranked.

Times are `Datetime("us", "UTC")`; durations are hours (`_h`) or minutes (`_min`) in floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import polars as pl

from feeds.schema import CUSTOMS_EVENT, GATE_EVENT

UTC_US = pl.Datetime("us", "UTC")
LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai, UTC+8, no DST: "today" is the local calendar day

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "ts_utc": UTC_US, "mmsi": pl.UInt32(), "call_id": pl.String(), "event": pl.String(),
    "location_id": pl.String(),
}
CARGO_SCHEMA: dict[str, pl.DataType] = {
    "call_id": pl.String(), "tonnes": pl.Float64(), "teu": pl.Float64(), "cargo": pl.String(),
}
VESSEL_SCHEMA: dict[str, pl.DataType] = {
    "mmsi": pl.UInt32(), "vessel_class": pl.String(), "length_m": pl.Float64(), "dark": pl.Boolean(),
    "last_seen_utc": UTC_US,
}
BERTH_SCHEMA: dict[str, pl.DataType] = {
    "berth_id": pl.String(), "terminal": pl.String(), "port_area": pl.String(), "berth_cargo": pl.String(),
    "quay_length_m": pl.Float64(), "operational": pl.Boolean(),
}
FEED_COUNT_SCHEMA: dict[str, pl.DataType] = {
    "feed": pl.String(), "ts_utc": UTC_US, "rows": pl.Int64(), "rejected": pl.Int64(),
}
CONTAINER_SIZE_SCHEMA: dict[str, pl.DataType] = {"container_id": pl.String(), "size_type": pl.String()}
CARGO_COMPLETE_SCHEMA: dict[str, pl.DataType] = {"call_id": pl.String(), "ts_utc": UTC_US}

WindowKind = Literal["today", "24h", "7d", "custom"]


@dataclass(frozen=True)
class Definition:
    """The one written definition of a KPI.

    `formula`: the formula in words; `uses`: the events or rows it is computed from; `source`: where
    the definition comes from; `window_rule`: which items a window holds; `group_fields`: the fields
    it can be grouped by; `note`: limits and substitutes, said plainly.
    """

    id: str
    label_en: str
    label_zh: str
    unit: str
    formula: str
    uses: str
    source: str
    window_rule: str
    group_fields: tuple[str, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {"id": self.id, "label_en": self.label_en, "label_zh": self.label_zh, "unit": self.unit,
                "formula": self.formula, "uses": self.uses, "source": self.source,
                "window_rule": self.window_rule, "group_fields": list(self.group_fields), "note": self.note}


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval `[start_utc, end_utc)` with a name (`today`, `24h`, `7d`, `custom`).

    Build with `Window.at(kind, now)` or `Window.custom(start, end)`; times must be tz-aware.
    `end_utc` is also the clock of the KPIs (ages, still-open berth stays end there).
    """

    kind: WindowKind
    start_utc: datetime
    end_utc: datetime

    def __post_init__(self) -> None:
        for t in (self.start_utc, self.end_utc):
            if t.tzinfo is None:
                raise ValueError(f"window time {t!r} is naive; pass tz-aware times")
        if self.end_utc <= self.start_utc:
            raise ValueError(f"window end {self.end_utc} is not after its start {self.start_utc}")

    @classmethod
    def at(cls, kind: WindowKind, now: datetime) -> Window:
        """The window `kind` ending at `now`: `today` = since local (Asia/Shanghai) midnight,
        `24h` = the last 24 hours, `7d` = the last 7 days. ValueError for `custom` or a naive now."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(UTC)
        if kind == "today":
            local = now + LOCAL_OFFSET
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - LOCAL_OFFSET
            # At exactly local midnight the day has no length yet: keep the window non-empty.
            return cls("today", midnight, now if now > midnight else midnight + timedelta(microseconds=1))
        if kind == "24h":
            return cls("24h", now - timedelta(hours=24), now)
        if kind == "7d":
            return cls("7d", now - timedelta(days=7), now)
        raise ValueError(f"window kind {kind!r}: use Window.custom(start, end) for a custom window")

    @classmethod
    def custom(cls, start: datetime, end: datetime) -> Window:
        """A window from `start` to `end` (tz-aware, end exclusive)."""
        return cls("custom", start.astimezone(UTC), end.astimezone(UTC))

    @property
    def hours(self) -> float:
        """Length in hours."""
        return (self.end_utc - self.start_utc).total_seconds() / 3600.0

    def contains(self, column: str) -> pl.Expr:
        """`start_utc <= column < end_utc`, as a polars expression."""
        return (pl.col(column) >= self.start_utc) & (pl.col(column) < self.end_utc)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (ISO 8601 UTC with Z)."""
        return {"kind": self.kind, "start_utc": _iso(self.start_utc), "end_utc": _iso(self.end_utc),
                "hours": round(self.hours, 6)}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _frame(frame: pl.DataFrame | pl.LazyFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`frame` collected and cast to `schema` (extra columns dropped); empty with the schema for None."""
    if frame is None:
        return pl.DataFrame(schema=schema)
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


@dataclass
class KpiInputs:
    """The frames KPIs are computed over (all optional; a KPI whose input is missing has no rows).

    - `events`: port-call events (docs/contracts.md §3), e.g. `Engine.events`;
    - `cargo`: one row per call: call_id, tonnes, teu, cargo kind (the `port_call_cargo` figures);
    - `vessels`: mmsi, vessel_class, length_m, dark, last_seen_utc (state at the window end);
    - `berths`: berth_id, terminal, port_area, berth_cargo, quay_length_m, operational (the port model);
    - `gate` / `customs`: canonical `gate_event` / `customs_event` rows;
    - `feed_counts`: feed, ts_utc (a second), rows accepted and rejected in it (see `feed_counts_of`);
    - `container_sizes`: container_id → ISO 6346 size-type code (e.g. `22G1`, `45G1`) where known;
    - `cargo_complete`: call_id, ts_utc of "cargo operations completed" where a terminal reports it.
    Frames are cast to their schemas on construction (ValueError when a column is missing).
    """

    events: pl.DataFrame | pl.LazyFrame | None = None
    cargo: pl.DataFrame | pl.LazyFrame | None = None
    vessels: pl.DataFrame | pl.LazyFrame | None = None
    berths: pl.DataFrame | pl.LazyFrame | None = None
    gate: pl.DataFrame | pl.LazyFrame | None = None
    customs: pl.DataFrame | pl.LazyFrame | None = None
    feed_counts: pl.DataFrame | pl.LazyFrame | None = None
    container_sizes: pl.DataFrame | pl.LazyFrame | None = None
    cargo_complete: pl.DataFrame | pl.LazyFrame | None = None
    _cast: dict[str, pl.DataFrame] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        schemas = {"events": EVENT_SCHEMA, "cargo": CARGO_SCHEMA, "vessels": VESSEL_SCHEMA,
                   "berths": BERTH_SCHEMA, "gate": GATE_EVENT, "customs": CUSTOMS_EVENT,
                   "feed_counts": FEED_COUNT_SCHEMA, "container_sizes": CONTAINER_SIZE_SCHEMA,
                   "cargo_complete": CARGO_COMPLETE_SCHEMA}
        for name, schema in schemas.items():
            self._cast[name] = _frame(getattr(self, name), schema)

    def get(self, name: str) -> pl.DataFrame:
        """The input `name`, cast to its schema."""
        return self._cast[name]


@dataclass
class KpiResult:
    """A KPI over one window, optionally grouped.

    `table`: one row per group (the group column first when grouped) with the figures;
    `items`: the rows behind the figures (with the group column). `value(column, group)` reads one
    figure; `explain(group)` lists exactly the items that made it.
    """

    definition: Definition
    window: Window
    by: str | None
    table: pl.DataFrame
    items: pl.DataFrame

    def _select(self, frame: pl.DataFrame, group: Any) -> pl.DataFrame:
        if self.by is None or group is None:
            return frame
        return frame.filter(pl.col(self.by).eq_missing(group))

    def value(self, column: str = "value", group: Any = None) -> Any:
        """One figure of `table` (of the row of `group` when grouped); None when there is no such row."""
        rows = self._select(self.table, group)
        if rows.height == 0:
            return None
        if rows.height > 1:
            raise ValueError(f"{rows.height} rows for group {group!r}; name the group")
        return rows[column][0]

    def explain(self, group: Any = None) -> pl.DataFrame:
        """The items (calls, stays, visits, declarations, feeds…) behind the figures of `group`
        (all items when ungrouped or `group` is None)."""
        return self._select(self.items, group)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: definition, window, grouping, the figures (rows of `table`) and the item count."""
        table = self.table.with_columns(
            [pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ") for c, t in self.table.schema.items()
             if isinstance(t, pl.Datetime)])
        return {"definition": self.definition.to_dict(), "unit": self.definition.unit,
                "window": self.window.to_dict(), "by": self.by,
                "values": [{k: _clean(v) for k, v in row.items()} for row in table.iter_rows(named=True)],
                "items": self.items.height}


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 6)
    return v


def duration_stats(items: pl.DataFrame, column: str, by: str | None) -> pl.DataFrame:
    """n, mean, median and p90 (linear interpolation between ranks) of `column` per group."""
    aggs = [pl.col(column).count().alias("n"), pl.col(column).mean().alias("mean"),
            pl.col(column).median().alias("median"),
            pl.col(column).quantile(0.9, interpolation="linear").alias("p90")]
    if by is None:
        return items.select(aggs)
    return items.group_by(by).agg(aggs).sort(by, nulls_last=True)


def check_by(definition: Definition, by: str | None) -> None:
    """ValueError when `by` is not one of the definition's group fields."""
    if by is not None and by not in definition.group_fields:
        raise ValueError(f"{definition.id} groups by {', '.join(definition.group_fields)}; not by {by!r}")


def hours_between(start: str, end: str) -> pl.Expr:
    """`end − start` in hours (float)."""
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / 3.6e9


# Short names accepted for `by` (the CLI's --by): the column each stands for.
BY_ALIASES = {"berth": "berth_id", "gate": "gate_id", "cargo_kind": "cargo", "class": "vessel_class",
              "area": "port_area"}


def normalise_by(by: str | None) -> str | None:
    """The item column a `by` name stands for (aliases resolved)."""
    return None if by is None else BY_ALIASES.get(by, by)
