"""Chart series of the cockpit, computed by the engine from its own state (the cockpit only draws).

Three series, each a pure function of the engine state at `now_us` (UTC microseconds):

- `throughput_by_hour`: tonnes per local hour of today (Asia/Shanghai), by cargo kind. A call counts
  in the hour its ship left the berth (`departure_from_berth`), with the tonnage of its
  `port_call_cargo` row; the cargo kind is the kind of the berth it worked at. Calls with no known
  tonnage add nothing (the same rule as the `throughput_today_t` tile, so the bars sum to the tile).
- `customs_stage_hours`: for declarations released today (local), the median hours spent reaching
  each WCO Time Release Study stage from the stage before it, by channel (green / yellow / red).
- `waiting_hours`: every anchorage stay that ended (`anchorage_departure`) in the last 7 days,
  in hours from its `anchorage_arrival` — the distribution behind the median-wait tile.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from twin.state import DAY_US, HOUR_US, LOCAL_OFFSET_US, local_day_start_us

if TYPE_CHECKING:
    from twin.engine import Engine

STAGES = ("arrival", "lodged", "risk_assessed", "inspection_start", "inspection_end", "released")
WAIT_WINDOW_US = 7 * DAY_US


def throughput_by_hour(eng: Engine, now_us: int) -> dict[str, Any]:
    day0 = local_day_start_us(now_us)
    series: dict[str, list[float]] = {}
    for call in eng.calls.values():
        if call.departed_us is None or not day0 <= call.departed_us <= now_us:
            continue
        tonnes = (eng.cargo.get(call.call_id) or {}).get("tonnes")
        if tonnes is None:
            continue
        berth = eng.port.berths.get(call.berth_ids[-1]) if call.berth_ids else None
        kind = berth.cargo if berth is not None else "unknown"
        hour = int((call.departed_us - day0) // HOUR_US)
        series.setdefault(kind, [0.0] * 24)[hour] += float(tonnes)
    hours = [f"{h:02d}:00" for h in range(24)]
    return {"hours": hours, "series": dict(sorted(series.items())), "day_start_local": _local_date(day0)}


def customs_stage_hours(eng: Engine, now_us: int) -> dict[str, Any]:
    day0 = local_day_start_us(now_us)
    durations: dict[str, dict[str, list[float]]] = {}
    for dec in eng.declarations.values():
        released = dec.stage_us.get("released")
        if released is None or not day0 <= released <= now_us or dec.channel is None:
            continue
        previous: int | None = None
        for stage in STAGES:
            at = dec.stage_us.get(stage)
            if at is None:
                continue
            if previous is not None:
                durations.setdefault(dec.channel, {}).setdefault(stage, []).append((at - previous) / HOUR_US)
            previous = at
    stages = list(STAGES[1:])
    by_channel = {
        channel: [round(statistics.median(d[s]), 2) if d.get(s) else None for s in stages]
        for channel, d in sorted(durations.items())
    }
    return {"stages": stages, "by_channel": by_channel}


def waiting_hours(eng: Engine, now_us: int) -> list[float]:
    arrived: dict[tuple[int, str], int] = {}
    waits = []
    for ts_us, mmsi, call_id, event, _location in eng.event_log:
        if event == "anchorage_arrival":
            arrived[(mmsi, call_id)] = ts_us
        elif event == "anchorage_departure" and (mmsi, call_id) in arrived:
            start = arrived.pop((mmsi, call_id))
            if now_us - ts_us <= WAIT_WINDOW_US:
                waits.append(round((ts_us - start) / HOUR_US, 2))
    return waits


def charts(eng: Engine, now_us: int) -> dict[str, Any]:
    """The `charts` part of a snapshot (docs/protocol.md)."""
    return {
        "throughput_by_hour": throughput_by_hour(eng, now_us),
        "customs_stage_hours": customs_stage_hours(eng, now_us),
        "waiting_hours": waiting_hours(eng, now_us),
    }


def _local_date(day0_us: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp((day0_us + LOCAL_OFFSET_US) / 1e6, tz=UTC).strftime("%Y-%m-%d")
