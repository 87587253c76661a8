"""Live KPI tiles of the cockpit, computed by the engine (the cockpit never computes a KPI).

Each KPI is a `KpiDef`: an id, Chinese and English labels, a unit, the feed whose staleness makes
the tile stale, and a function of the engine state at `now`. The docstring of each function gives
the formula in words. A value of None means "not known" (shown as such, never as 0): e.g. the
throughput when no cargo figure is known for any call that left its berth today. Tiles have
the keys of contracts §6 (value, unit, label_zh, label_en, updated_utc, stale, trend); the
throughput tiles add `unknown_calls` (calls left out of the sum for want of a figure), so a
partial sum is never shown as the whole.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.state import HOUR_US, local_day_start_us

if TYPE_CHECKING:
    from twin.engine import Engine

KpiValue = float | None


@dataclass(frozen=True)
class KpiDef:
    """One tile: how to compute it and how to label it."""

    id: str
    label_zh: str
    label_en: str
    unit: str
    feed: str | None  # the tile is stale when this feed is stale (None: never stale)
    compute: Callable[[Engine, int], KpiValue]
    extra: Callable[[Engine, int], dict[str, Any]] | None = None  # more keys of the tile


def unknown_cargo_calls(eng: Engine, now_us: int) -> dict[str, Any]:
    """`unknown_calls`: calls that left their berth today without a known tonnage (not in the sum)."""
    n = sum(1 for c in _departed_today(eng, now_us) if eng.cargo.get(c, {}).get("tonnes") is None)
    return {"unknown_calls": n}


def _departed_today(eng: Engine, now_us: int) -> list[str]:
    day0 = local_day_start_us(now_us)
    return [c.call_id for c in eng.calls.values()
            if c.departed_us is not None and day0 <= c.departed_us <= now_us]


def throughput_today_t(eng: Engine, now_us: int) -> KpiValue:
    """Tonnes handled today: the sum of the cargo tonnes of every call whose ship left its berth
    (`departure_from_berth`) since local midnight (Asia/Shanghai), cargo as given by the
    `port_call_cargo` frame. None when no such call has a known tonnage; calls without a figure
    are counted in the tile's `unknown_calls` and add nothing."""
    known = [eng.cargo[c]["tonnes"] for c in _departed_today(eng, now_us)
             if c in eng.cargo and eng.cargo[c].get("tonnes") is not None]
    return float(sum(known)) if known else None


def throughput_today_teu(eng: Engine, now_us: int) -> KpiValue:
    """TEU handled today: as `throughput_today_t` with the calls' TEU (None when none is known)."""
    known = [eng.cargo[c]["teu"] for c in _departed_today(eng, now_us)
             if c in eng.cargo and eng.cargo[c].get("teu") is not None]
    return float(sum(known)) if known else None


def vessels_at_anchor(eng: Engine, now_us: int) -> KpiValue:
    """Vessels at anchor now: ships with a confirmed `anchorage_arrival` and no departure yet."""
    return float(sum(1 for v in eng.vessels.values() if v.anchor_id is not None))


def anchor_wait_median_h(eng: Engine, now_us: int) -> KpiValue:
    """Median waiting time at anchor (h) of the ships at anchor now: median over them of
    now − anchorage_arrival time. None when no ship is at anchor."""
    waits = [(now_us - v.anchor_since_us) / HOUR_US for v in eng.vessels.values()
             if v.anchor_id is not None and v.anchor_since_us is not None]
    return float(statistics.median(waits)) if waits else None


def vessels_in_channel(eng: Engine, now_us: int) -> KpiValue:
    """Vessels in the channel now: ships inside the port limit whose last position lies in a channel
    segment and that are neither at anchor nor at a berth."""
    return float(sum(1 for v in eng.vessels.values() if v.phase == "in_channel"))


def berth_occupancy_pct(eng: Engine, now_us: int) -> KpiValue:
    """Berth occupancy now (%): berths with a ship all fast ÷ operational berths × 100."""
    operational = [b for b in eng.port.berths.values() if b.status == "operational"]
    if not operational:
        return None
    busy = {v.berth_id for v in eng.vessels.values() if v.berth_id is not None}
    return 100.0 * sum(1 for b in operational if b.id in busy) / len(operational)


def customs_release_median_h(eng: Engine, now_us: int) -> KpiValue:
    """Median customs release time today (h): over declarations released since local midnight,
    the median of released − arrival (WCO TRS), falling back to released − lodged when the
    arrival stage was not reported. None when nothing was released today."""
    day0 = local_day_start_us(now_us)
    spans = []
    for d in eng.declarations.values():
        rel = d.stage_us.get("released")
        start = d.stage_us.get("arrival", d.stage_us.get("lodged"))
        if rel is not None and start is not None and day0 <= rel <= now_us:
            spans.append((rel - start) / HOUR_US)
    return float(statistics.median(spans)) if spans else None


def gate_tx_per_hour(eng: Engine, now_us: int) -> KpiValue:
    """Gate transactions per hour: truck passages (any gate, lane, direction, outcome) with a
    time in the last 60 minutes up to now."""
    return float(sum(1 for ts, _g, _p in eng.gate_log if now_us - HOUR_US < ts <= now_us))


ALARM_AND_WARNING = ("emergency_alarm", "alarm", "warning")


def alerts_open(eng: Engine, now_us: int) -> KpiValue:
    """Open alarms and warnings: alerts not `cleared` whose priority is emergency alarm, alarm or
    warning (cautions are on the ticker, not counted here, as the tile's label says)."""
    return float(sum(1 for a in eng.alerts.values()
                     if a.get("state") != "cleared" and a.get("priority") in ALARM_AND_WARNING))


def tide_level_m(eng: Engine, now_us: int) -> KpiValue:
    """Tide now (m above chart datum): the latest observed level of any gauge."""
    return eng.tide_level_m


KPIS: tuple[KpiDef, ...] = (
    KpiDef("throughput_today_t", "今日吞吐量", "Throughput today", "t", "ais", throughput_today_t,
           unknown_cargo_calls),
    KpiDef("throughput_today_teu", "今日集装箱吞吐量", "Container throughput today", "TEU", "ais",
           throughput_today_teu, unknown_cargo_calls),
    KpiDef("vessels_at_anchor", "锚地待泊船舶", "Vessels at anchor", "ships", "ais", vessels_at_anchor),
    KpiDef("anchor_wait_median_h", "锚地等待时间中位数", "Median wait at anchor", "h", "ais",
           anchor_wait_median_h),
    KpiDef("vessels_in_channel", "航道内船舶", "Vessels in the channel", "ships", "ais", vessels_in_channel),
    KpiDef("berth_occupancy_pct", "泊位占用率", "Berth occupancy", "%", "ais", berth_occupancy_pct),
    KpiDef("customs_release_median_h", "今日通关放行时间中位数", "Median customs release time today", "h",
           "customs", customs_release_median_h),
    KpiDef("gate_tx_per_hour", "闸口每小时通行量", "Gate transactions per hour", "tx/h", "gate",
           gate_tx_per_hour),
    KpiDef("alerts_open", "未处理告警", "Open alarms and warnings", "alerts", None, alerts_open),
    KpiDef("tide_level_m", "当前潮位", "Tide level", "m", "tide", tide_level_m),
)

TREND_STEP_US = 5 * 60 * 1_000_000  # one trend sample every 5 minutes of engine time
TREND_LEN = 12
