"""Landside KPIs: gate transactions, truck turn time, gate boxes/TEU, customs release time and stages.

Inputs are the canonical `gate_event` and `customs_event` rows (feeds.schema) in `KpiInputs`.
"""

from __future__ import annotations

import polars as pl

from feeds.schema import CUSTOMS_STAGES
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

# ISO 6346 size-type code, first character = length: TEU it counts for (20 ft = 1, 40 ft = 2; longer
# boxes (45 ft 'L', 48 ft 'M', …) count 2 as in most port statistics; 10 ft 0.5, 30 ft 1.5).
TEU_OF_LENGTH_CODE = {"1": 0.5, "2": 1.0, "3": 1.5, "4": 2.0, "L": 2.0, "M": 2.0, "N": 2.0, "P": 2.0}

GATE_TX = Definition(
    id="gate_tx_per_hour", label_en="Gate transactions per hour", label_zh="闸口每小时通行量", unit="tx/h",
    formula="number of gate transactions (one truck passing one lane, any outcome) in the window ÷ the "
            "window's hours; `transactions` is the count",
    uses="gate_event rows", source="terminal gate (TOS/CODECO gate-in and gate-out) transaction counts",
    window_rule="transaction counted when its ts_utc falls in the window",
    group_fields=("gate_id", "direction", "outcome"))
TRUCK_TURN = Definition(
    id="truck_turn_min", label_en="Truck turn time", label_zh="集卡在港周转时间", unit="min",
    formula="per truck visit, (first gate-out after the gate-in − gate-in) + the gate-in lane processing "
            "time; gate_to_gate_min is the first part alone",
    uses="gate_event rows paired by visit_id (direction in → out)",
    source="terminal industry 'truck turn time' (gate-in to gate-out of one visit, e.g. the US Federal "
           "Maritime Commission / Harbor Trucking Association definition), queue time at the gate added "
           "where measured",
    window_rule="visit counted when its gate-out falls in the window; n, mean, median, p90 in minutes",
    group_fields=("gate_id", "out_gate_id"),
    note="the queue ahead of the in-gate is not in the gate log; only the lane processing time at the "
         "in-gate is added. gate_id is the entry gate")
GATE_BOXES = Definition(
    id="gate_boxes", label_en="Boxes through the gates", label_zh="闸口集装箱自然箱", unit="boxes",
    formula="number of container numbers on accepted gate transactions (physical boxes); teu = sum over "
            "the boxes whose ISO 6346 size-type code is known of their TEU (20 ft = 1, 40 ft = 2, 45 ft = 2)",
    uses="gate_event rows (container_ids); container size-type codes where a TOS supplies them",
    source="ISO 6346 (container identification, size and type codes); UNCTAD TEU convention",
    window_rule="box counted when its gate transaction's ts_utc falls in the window",
    group_fields=("gate_id", "direction"),
    note="the canonical gate_event carries the container number only, not its size-type code: without a "
         "size table the gate TEU stays unknown (unknown_size_boxes) and the quay-side per-call TEU "
         "(throughput_teu) is the TEU figure")


def gate_tx_per_hour(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Gate transactions per hour (see `GATE_TX`). Table: value (tx/h), transactions."""
    by = normalise_by(by)
    check_by(GATE_TX, by)
    items = (inputs.get("gate").filter(window.contains("ts_utc"))
             .with_columns(pl.col("direction").cast(pl.String), pl.col("outcome").cast(pl.String))
             .select("ts_utc", "gate_id", "lane", "direction", "outcome", "visit_id").sort("ts_utc"))
    aggs = [(pl.len() / window.hours).alias("value"), pl.len().alias("transactions")]
    table = items.select(aggs) if by is None else items.group_by(by).agg(aggs).sort(by, nulls_last=True)
    return KpiResult(GATE_TX, window, by, table, items)


def truck_turn_min(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Truck turn time (see `TRUCK_TURN`). Table: n, mean, median, p90 (min)."""
    by = normalise_by(by)
    check_by(TRUCK_TURN, by)
    gate = inputs.get("gate").sort("ts_utc", maintain_order=True)
    ins = (gate.filter(pl.col("direction") == "in").group_by("visit_id")
           .agg(pl.all().first()).select("visit_id", "gate_id", pl.col("ts_utc").alias("in_utc"),
                                         pl.col("processing_s").alias("in_processing_s")))
    outs = (gate.filter(pl.col("direction") == "out")
            .select("visit_id", pl.col("gate_id").alias("out_gate_id"), pl.col("ts_utc").alias("out_utc")))
    items = (ins.join(outs, on="visit_id").filter(pl.col("out_utc") >= pl.col("in_utc"))
             .sort("out_utc").group_by("visit_id", maintain_order=True).first()
             .filter(window.contains("out_utc"))
             .with_columns((hours_between("in_utc", "out_utc") * 60.0).alias("gate_to_gate_min"))
             .with_columns((pl.col("gate_to_gate_min") + pl.col("in_processing_s").fill_null(0.0) / 60.0)
                           .alias("minutes"))
             .select("visit_id", "gate_id", "out_gate_id", "in_utc", "out_utc", "in_processing_s",
                     "gate_to_gate_min", "minutes")
             .sort("out_utc", "visit_id"))
    return KpiResult(TRUCK_TURN, window, by, duration_stats(items, "minutes", by), items)


def gate_boxes(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Boxes (and their TEU where the size is known) through the gates (see `GATE_BOXES`).
    Table: value (boxes), teu (of known sizes), unknown_size_boxes."""
    by = normalise_by(by)
    check_by(GATE_BOXES, by)
    sizes = inputs.get("container_sizes").unique("container_id", keep="last")
    teu = pl.col("size_type").str.slice(0, 1).replace_strict(TEU_OF_LENGTH_CODE, default=None,
                                                             return_dtype=pl.Float64)
    items = (inputs.get("gate").filter(window.contains("ts_utc"), pl.col("outcome") == "accepted")
             .with_columns(pl.col("direction").cast(pl.String))
             .select("ts_utc", "gate_id", "direction", "visit_id", "container_ids")
             .explode("container_ids").rename({"container_ids": "container_id"})
             .filter(pl.col("container_id").is_not_null())
             .join(sizes, on="container_id", how="left", maintain_order="left")
             .with_columns(teu.alias("teu")).sort("ts_utc", "container_id"))
    aggs = [pl.len().cast(pl.Float64).alias("value"), pl.col("teu").sum().alias("teu"),
            pl.col("teu").is_null().sum().alias("unknown_size_boxes")]
    table = items.select(aggs) if by is None else items.group_by(by).agg(aggs).sort(by, nulls_last=True)
    return KpiResult(GATE_BOXES, window, by, table, items)


# -- customs ----------------------------------------------------------------------------------
CUSTOMS_RELEASE = Definition(
    id="customs_release_h", label_en="Customs release time", label_zh="通关放行时间", unit="h",
    formula="per declaration, released − arrival (the first time of each stage); when the arrival stage was "
            "not reported, released − lodged (start_stage says which)",
    uses="customs_event rows by declaration_id (stages arrival, lodged, released; last known channel, mode)",
    source="WCO Time Release Study Guide, version 3 (2018): release time = arrival of goods → release",
    window_rule="declaration counted when its release falls in the window; n, mean, median, p90 (h)",
    group_fields=("channel", "mode"))
CUSTOMS_STAGE = Definition(
    id="customs_stage_h", label_en="Time in each customs stage", label_zh="各通关环节用时", unit="h",
    formula="per declaration and stage reached, the time from that stage to the next stage it reached "
            "(in the WCO order arrival, lodged, risk_assessed, inspection_start, inspection_end, released, "
            "exit); figures per stage",
    uses="customs_event rows by declaration_id",
    source="WCO Time Release Study Guide, version 3 (2018): time between successive stages",
    window_rule="a stage counted when the next stage (its end) falls in the window; n, mean, median, p90 (h)",
    group_fields=("channel", "mode"))


def declarations(inputs: KpiInputs) -> pl.DataFrame:
    """One row per declaration: the first time of each stage (`<stage>_utc`), last known channel, mode
    and call_id."""
    c = inputs.get("customs").sort("ts_utc", maintain_order=True)
    return c.group_by("declaration_id").agg(
        pl.col("channel").drop_nulls().last().cast(pl.String).alias("channel"),
        pl.col("mode").drop_nulls().last().cast(pl.String).alias("mode"),
        pl.col("call_id").drop_nulls().last().alias("call_id"),
        *[pl.col("ts_utc").filter(pl.col("stage") == s).min().alias(f"{s}_utc") for s in CUSTOMS_STAGES],
    ).sort("declaration_id")


def customs_release_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Customs release time (see `CUSTOMS_RELEASE`). Table: n, mean, median, p90 (h)."""
    by = normalise_by(by)
    check_by(CUSTOMS_RELEASE, by)
    items = (declarations(inputs)
             .with_columns(pl.coalesce("arrival_utc", "lodged_utc").alias("start_utc"),
                           pl.when(pl.col("arrival_utc").is_not_null()).then(pl.lit("arrival"))
                           .when(pl.col("lodged_utc").is_not_null()).then(pl.lit("lodged")).alias("start_stage"))
             .filter(pl.col("start_utc").is_not_null(), window.contains("released_utc"),
                     pl.col("released_utc") >= pl.col("start_utc"))
             .with_columns(hours_between("start_utc", "released_utc").alias("hours"))
             .select("declaration_id", "call_id", "channel", "mode", "start_stage", "start_utc",
                     "released_utc", "hours").sort("released_utc", "declaration_id"))
    return KpiResult(CUSTOMS_RELEASE, window, by, duration_stats(items, "hours", by), items)


def customs_stage_h(inputs: KpiInputs, window: Window, by: str | None = None) -> KpiResult:
    """Time in each stage (see `CUSTOMS_STAGE`). Table: stage (+ group), n, mean, median, p90 (h)."""
    by = normalise_by(by)
    check_by(CUSTOMS_STAGE, by)
    order = {s: i for i, s in enumerate(CUSTOMS_STAGES)}
    long = (declarations(inputs)
            .unpivot(index=["declaration_id", "call_id", "channel", "mode"],
                     on=[f"{s}_utc" for s in CUSTOMS_STAGES], variable_name="stage", value_name="from_utc")
            .drop_nulls("from_utc")
            .with_columns(pl.col("stage").str.strip_suffix("_utc"))
            .with_columns(pl.col("stage").replace_strict(order, return_dtype=pl.Int8).alias("stage_no"))
            .sort("declaration_id", "stage_no")
            .with_columns(pl.col("stage").shift(-1).over("declaration_id").alias("next_stage"),
                          pl.col("from_utc").shift(-1).over("declaration_id").alias("to_utc")))
    items = (long.filter(pl.col("to_utc").is_not_null(), window.contains("to_utc"))
             .with_columns(hours_between("from_utc", "to_utc").alias("hours"))
             .select("declaration_id", "call_id", "channel", "mode", "stage", "stage_no", "next_stage",
                     "from_utc", "to_utc", "hours"))
    keys = ["stage_no", "stage"] if by is None else [by, "stage_no", "stage"]
    aggs = [pl.col("hours").count().alias("n"), pl.col("hours").mean().alias("mean"),
            pl.col("hours").median().alias("median"),
            pl.col("hours").quantile(0.9, interpolation="linear").alias("p90")]
    table = items.group_by(keys).agg(aggs).sort(keys, nulls_last=True).drop("stage_no")
    return KpiResult(CUSTOMS_STAGE, window, by, table, items.drop("stage_no"))
