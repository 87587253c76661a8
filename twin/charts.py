"""The cockpit's chart series, computed by the engine (the `charts` part of snapshots and deltas).

docs/protocol.md allows keys beyond contracts §6 within v1; the cockpit draws these three charts
as given and computes nothing. Each chart is recomputed from the engine state at `now`:

- `throughput_by_hour`: tonnes per local hour of today (Asia/Shanghai) by cargo kind, from calls
  that left their berth (`departure_from_berth`) in that hour and whose tonnage is known
  (`port_call_cargo`); the cargo kind is the one given with the tonnage, else the berth's.
  `{"hours": ["00", "01", …, current hour], "series": {cargo: [t, …]}}`.
- `customs_stage_hours`: for declarations that reached `released` today, the median hours from
  their first stage (arrival, else lodged) to each later stage, by control channel.
  `{"stages": [...], "by_channel": {"green": [h or null, …], …}}`.
- `waiting_hours`: hours at anchor of every stay that ended today (anchorage_arrival →
  anchorage_departure) and of every ship at anchor now (so far), sorted.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from twin.state import HOUR_US, LOCAL_OFFSET_US, local_day_start_us

if TYPE_CHECKING:
    from twin.engine import Engine

STAGES_AFTER = ("lodged", "risk_assessed", "inspection_start", "inspection_end", "released", "exit")
CUSTOMS_STAGES = ("arrival", *STAGES_AFTER)  # WCO TRS order, as feeds.schema (twin does not import feeds)
CHANNELS = ("green", "yellow", "red")


def throughput_by_hour(eng: Engine, now_us: int) -> dict[str, Any]:
    """Tonnes by local hour of today and cargo kind (see the module docstring)."""
    day0 = local_day_start_us(now_us)
    n_hours = int((now_us - day0) // HOUR_US) + 1
    series: dict[str, list[float]] = {}
    for call in eng.calls.values():
        if call.departed_us is None or not day0 <= call.departed_us <= now_us:
            continue
        cargo = eng.cargo.get(call.call_id)
        if cargo is None or cargo.get("tonnes") is None:
            continue
        kind = cargo.get("cargo")
        if kind is None and call.berth_ids:
            kind = eng.port.berths[call.berth_ids[-1]].cargo
        row = series.setdefault(str(kind or "unknown"), [0.0] * n_hours)
        row[int((call.departed_us - day0) // HOUR_US)] += float(cargo["tonnes"])
    hours = [f"{(h + (day0 + LOCAL_OFFSET_US) // HOUR_US) % 24:02d}" for h in range(n_hours)]
    return {"hours": hours, "series": dict(sorted(series.items()))}


def customs_stage_hours(eng: Engine, now_us: int) -> dict[str, Any]:
    """Median hours from first stage to each stage, by channel, over today's releases."""
    day0 = local_day_start_us(now_us)
    spans: dict[tuple[str, str], list[float]] = {}
    for d in eng.declarations.values():
        rel = d.stage_us.get("released")
        start = d.stage_us.get("arrival", d.stage_us.get("lodged"))
        if rel is None or start is None or not day0 <= rel <= now_us or d.channel is None:
            continue
        for stage in STAGES_AFTER:
            at = d.stage_us.get(stage)
            if at is not None and at >= start:
                spans.setdefault((d.channel, stage), []).append((at - start) / HOUR_US)
    by_channel = {
        ch: [round(statistics.median(spans[(ch, s)]), 3) if (ch, s) in spans else None for s in STAGES_AFTER]
        for ch in CHANNELS
        if any((ch, s) in spans for s in STAGES_AFTER)
    }
    return {"stages": list(STAGES_AFTER), "by_channel": by_channel}


def waiting_hours(eng: Engine, now_us: int) -> list[float]:
    """Hours at anchor: stays that ended today and stays still going (see the module docstring)."""
    day0 = local_day_start_us(now_us)
    waits: list[float] = []
    arrived: dict[tuple[int, str | None], int] = {}
    for ts, mmsi, _call, event, loc in eng.event_log:
        if event == "anchorage_arrival":
            arrived[(mmsi, loc)] = ts
        elif event == "anchorage_departure":
            start = arrived.pop((mmsi, loc), None)
            if start is not None and day0 <= ts <= now_us:
                waits.append((ts - start) / HOUR_US)
    for v in eng.vessels.values():
        if v.anchor_id is not None and v.anchor_since_us is not None:
            waits.append((now_us - v.anchor_since_us) / HOUR_US)
    return sorted(round(w, 3) for w in waits)


def charts(eng: Engine, now_us: int) -> dict[str, Any]:
    """All three chart series."""
    return {
        "throughput_by_hour": throughput_by_hour(eng, now_us),
        "customs_stage_hours": customs_stage_hours(eng, now_us),
        "waiting_hours": waiting_hours(eng, now_us),
    }
