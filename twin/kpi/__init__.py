"""Port KPIs as polars expressions over frames, each with one written definition (docs/kpi.md).

```python
from twin.kpi import KpiInputs, Window, compute_all, throughput_t, inputs_from_engine
inputs = inputs_from_engine(eng, gate=gate_rows, feed_counts=counts)   # live; or KpiInputs(events=…, …)
res = throughput_t(inputs, Window.at("today", now), by="cargo")
res.table                 # figures per group;   res.definition  the written definition
res.explain("iron_ore")   # the calls behind the iron-ore figure
compute_all(inputs, Window.custom(t0, t1), by="terminal")   # every KPI that groups by terminal
```
The same functions run over the live engine's frames and over history replayed through a fresh
engine (`twin kpi --history DIR`, twin.kpi_cli). Nothing here reads a clock or a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twin.kpi.calls import (
    anchorage_wait_h,
    berth_occupancy_pct,
    berth_stays,
    call_table,
    idle_before_departure_h,
    pre_berthing_h,
    throughput_t,
    throughput_teu,
    time_at_berth_h,
    turnaround_h,
    vessel_calls,
)
from twin.kpi.core import Definition, KpiInputs, KpiResult, Window, normalise_by
from twin.kpi.landside import customs_release_h, customs_stage_h, gate_boxes, gate_tx_per_hour, truck_turn_min
from twin.kpi.quality import compact_feed_counts, feed_counts_of, feed_quality, vessels_dark
from twin.kpi.sources import (
    berths_frame,
    customs_frame,
    inputs_from_engine,
    vessels_frame,
    vessels_from_static,
)

KpiFunction = Callable[[KpiInputs, Window, str | None], KpiResult]

KPIS: dict[str, KpiFunction] = {
    "throughput_t": throughput_t,
    "throughput_teu": throughput_teu,
    "vessel_calls": vessel_calls,
    "gate_boxes": gate_boxes,
    "anchorage_wait_h": anchorage_wait_h,
    "pre_berthing_h": pre_berthing_h,
    "time_at_berth_h": time_at_berth_h,
    "turnaround_h": turnaround_h,
    "idle_before_departure_h": idle_before_departure_h,
    "berth_occupancy_pct": berth_occupancy_pct,
    "gate_tx_per_hour": gate_tx_per_hour,
    "truck_turn_min": truck_turn_min,
    "customs_release_h": customs_release_h,
    "customs_stage_h": customs_stage_h,
    "feed_quality": feed_quality,
    "vessels_dark": vessels_dark,
}


def definitions() -> dict[str, Definition]:
    """Every KPI's written definition, by id."""
    from twin.kpi import calls, landside, quality

    found = [v for m in (calls, landside, quality) for v in vars(m).values() if isinstance(v, Definition)]
    return {d.id: d for d in found}


def compute_all(inputs: KpiInputs, window: Window, by: str | None = None) -> dict[str, KpiResult]:
    """Every KPI over `window`, grouped by `by` where the KPI can be (others are left out; `feed_quality`
    is always per feed and included when `by` is None or "feed")."""
    field = normalise_by(by)
    defs = definitions()
    out: dict[str, KpiResult] = {}
    for kpi_id, fn in KPIS.items():
        if kpi_id == "feed_quality":
            if field in (None, "feed"):
                out[kpi_id] = fn(inputs, window, "feed")
            continue
        if field is None or field in defs[kpi_id].group_fields:
            out[kpi_id] = fn(inputs, window, field)
    return out


def report(results: dict[str, KpiResult]) -> dict[str, Any]:
    """JSON-able form of `compute_all`'s results: {kpi id: KpiResult.to_dict()}."""
    return {k: r.to_dict() for k, r in results.items()}


__all__ = [
    "KPIS", "Definition", "KpiInputs", "KpiResult", "Window", "anchorage_wait_h", "berth_occupancy_pct",
    "berth_stays", "berths_frame", "call_table", "compact_feed_counts", "compute_all", "customs_frame",
    "customs_release_h", "customs_stage_h", "definitions", "feed_counts_of", "feed_quality", "gate_boxes",
    "gate_tx_per_hour", "idle_before_departure_h", "inputs_from_engine", "pre_berthing_h", "report",
    "throughput_t", "throughput_teu", "time_at_berth_h", "truck_turn_min", "turnaround_h", "vessel_calls",
    "vessels_dark", "vessels_frame", "vessels_from_static",
]
