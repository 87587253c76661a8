"""Vessel KPIs over port-call events (docs/contracts.md §3): throughput, calls, times, occupancy.

Each public function takes `KpiInputs`, a `Window` and an optional `by` and returns a `KpiResult`.
Times of a call are taken from its events: the first `port_limit_arrival`, `pilot_on_board` and
`all_fast`, the last `departure_from_berth` and `port_limit_departure`. A duration is in a window
when its *closing* event is (a call is counted once, when the interval it measures has ended).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from twin.kpi.core import (
    Definition,
    KpiInputs,
    KpiResult,
    Window,
    check_by,
    duration_stats,
    hours_between,
    normalise_by,
)

CALL_GROUPS = ("port_area", "terminal", "cargo", "vessel_class", "berth_id")
BERTH_GROUPS = ("port_area", "terminal", "cargo", "berth_id")
_ITEM_KEYS = ["call_id", "mmsi", "berth_id", "terminal", "port_area", "cargo", "vessel_class", "from_arrival"]


def call_table(inputs: KpiInputs) -> pl.DataFrame:
    """One row per call_id: the times of its events, its berth (of the first all_fast) with the
    berth's terminal and port area, its cargo figures and kind (the call's, else the berth's), and
    the vessel's class and length, and `from_arrival` (the call was seen crossing the port limit)."""
    ev = inputs.get("events").sort("ts_utc", maintain_order=True)

    def first(event: str) -> pl.Expr:
        return pl.col("ts_utc").filter(pl.col("event") == event).min().alias(f"{event}_utc")

    def last(event: str) -> pl.Expr:
        return pl.col("ts_utc").filter(pl.col("event") == event).max().alias(f"{event}_utc")

    calls = ev.group_by("call_id").agg(
        pl.col("mmsi").first(),
        first("port_limit_arrival"), first("anchorage_arrival"), last("anchorage_departure"),
        first("pilot_on_board"), first("all_fast"), last("departure_from_berth"),
        last("port_limit_departure"),
        pl.col("location_id").filter(pl.col("event") == "all_fast").first().alias("berth_id"),
    )
    berths = inputs.get("berths").select("berth_id", "terminal", "port_area", "berth_cargo")
    cargo = inputs.get("cargo").unique("call_id", keep="last", maintain_order=True)
    vessels = inputs.get("vessels").unique("mmsi", keep="last", maintain_order=True).select(
        "mmsi", "vessel_class", "length_m")
    return (
        calls.join(berths, on="berth_id", how="left")
        .join(cargo, on="call_id", how="left")
        .with_columns(pl.coalesce("cargo", "berth_cargo").alias("cargo"))
        .drop("berth_cargo")
        .join(vessels, on="mmsi", how="left")
        # False for a ship first seen already inside the port (at anchor or moored when the twin or the
        # replay started): its anchorage wait and time at berth start at first sight, lower bounds.
        .with_columns(pl.col("port_limit_arrival_utc").is_not_null().alias("from_arrival"))
        .sort("call_id")
    )


# -- throughput -------------------------------------------------------------------------------
THROUGHPUT_T = Definition(
    id="throughput_t", label_en="Cargo throughput", label_zh="货物吞吐量", unit="t",
    formula="sum of the cargo tonnes (loaded + discharged) of every call whose ship left its berth in "
            "the window; calls with no known tonnage add nothing and are counted as unknown_calls",
    uses="departure_from_berth events; the call's tonnes and cargo kind (port_call_cargo)",
    source="UNCTAD Maritime Country Profiles / port statistics: port throughput = tonnes of cargo loaded "
           "and unloaded; China port statistics (港口货物吞吐量) count it the same way",
    window_rule="call counted when its last departure_from_berth falls in the window",
    group_fields=CALL_GROUPS,
    note="the whole call's cargo is booked at departure from berth (no hourly handling rate is fed)",
)
THROUGHPUT_TEU = Definition(
    id="throughput_teu", label_en="Container throughput (quay)", label_zh="集装箱吞吐量", unit="TEU",
    formula="sum of the TEU of every call whose ship left its berth in the window (the call's TEU as "
            "the port system reports it: 20 ft box = 1 TEU, 40 ft = 2)",
    uses="departure_from_berth events; the call's teu (port_call_cargo)",
    source="UNCTAD container port throughput (TEU, twenty-foot equivalent unit); ISO 6346 length codes",
    window_rule="call counted when its last departure_from_berth falls in the window",
    group_fields=CALL_GROUPS,
    note="quay-side TEU per call; gate boxes and their TEU are the gate_boxes KPI",
)
VESSEL_CALLS = Definition(
    id="vessel_calls", label_en="Vessel calls (arrivals)", label_zh="到港艘次", unit="calls",
    formula="number of distinct calls with a port_limit_arrival in the window",
    uses="port_limit_arrival events",
    source="UNCTAD Maritime Country Profiles, 'port calls': arrivals of ships at the port",
    window_rule="call counted when its first port_limit_arrival falls in the window",
    group_fields=CALL_GROUPS,
    note="ships already inside the port limit when the twin started have no arrival and are not counted",
)


def _departed(calls: pl.DataFrame, window: Window) -> pl.DataFrame:
    return calls.filter(window.contains("departure_from_berth_utc"))


def _sum_kpi(definition: Definition, inputs: KpiInputs, window: Window, by: str | None,
             column: str) -> KpiResult:
    by = normalise_by(by)
    check_by(definition, by)
    departed = _departed(call_table(inputs), window)
    known = departed.filter(pl.col(column).is_not_null() & (pl.col(column) > 0))
    items = known.select(*_ITEM_KEYS, "departure_from_berth_utc", column).sort("departure_from_berth_utc")
    unknown = departed.filter(pl.col(column).is_null())
    aggs = [pl.col(column).sum().cast(pl.Float64).alias("value"), pl.len().alias("calls")]
    if by is None:
        table = items.select(aggs).with_columns(pl.lit(unknown.height).cast(pl.UInt32).alias("unknown_calls"))
    else:
        table = (items.group_by(by).agg(aggs)
                 .join(unknown.group_by(by).agg(pl.len().alias("unknown_calls")), on=by, how="full",
                       coalesce=True, nulls_equal=True)
                 .with_columns(pl.col("value").fill_null(0.0), pl.col("calls").fill_null(0),
                               pl.col("unknown_calls").fill_null(0))
                 .sort(by, nulls_last=True))
    return KpiResult(definition, window, by, table, items)


def throughput_t(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Tonnes handled (see `THROUGHPUT_T`). Table: value (t), calls, unknown_calls."""
    return _sum_kpi(THROUGHPUT_T, inputs, window, by, "tonnes")


def throughput_teu(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """TEU handled at the quay (see `THROUGHPUT_TEU`). Table: value (TEU), calls, unknown_calls."""
    return _sum_kpi(THROUGHPUT_TEU, inputs, window, by, "teu")


def vessel_calls(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Arrivals (see `VESSEL_CALLS`). Table: value (calls)."""
    by = normalise_by(by)
    check_by(VESSEL_CALLS, by)
    items = (call_table(inputs).filter(window.contains("port_limit_arrival_utc"))
             .select(*_ITEM_KEYS, "port_limit_arrival_utc").sort("port_limit_arrival_utc"))
    agg = pl.len().cast(pl.Float64).alias("value")
    table = items.select(agg) if by is None else items.group_by(by).agg(agg).sort(by, nulls_last=True)
    return KpiResult(VESSEL_CALLS, window, by, table, items)


# -- durations of a call ----------------------------------------------------------------------
def _span_definition(id_: str, en: str, zh: str, formula: str, uses: str, source: str, close: str,
                     note: str = "") -> Definition:
    return Definition(id=id_, label_en=en, label_zh=zh, unit="h", formula=formula, uses=uses, source=source,
                      window_rule=f"call counted when its {close} falls in the window; figures n, mean, "
                                  "median, p90 (linear interpolation) of the calls' hours",
                      group_fields=CALL_GROUPS, note=note)


ANCHORAGE_WAIT = _span_definition(
    "anchorage_wait_h", "Waiting time at anchorage", "锚地等待时间",
    "per call, the sum over its anchorage stays of (anchorage_departure − anchorage_arrival), a stay "
    "being an anchorage_arrival and the call's next event when that is an anchorage_departure",
    "anchorage_arrival, anchorage_departure events",
    "UNCTAD port performance (waiting time at anchorage before berthing); DCSA Just-In-Time Port Call "
    "events (arrival at / departure from anchorage)",
    "last anchorage_departure",
    note="a stay still going at the window end is not counted (see the live tile for waits so far)")
ANCHORAGE_WAIT = replace(ANCHORAGE_WAIT, group_fields=(*CALL_GROUPS, "anchorage_id"))
PRE_BERTHING = _span_definition(
    "pre_berthing_h", "Pre-berthing time", "靠泊前时间",
    "per call, all_fast (first) − port_limit_arrival (first): anchorage wait plus approach and pilotage",
    "port_limit_arrival, all_fast events",
    "UNCTAD port performance indicators, 'pre-berthing waiting time' (arrival at port → berthing); "
    "DCSA Just-In-Time Port Call (Arrival at port limit → All fast)",
    "first all_fast")
TIME_AT_BERTH = _span_definition(
    "time_at_berth_h", "Time at berth", "在泊时间",
    "per call, departure_from_berth (last) − all_fast (first)",
    "all_fast, departure_from_berth events",
    "UNCTAD port performance indicators, 'time at berth' / berth time; DCSA Just-In-Time Port Call "
    "(All fast → Departure from berth)",
    "last departure_from_berth",
    note="a call that shifts berth counts from its first all_fast to its last departure")
TURNAROUND = _span_definition(
    "turnaround_h", "Vessel turnaround time", "船舶在港时间",
    "per call, port_limit_departure (last) − port_limit_arrival (first)",
    "port_limit_arrival, port_limit_departure events",
    "UNCTAD Review of Maritime Transport / port performance, 'ship turnaround time' (time in port); "
    "DCSA Just-In-Time Port Call (port limit arrival → port limit departure)",
    "last port_limit_departure")
IDLE_BEFORE_DEPARTURE = _span_definition(
    "idle_before_departure_h", "Idle time before departure", "完货后离泊等待时间",
    "per call, departure_from_berth (last) − cargo complete; cargo complete is the terminal's 'cargo "
    "operations completed' time when given, else (proxy) the call's latest sea-customs event "
    "(release or exit of a declaration of that call) between all_fast and departure_from_berth",
    "departure_from_berth events; cargo_complete rows or, as proxy, customs_event rows by call_id",
    "UNCTAD port performance indicators, idle (non-working) time at berth; DCSA Just-In-Time Port Call "
    "'Cargo operations completed'",
    "last departure_from_berth",
    note="'cargo complete' is NOT one of the port-call events (contracts §3); without a terminal feed the "
         "customs proxy is used (column complete_source says which), which only bounds the idle time")


def _span(definition: Definition, inputs: KpiInputs, window: Window, by: str | None, start: str,
          end: str, calls: pl.DataFrame | None = None) -> KpiResult:
    by = normalise_by(by)
    check_by(definition, by)
    calls = call_table(inputs) if calls is None else calls
    items = (calls.filter(pl.col(start).is_not_null(), pl.col(end) >= pl.col(start), window.contains(end))
             .with_columns(hours_between(start, end).alias("hours"))
             .select(*_ITEM_KEYS, start, end, "hours").sort(end))
    return KpiResult(definition, window, by, duration_stats(items, "hours", by), items)


def anchorage_wait_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Waiting time at anchorage per call (see `ANCHORAGE_WAIT`). Table: n, mean, median, p90 (h)."""
    by = normalise_by(by)
    check_by(ANCHORAGE_WAIT, by)
    ev = (inputs.get("events").sort("ts_utc", maintain_order=True)
          .with_columns(pl.col("event").shift(-1).over("call_id").alias("next_event"),
                        pl.col("ts_utc").shift(-1).over("call_id").alias("next_utc")))
    stays = ev.filter(pl.col("event") == "anchorage_arrival", pl.col("next_event") == "anchorage_departure")
    per_call = stays.group_by("call_id").agg(
        pl.col("location_id").first().alias("anchorage_id"),
        pl.col("ts_utc").min().alias("anchorage_arrival_utc"),
        pl.col("next_utc").max().alias("anchorage_departure_utc"),
        pl.len().alias("stays"),
        ((pl.col("next_utc") - pl.col("ts_utc")).dt.total_microseconds() / 3.6e9).sum().alias("hours"))
    calls = call_table(inputs).drop("anchorage_arrival_utc", "anchorage_departure_utc")
    items = (per_call.join(calls, on="call_id", how="left")
             .filter(window.contains("anchorage_departure_utc"))
             .select(*_ITEM_KEYS, "anchorage_id", "stays", "anchorage_arrival_utc", "anchorage_departure_utc",
                     "hours")
             .sort("anchorage_departure_utc"))
    return KpiResult(ANCHORAGE_WAIT, window, by, duration_stats(items, "hours", by), items)


def pre_berthing_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Port-limit arrival → all fast (see `PRE_BERTHING`). Table: n, mean, median, p90 (h)."""
    return _span(PRE_BERTHING, inputs, window, by, "port_limit_arrival_utc", "all_fast_utc")


def time_at_berth_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """All fast → departure from berth (see `TIME_AT_BERTH`). Table: n, mean, median, p90 (h)."""
    return _span(TIME_AT_BERTH, inputs, window, by, "all_fast_utc", "departure_from_berth_utc")


def turnaround_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Port-limit arrival → port-limit departure (see `TURNAROUND`). Table: n, mean, median, p90 (h)."""
    return _span(TURNAROUND, inputs, window, by, "port_limit_arrival_utc", "port_limit_departure_utc")


def idle_before_departure_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Cargo complete (or its customs proxy) → departure from berth (see `IDLE_BEFORE_DEPARTURE`).
    Items carry `cargo_complete_utc` and `complete_source` (`cargo_complete` | `customs_proxy`)."""
    calls = call_table(inputs)
    reported = (inputs.get("cargo_complete").group_by("call_id")
                .agg(pl.col("ts_utc").max().alias("reported_utc")))
    customs = inputs.get("customs").filter(pl.col("mode") == "sea", pl.col("call_id").is_not_null())
    proxy = (customs.join(calls.select("call_id", "all_fast_utc", "departure_from_berth_utc"), on="call_id")
             .filter(pl.col("ts_utc") >= pl.col("all_fast_utc"),
                     pl.col("ts_utc") <= pl.col("departure_from_berth_utc"),
                     pl.col("stage").cast(pl.String).is_in(["released", "exit"]))
             .group_by("call_id").agg(pl.col("ts_utc").max().alias("proxy_utc")))
    calls = (calls.join(reported, on="call_id", how="left").join(proxy, on="call_id", how="left")
             .with_columns(pl.coalesce("reported_utc", "proxy_utc").alias("cargo_complete_utc"),
                           pl.when(pl.col("reported_utc").is_not_null()).then(pl.lit("cargo_complete"))
                           .when(pl.col("proxy_utc").is_not_null()).then(pl.lit("customs_proxy"))
                           .alias("complete_source")))
    result = _span(IDLE_BEFORE_DEPARTURE, inputs, window, by, "cargo_complete_utc",
                   "departure_from_berth_utc", calls)
    sources = calls.select("call_id", "complete_source")
    result.items = result.items.join(sources, on="call_id", how="left", maintain_order="left")
    return result


# -- berth occupancy --------------------------------------------------------------------------
BERTH_OCCUPANCY = Definition(
    id="berth_occupancy_pct", label_en="Berth occupancy", label_zh="泊位占用率", unit="%",
    formula="100 × vessel-hours at berth in the window ÷ (operational berths × window hours); "
            "metre_occupancy_pct = 100 × Σ(vessel length × hours at berth) ÷ Σ(quay length × window hours)",
    uses="all_fast → departure_from_berth of the same call at the same berth (a stay still open at the "
         "window end counts until the end), clipped to the window; vessel length_m (AIS); berths of the port "
         "model (quay length_m, status operational)",
    source="UNCTAD Port Development handbook (1985) and PIANC WG 158 (2014): berth occupancy ratio = "
           "time berths are occupied ÷ time available; quays in metre-hours",
    window_rule="the part of every berth stay that overlaps the window",
    group_fields=BERTH_GROUPS,
    note="ships with unknown length add hours but no metre-hours (counted in unknown_length_stays)",
)


def berth_stays(inputs: KpiInputs, window: Window) -> pl.DataFrame:
    """Berth stays overlapping `window`: berth_id, call_id, mmsi, all_fast_utc, departure_utc (null when
    still at berth), the clipped from/to, hours in the window, vessel length_m and metre-hours."""
    ev = (inputs.get("events").filter(pl.col("event").is_in(["all_fast", "departure_from_berth"]))
          .sort("ts_utc", maintain_order=True)
          .with_columns(pl.col("event").shift(-1).over("call_id").alias("next_event"),
                        pl.col("ts_utc").shift(-1).over("call_id").alias("next_utc"),
                        pl.col("location_id").shift(-1).over("call_id").alias("next_loc")))
    closes = (pl.col("next_event") == "departure_from_berth") & pl.col("next_loc").eq_missing(
        pl.col("location_id"))
    stays = (ev.filter(pl.col("event") == "all_fast")
             .select(pl.col("location_id").alias("berth_id"), "call_id", "mmsi",
                     pl.col("ts_utc").alias("all_fast_utc"),
                     pl.when(closes).then(pl.col("next_utc")).alias("departure_utc")))
    lo = pl.max_horizontal(pl.col("all_fast_utc"), pl.lit(window.start_utc))
    hi = pl.min_horizontal(pl.col("departure_utc").fill_null(pl.lit(window.end_utc)), pl.lit(window.end_utc))
    vessels = (inputs.get("vessels").unique("mmsi", keep="last", maintain_order=True)
               .select("mmsi", "length_m"))
    return (stays.with_columns(lo.alias("from_utc"), hi.alias("to_utc"))
            .filter(pl.col("to_utc") > pl.col("from_utc"))
            .with_columns(hours_between("from_utc", "to_utc").alias("hours"))
            .join(vessels, on="mmsi", how="left")
            .with_columns((pl.col("length_m") * pl.col("hours")).alias("metre_hours"))
            .sort("berth_id", "from_utc"))


def berth_occupancy_pct(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Berth occupancy (see `BERTH_OCCUPANCY`). Table: vessel_hours, berth_hours, value (%),
    metre_hours, quay_metre_hours, metre_occupancy_pct, unknown_length_stays; per berth group."""
    by = normalise_by(by)
    check_by(BERTH_OCCUPANCY, by)
    berths = (inputs.get("berths").filter(pl.col("operational"))
              .rename({"berth_cargo": "cargo"}).select("berth_id", "terminal", "port_area", "cargo",
                                                       "quay_length_m"))
    items = (berth_stays(inputs, window).join(berths, on="berth_id", how="inner")
             .select("berth_id", "terminal", "port_area", "cargo", "call_id", "mmsi", "all_fast_utc",
                     "departure_utc", "from_utc", "to_utc", "hours", "length_m", "metre_hours"))
    keys = [] if by is None else [by]
    hours = window.hours
    supply = (berths.group_by(keys).agg(pl.len().alias("berths"), pl.col("quay_length_m").sum())
              if keys else berths.select(pl.len().alias("berths"), pl.col("quay_length_m").sum()))
    use_aggs = [pl.col("hours").sum().alias("vessel_hours"), pl.col("metre_hours").sum(),
                pl.col("length_m").is_null().sum().alias("unknown_length_stays")]
    use = items.group_by(keys).agg(use_aggs) if keys else items.select(use_aggs)
    table = (supply.join(use, on=keys, how="left", nulls_equal=True) if keys
             else pl.concat([supply, use], how="horizontal"))
    table = (table.with_columns(pl.col("vessel_hours").fill_null(0.0), pl.col("metre_hours").fill_null(0.0),
                                pl.col("unknown_length_stays").fill_null(0),
                                (pl.col("berths") * hours).alias("berth_hours"),
                                (pl.col("quay_length_m") * hours).alias("quay_metre_hours"))
             .with_columns((100.0 * pl.col("vessel_hours") / pl.col("berth_hours")).alias("value"),
                           (100.0 * pl.col("metre_hours") / pl.col("quay_metre_hours"))
                           .alias("metre_occupancy_pct"))
             .select(*keys, "value", "vessel_hours", "berth_hours", "metre_occupancy_pct", "metre_hours",
                     "quay_metre_hours", "berths", "unknown_length_stays"))
    if keys:
        table = table.sort(by, nulls_last=True)
    return KpiResult(BERTH_OCCUPANCY, window, by, table, items)
