"""KPIs of one zone over a window: the port KPIs' written definitions (twin.kpi) applied to the zone's
own features, and the few figures no port KPI defines (ships now, channel transits, gate lane time).

```python
from twin.kpi.zone import ZoneInputs, zone_kpis
k = zone_kpis(port, "Z-ANC-IN-1", Window.custom(t0, t1), ZoneInputs(events=ev, in_zone_now=(412…,)))
k.get("arrivals").value      # anchorage arrivals at the zone's anchorages in [t0, t1)
k.items["wait_done"]         # the calls behind the completed-wait figures (explain)
```

Per zone kind (`Zone.kind`):
- anchorage: ships now; arrivals and departures (anchorage_arrival / anchorage_departure events at
  its anchorages in the window); completed waits, mean and max: `anchorage_wait_h` (per call, the sum
  of its anchorage stays, counted when its last anchorage_departure falls in the window) of the calls
  whose first stay was at one of the zone's anchorages; ongoing waits, mean and max: window end −
  anchorage_arrival of the calls whose latest event up to the window end is an anchorage_arrival here.
- channel: ships now; transits (`CHANNEL_TRANSIT` below, from stored AIS positions placed in zones)
  and their mean time.
- port_area: berths occupied now; calls alongside in the window (the stays of `berth_occupancy_pct`
  at the zone's berths); berth occupancy % (`berth_occupancy_pct` over the zone's operational
  berths); cargo handled, t (`throughput_t` of the calls that left one of its berths in the window).
- gate_complex: trucks processed (`gate_tx_per_hour`'s transactions at its gates); mean lane
  processing time (`GATE_PROCESSING`); mean truck turn (`truck_turn_min` of visits entering at its
  gates); trucks queuing now (the engine's queue estimate, summed over its gates).

Unknown is None with a reason code (`ZoneFigure.unknown`), never 0: `no_events` (no port-call events
held), `no_history` (no history store, so no stored rows), `none_in_window` (a mean or max of nothing),
`cargo_unknown` (calls left but none with known tonnes), `no_berths`, `not_reported` (the engine
gave no value). Event-based figures are lower bounds (`lower_bound`) when the events held start
after the window start: calls before the oldest event held are missing. Nothing here reads a clock or
a file: the caller passes the rows and the window (whose end is "now").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from twin.kpi.calls import anchorage_wait_h, berth_occupancy_pct, berth_stays, throughput_t
from twin.kpi.core import EVENT_SCHEMA, Definition, KpiInputs, Window, hours_between
from twin.kpi.landside import gate_tx_per_hour, truck_turn_min

if TYPE_CHECKING:
    from twin.port import Port

CHANNEL_TRANSIT = Definition(
    id="channel_transit_h", label_en="Channel transits", label_zh="航道通航艘次", unit="h",
    formula="per ship, a transit is a run of its consecutive stored AIS fixes placed in the channel zone "
            "with a fix outside the zone before and after it; time = last fix in the zone − first fix "
            "in the zone",
    uses="ais_position rows placed in zones by twin.zones.ZoneIndex (the engine's geofence)",
    source="project definition (no port-call event marks channel entry or exit, contracts §3)",
    window_rule="transit counted when its last fix in the zone falls in the window; fixes from before "
                "the window are needed to see the entry",
    group_fields=(),
    note="fix spacing (2–10 s under way) bounds the error; a run whose entry is not among the fixes "
         "passed is not counted",
)
GATE_PROCESSING = Definition(
    id="gate_processing_s", label_en="Gate lane processing time", label_zh="闸口车道处理时间", unit="s",
    formula="mean of processing_s of the gate transactions at the zone's gates in the window",
    uses="gate_event rows (processing_s: the lane's handling time of one truck)",
    source="terminal gate logs (TOS gate transaction processing time)",
    window_rule="transaction counted when its ts_utc falls in the window",
    group_fields=(),
)


@dataclass(frozen=True)
class ZoneFigure:
    """One figure of a zone. `at_end`: a state at the window end (now), not a count over the window;
    `kpi_id`: the definition it applies (a `twin.kpi` id, or `CHANNEL_TRANSIT` / `GATE_PROCESSING`,
    None for a plain count of the engine's state); `n`: items behind it; `unknown`: why `value` is None."""

    key: str
    value: float | None
    unit: str
    at_end: bool = False
    kpi_id: str | None = None
    n: int | None = None
    unknown: str | None = None
    lower_bound: bool = False


@dataclass
class ZoneInputs:
    """What a zone's KPIs are computed from (all optional).

    - `events`: port-call events held (`EVENT_SCHEMA`: ts_utc, mmsi, call_id, event, location_id);
      None when none are held;
    - `in_zone_now`: MMSIs the engine places in the zone at the window end;
    - `berths_now`: berth id → MMSI alongside at the window end (None: free);
    - `gate_queue_now`: gate id → the engine's queue estimate (None: not reported);
    - `gate_rows`: canonical `gate_event` rows from before the window start (for truck turns) to its
      end; None without a history store;
    - `positions`: mmsi, ts_utc, zone_id of stored fixes from before the window start to its end;
      None without a history store;
    - `cargo`: `port_call_cargo` rows (call_id, tonnes, teu, cargo); None without a history store.
    """

    events: pl.DataFrame | None = None
    in_zone_now: Sequence[int] = ()
    berths_now: Mapping[str, int | None] = field(default_factory=dict)
    gate_queue_now: Mapping[str, int | None] = field(default_factory=dict)
    gate_rows: pl.DataFrame | None = None
    positions: pl.DataFrame | None = None
    cargo: pl.DataFrame | None = None


@dataclass(frozen=True)
class ZoneKpis:
    """A zone's figures over `window`; `events_from_utc` is the oldest event held (None: none);
    `items` holds the rows behind figures, by name (see each kind's function)."""

    zone_id: str
    kind: str
    window: Window
    figures: tuple[ZoneFigure, ...]
    events_from_utc: datetime | None
    items: Mapping[str, pl.DataFrame] = field(default_factory=dict)

    def get(self, key: str) -> ZoneFigure:
        """The figure `key`; KeyError when this zone kind has none."""
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(f"{self.zone_id} ({self.kind}) has no figure {key!r}")


def _mean(values: pl.Series) -> float | None:
    """The mean of `values` as a float; None for no values (unknown, not 0)."""
    mean = values.drop_nulls().cast(pl.Float64).mean()
    return None if mean is None else float(mean)  # type: ignore[arg-type]  # polars types mean() broadly


def _events(inputs: ZoneInputs) -> pl.DataFrame:
    if inputs.events is None:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    return inputs.events.select([pl.col(c).cast(t) for c, t in EVENT_SCHEMA.items()])


def _mean_max(values: pl.Series, key: str, unit: str, kpi_id: str | None, lower: bool,
              empty_reason: str) -> tuple[ZoneFigure, ZoneFigure]:
    n = values.len()
    if n == 0:
        return (ZoneFigure(f"{key}_mean", None, unit, kpi_id=kpi_id, n=0, unknown=empty_reason),
                ZoneFigure(f"{key}_max", None, unit, kpi_id=kpi_id, n=0, unknown=empty_reason))
    mean, top = values.mean(), values.max()
    assert isinstance(mean, float) and isinstance(top, float)
    return (ZoneFigure(f"{key}_mean", mean, unit, kpi_id=kpi_id, n=n, lower_bound=lower),
            ZoneFigure(f"{key}_max", top, unit, kpi_id=kpi_id, n=n, lower_bound=lower))


def _count(key: str, n: int, kpi_id: str | None, held: bool, lower: bool) -> ZoneFigure:
    if not held:
        return ZoneFigure(key, None, "", kpi_id=kpi_id, unknown="no_events")
    return ZoneFigure(key, float(n), "", kpi_id=kpi_id, n=n, lower_bound=lower)


def anchorage_figures(members: set[str], window: Window, inputs: ZoneInputs, lower: bool
                      ) -> tuple[list[ZoneFigure], dict[str, pl.DataFrame]]:
    """Arrivals, departures, completed and ongoing waits at the anchorages `members`."""
    ev = _events(inputs)
    held = inputs.events is not None and ev.height > 0
    here = ev.filter(pl.col("location_id").is_in(sorted(members)), window.contains("ts_utc"))
    arrivals = here.filter(pl.col("event") == "anchorage_arrival")
    departures = here.filter(pl.col("event") == "anchorage_departure")
    done = (anchorage_wait_h(KpiInputs(events=ev), window).items
            .filter(pl.col("anchorage_id").is_in(sorted(members))))
    # ongoing: the call's latest event up to the window end is an anchorage_arrival at one of members
    last = (ev.filter(pl.col("ts_utc") < window.end_utc).sort("ts_utc", maintain_order=True)
            .group_by("call_id", maintain_order=True).last())
    ongoing = (last.filter(pl.col("event") == "anchorage_arrival",
                           pl.col("location_id").is_in(sorted(members)))
               .with_columns(pl.lit(window.end_utc).alias("end_utc"))
               .with_columns(hours_between("ts_utc", "end_utc").alias("hours"))
               .select("call_id", "mmsi", "location_id", pl.col("ts_utc").alias("anchorage_arrival_utc"),
                       "hours").sort("anchorage_arrival_utc"))
    empty = "none_in_window" if held else "no_events"
    done_mean, done_max = _mean_max(done["hours"], "wait_done", "h", "anchorage_wait_h", lower, empty)
    now_empty = "none_now" if held else "no_events"
    now_mean, now_max = _mean_max(ongoing["hours"], "wait_now", "h", "anchorage_wait_h", lower, now_empty)
    figures = [
        _count("arrivals", arrivals.height, "anchorage_wait_h", held, lower),
        _count("departures", departures.height, "anchorage_wait_h", held, lower),
        done_mean, done_max,
        # at the end: a wait still going began at an arrival the desk may not hold
        replace(now_mean, at_end=True, lower_bound=lower), replace(now_max, at_end=True, lower_bound=lower),
    ]
    return figures, {"arrivals": arrivals, "departures": departures, "wait_done": done, "wait_now": ongoing}


def channel_transits(positions: pl.DataFrame, zone_id: str, window: Window) -> pl.DataFrame:
    """The transits of `zone_id` ended in `window` (see `CHANNEL_TRANSIT`): mmsi, entry_utc, exit_utc,
    fixes, hours. `positions` holds mmsi, ts_utc, zone_id (null outside every zone)."""
    runs = (positions.select("mmsi", "ts_utc", "zone_id").sort("mmsi", "ts_utc")
            .with_columns(pl.col("zone_id").eq_missing(pl.lit(zone_id)).alias("inside"))
            .with_columns(pl.col("inside").ne(pl.col("inside").shift(1)).fill_null(True)
                          .cum_sum().over("mmsi").alias("run"),
                          pl.int_range(pl.len()).over("mmsi").alias("k"),
                          pl.len().over("mmsi").alias("fixes_of_ship")))
    return (runs.filter(pl.col("inside"))
            .group_by("mmsi", "run")
            .agg(pl.col("ts_utc").min().alias("entry_utc"), pl.col("ts_utc").max().alias("exit_utc"),
                 pl.len().alias("fixes"), pl.col("k").min().alias("k0"), pl.col("k").max().alias("k1"),
                 pl.col("fixes_of_ship").first())
            # a fix outside the zone before and after the run: the entry and the exit were seen
            .filter(pl.col("k0") > 0, pl.col("k1") < pl.col("fixes_of_ship") - 1, window.contains("exit_utc"))
            .with_columns(hours_between("entry_utc", "exit_utc").alias("hours"))
            .select("mmsi", "entry_utc", "exit_utc", "fixes", "hours").sort("exit_utc", "mmsi"))


def channel_figures(zone_id: str, window: Window, inputs: ZoneInputs
                    ) -> tuple[list[ZoneFigure], dict[str, pl.DataFrame]]:
    """Transits of the channel zone and their mean time, from stored positions."""
    if inputs.positions is None:
        return [ZoneFigure("transits", None, "", kpi_id=CHANNEL_TRANSIT.id, unknown="no_history"),
                ZoneFigure("transit_mean", None, "h", kpi_id=CHANNEL_TRANSIT.id, unknown="no_history")], {}
    items = channel_transits(inputs.positions, zone_id, window)
    n = items.height
    return [ZoneFigure("transits", float(n), "", kpi_id=CHANNEL_TRANSIT.id, n=n),
            ZoneFigure("transit_mean", _mean(items["hours"]), "h", kpi_id=CHANNEL_TRANSIT.id, n=n,
                       unknown=None if n else "none_in_window")], {"transits": items}


def berth_figures(port: Port, berth_ids: set[str], window: Window, inputs: ZoneInputs, lower: bool
                  ) -> tuple[list[ZoneFigure], dict[str, pl.DataFrame]]:
    """Berths occupied now, calls alongside, berth occupancy and cargo handled at `berth_ids`."""
    from twin.kpi.sources import berths_frame

    ev = _events(inputs)
    held = inputs.events is not None and ev.height > 0
    occupied = sum(1 for b in berth_ids if inputs.berths_now.get(b) is not None)
    figures = [ZoneFigure("berths_occupied_now", float(occupied), "", at_end=True, n=len(berth_ids))]
    if not berth_ids:
        return figures + [ZoneFigure(k, None, u, unknown="no_berths")
                          for k, u in (("calls_alongside", ""), ("occupancy", "%"), ("cargo_t", "t"))], {}
    berths = berths_frame(port).filter(pl.col("berth_id").is_in(sorted(berth_ids)))
    cargo = None if inputs.cargo is None else inputs.cargo.select("call_id", "tonnes", "teu", "cargo")
    kin = KpiInputs(events=ev, berths=berths, cargo=cargo)
    stays = berth_stays(kin, window).filter(pl.col("berth_id").is_in(sorted(berth_ids)))
    calls = stays["call_id"].n_unique()
    figures.append(_count("calls_alongside", calls, "berth_occupancy_pct", held, lower))
    occ = berth_occupancy_pct(kin, window)
    if not held:
        figures.append(ZoneFigure("occupancy", None, "%", kpi_id=occ.definition.id, unknown="no_events"))
    elif berths.filter(pl.col("operational")).height == 0:
        figures.append(ZoneFigure("occupancy", None, "%", kpi_id=occ.definition.id, unknown="no_berths"))
    else:
        figures.append(ZoneFigure("occupancy", float(occ.value("value")), "%", kpi_id=occ.definition.id,
                                  n=occ.items.height, lower_bound=lower))
    thr = throughput_t(kin, window, by="berth_id")
    rows = thr.table.filter(pl.col("berth_id").is_in(sorted(berth_ids)))
    known, unknown = int(rows["calls"].sum()), int(rows["unknown_calls"].sum())
    tonnes = float(rows["value"].sum())
    items = thr.items.filter(pl.col("berth_id").is_in(sorted(berth_ids)))
    if not held:
        figures.append(ZoneFigure("cargo_t", None, "t", kpi_id="throughput_t", unknown="no_events"))
    elif cargo is None:
        figures.append(ZoneFigure("cargo_t", None, "t", kpi_id="throughput_t", n=unknown,
                                  unknown="no_history"))
    elif known == 0 and unknown > 0:
        figures.append(ZoneFigure("cargo_t", None, "t", kpi_id="throughput_t", n=unknown,
                                  unknown="cargo_unknown"))
    else:
        # calls of unknown tonnage add nothing: the sum is then a lower bound
        figures.append(ZoneFigure("cargo_t", tonnes, "t", kpi_id="throughput_t", n=known,
                                  lower_bound=lower or unknown > 0))
    return figures, {"stays": stays, "occupancy": occ.items, "cargo": items}


def gate_figures(gate_ids: set[str], window: Window, inputs: ZoneInputs
                 ) -> tuple[list[ZoneFigure], dict[str, pl.DataFrame]]:
    """Trucks processed, mean lane time and truck turn at `gate_ids`, and the queue now."""
    queues = [inputs.gate_queue_now.get(g) for g in sorted(gate_ids)]
    known_q = [q for q in queues if q is not None]
    queue = ZoneFigure("queue_now", float(sum(known_q)) if known_q else None, "", at_end=True,
                       n=len(known_q), unknown=None if known_q else "not_reported",
                       lower_bound=0 < len(known_q) < len(queues))
    if inputs.gate_rows is None:
        return [ZoneFigure("trucks", None, "", kpi_id="gate_tx_per_hour", unknown="no_history"),
                ZoneFigure("processing_mean", None, "s", kpi_id=GATE_PROCESSING.id, unknown="no_history"),
                ZoneFigure("turn_mean", None, "min", kpi_id="truck_turn_min", unknown="no_history"),
                queue], {}
    rows = inputs.gate_rows.filter(pl.col("gate_id").is_in(sorted(gate_ids)))
    kin = KpiInputs(gate=rows)
    tx = gate_tx_per_hour(kin, window).items
    lanes = rows.filter(window.contains("ts_utc"))["processing_s"].drop_nulls()
    turns = truck_turn_min(kin, window).items.filter(pl.col("gate_id").is_in(sorted(gate_ids)))
    return [
        ZoneFigure("trucks", float(tx.height), "", kpi_id="gate_tx_per_hour", n=tx.height),
        ZoneFigure("processing_mean", _mean(lanes), "s", kpi_id=GATE_PROCESSING.id, n=lanes.len(),
                   unknown=None if lanes.len() else "none_in_window"),
        ZoneFigure("turn_mean", _mean(turns["minutes"]), "min", kpi_id="truck_turn_min", n=turns.height,
                   unknown=None if turns.height else "none_in_window"),
        queue,
    ], {"transactions": tx, "turns": turns}


def zone_kpis(port: Port, zone_id: str, window: Window, inputs: ZoneInputs) -> ZoneKpis:
    """The figures of zone `zone_id` of `port` over `window` (its end is "now"): "ships_now" first,
    then the figures of its kind (module docstring). KeyError for an unknown zone."""
    zone = port.zones[zone_id]
    members = set(zone.members)
    ev = _events(inputs)
    events_from = ev["ts_utc"].min() if inputs.events is not None and ev.height else None
    assert events_from is None or isinstance(events_from, datetime)
    lower = events_from is None or events_from > window.start_utc
    figures = [ZoneFigure("ships_now", float(len(inputs.in_zone_now)), "", at_end=True,
                          n=len(inputs.in_zone_now))]
    items: dict[str, pl.DataFrame] = {}
    if zone.kind == "anchorage":
        more, items = anchorage_figures(members & set(port.anchorages) or members, window, inputs, lower)
    elif zone.kind == "channel":
        more, items = channel_figures(zone_id, window, inputs)
    elif zone.kind == "port_area":
        more, items = berth_figures(port, members & set(port.berths), window, inputs, lower)
    elif zone.kind == "gate_complex":
        more, items = gate_figures(members & set(port.gates), window, inputs)
    else:
        more = []
    return ZoneKpis(zone_id, zone.kind, window, tuple(figures + more), events_from, items)
