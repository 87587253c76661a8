"""Building `KpiInputs` from the live engine and the port model.

The engine keeps the port-call events, the calls' cargo, the vessels and the customs declarations
(first time of each stage), so those come from its public state. It does not keep the gate rows'
visit ids, directions or containers (only time, gate and lane time), so the gate rows, like the feed
counts, are passed by the caller that fed the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from feeds.schema import CUSTOMS_EVENT, CUSTOMS_STAGES
from twin.kpi.core import BERTH_SCHEMA, CARGO_SCHEMA, VESSEL_SCHEMA, KpiInputs

if TYPE_CHECKING:
    from twin.engine import Engine
    from twin.port import Port

_US = pl.Datetime("us", "UTC")


def berths_frame(port: Port) -> pl.DataFrame:
    """The port model's berths: berth_id, terminal, port_area, berth_cargo, quay_length_m, operational."""
    rows = [(b.id, b.terminal, b.port_area, b.cargo, float(b.length_m), b.status == "operational")
            for b in port.berths.values()]
    return pl.DataFrame(rows, schema=BERTH_SCHEMA, orient="row")


def cargo_frame(eng: Engine) -> pl.DataFrame:
    """The cargo figures the engine bound to its calls (call_id, tonnes, teu, cargo)."""
    rows = [(cid, c.get("tonnes"), c.get("teu"), c.get("cargo")) for cid, c in eng.cargo.items()]
    return pl.DataFrame(rows, schema=CARGO_SCHEMA, orient="row")


def vessels_frame(eng: Engine) -> pl.DataFrame:
    """Vessel state: mmsi, vessel_class (coarse AIS ship-type class, as the engine's ship_class),
    length_m, dark, last_seen_utc."""
    from twin.engine import ship_class_of  # the engine (h3, shapely) loads only when an engine is given

    rows = [(v.mmsi, ship_class_of(v.ship_type), v.length_m, bool(v.dark), v.ts_us)
            for v in eng.vessels.values()]
    schema = {**VESSEL_SCHEMA, "last_seen_utc": pl.Int64()}
    return (pl.DataFrame(rows, schema=schema, orient="row")
            .with_columns(pl.col("last_seen_utc").cast(_US)).sort("mmsi"))


def vessels_from_static(static: pl.DataFrame | pl.LazyFrame, eng: Engine | None = None) -> pl.DataFrame:
    """Vessels from `ais_static` rows: per mmsi the latest known ship type's class (the engine's
    `ship_class_of`, so live and history agree) and length; `dark`/`last_seen_utc` from the engine's
    state for the vessels it still tracks (others: not dark, last seen unknown).

    The engine forgets a vessel once its call is closed, so a day's departed ships are only known
    through their static reports: pass every static row seen over the period.
    """
    from twin.engine import ship_class_of

    rows = static.collect() if isinstance(static, pl.LazyFrame) else static
    per = (rows.sort("ts_utc", maintain_order=True).group_by("mmsi")
           .agg(pl.col("ship_type").drop_nulls().last(), pl.col("length_m").drop_nulls().last()))
    types = [t for t in per["ship_type"].unique().to_list() if t is not None]
    classes = {int(t): ship_class_of(int(t)) for t in types}
    per = per.with_columns(
        pl.col("ship_type").cast(pl.Int64).replace_strict(classes, default=None, return_dtype=pl.String)
        .alias("vessel_class"), pl.col("length_m").cast(pl.Float64))
    state = (vessels_frame(eng).select("mmsi", "dark", "last_seen_utc") if eng is not None
             else pl.DataFrame(schema={"mmsi": pl.UInt32(), "dark": pl.Boolean(), "last_seen_utc": _US}))
    return (per.select(pl.col("mmsi").cast(pl.UInt32), "vessel_class", "length_m")
            .join(state, on="mmsi", how="left").with_columns(pl.col("dark").fill_null(False))
            .select(list(VESSEL_SCHEMA)).sort("mmsi"))


def customs_frame(eng: Engine) -> pl.DataFrame:
    """The engine's declarations as `customs_event` rows: one row per stage reached at its first time,
    carrying the declaration's latest channel, mode and call_id."""
    rows = [(us, d.declaration_id, d.call_id, d.mode, stage, d.channel)
            for d in eng.declarations.values() for stage, us in d.stage_us.items()]
    schema = {**CUSTOMS_EVENT, "ts_utc": pl.Int64(), "mode": pl.String(), "stage": pl.String(),
              "channel": pl.String()}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(pl.col("ts_utc").cast(_US), pl.col("mode").cast(CUSTOMS_EVENT["mode"]),
                              pl.col("stage").cast(pl.Enum(CUSTOMS_STAGES)),
                              pl.col("channel").cast(CUSTOMS_EVENT["channel"])).sort("ts_utc")


def inputs_from_engine(
    eng: Engine,
    gate: pl.DataFrame | pl.LazyFrame | None = None,
    static: pl.DataFrame | pl.LazyFrame | None = None,
    feed_counts: pl.DataFrame | pl.LazyFrame | None = None,
    customs: pl.DataFrame | pl.LazyFrame | None = None,
    container_sizes: pl.DataFrame | None = None,
    cargo_complete: pl.DataFrame | None = None,
) -> KpiInputs:
    """`KpiInputs` from a live (or replayed) engine: its events, cargo and berths; vessels from the
    `static` (ais_static) rows seen over the period with the engine's darkness state (only the vessels
    it still tracks when `static` is None); customs from its declarations unless `customs` rows are
    given; gate rows and feed counts as passed."""
    vessels = vessels_frame(eng) if static is None else vessels_from_static(static, eng)
    return KpiInputs(events=eng.events, cargo=cargo_frame(eng), vessels=vessels,
                     berths=berths_frame(eng.port), gate=gate,
                     customs=customs_frame(eng) if customs is None else customs,
                     feed_counts=feed_counts, container_sizes=container_sizes, cargo_complete=cargo_complete)
