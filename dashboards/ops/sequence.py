"""The ops desk's proposed channel sequence for the next 24 h (HTML, zh/en), from one state.

`sequence_html(port, state, now_iso, lang)` renders the plan of `twin.schedule_demand.proposed_sequence`:
per movement the planned channel entry and exit (Beijing time), vessel, direction, draught, berth, pilot,
waiting and the rule that caused it. Ready times of ships at berth are estimates and are marked so.
The rules and the plan are twin's; this module only renders (its texts live here, not in i18n.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dashboards.ops.store import OpsState
from dashboards.ops.vessel_ukc import port_tide
from dashboards.ops.views import esc, feature_name, local_time, table
from twin.port import Port
from twin.schedule import PilotRules, PlannedMovement, SchedulePlan
from twin.tide import TideLevel

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("未来24小时航道通航建议序列", "Proposed channel sequence, next 24 h"),
    "subtitle": ("单向通航、潮汐窗口、泊位与引航员排班约束下的优化方案；仅供参考",
                 "optimised under the one-way rule, tidal windows, berths and pilot duty; advisory only"),
    "col_order": ("序", "#"),
    "col_entry": ("进入航道", "channel entry"),
    "col_exit": ("驶离航道", "channel exit"),
    "col_vessel": ("船名", "vessel"),
    "col_dir": ("方向", "direction"),
    "col_draught": ("吃水 (米)", "draught (m)"),
    "col_berth": ("泊位", "berth"),
    "col_pilot": ("引航员", "pilot"),
    "col_ready": ("可动时间", "ready"),
    "col_wait": ("等待", "wait"),
    "col_reason": ("原因", "reason"),
    "in": ("进港", "inbound"),
    "out": ("出港", "outbound"),
    "tide": ("候潮", "tide"),
    "berth": ("候泊位", "berth"),
    "one_way": ("单向通航", "one-way"),
    "headway": ("同向间隔", "headway"),
    "pilot": ("候引航员", "pilot"),
    "estimate": ("估计", "estimate"),
    "unscheduled": ("24小时内无可行时段", "no slot within the horizon"),
    "none": ("暂无待进出港船舶", "no movements waiting"),
    "summary": ("总等待 {total} 小时 · 平均 {mean} 小时 · 航道占用 {occ} 小时 · 引航 {pilot} 小时",
                "total wait {total} h · mean {mean} h · channel occupancy {occ} h · pilot {pilot} h"),
    "fcfs_note": ("先到先服务：总等待 {total} 小时", "first come first served: total wait {total} h"),
    "notice": ("可动时间标“估计”者为靠泊时刻加同类船典型在泊时间；载重吨按船长估算；"
               "潮汐常数为估计值，不可用于航行",
               "ready times marked “estimate” are the all-fast time plus a typical stay of the class; "
               "DWT is estimated from length; tide constants are estimates, not for navigation"),
}


def tx(key: str, lang: str) -> str:
    """A text of this view in `lang` (zh or en)."""
    zh, en = TEXTS[key]
    return zh if lang == "zh" else en


def _iso(t_s: float | None) -> str | None:
    return None if t_s is None else datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")


def _hours(seconds: float, lang: str) -> str:
    h = seconds / 3600.0
    return f"{h:.1f}{'小时' if lang == 'zh' else ' h'}"


def _reason(m: PlannedMovement, lang: str) -> str:
    if m.entry_s is None:
        return esc(tx("unscheduled", lang)) + f" ({esc(tx(m.reason, lang) if m.reason else '–')})"
    parts = [f"{tx(k, lang)} {_hours(v, lang)}" for k, v in sorted(m.reasons.items(), key=lambda kv: -kv[1])]
    return esc("，".join(parts) if lang == "zh" else ", ".join(parts)) if parts else "–"


def _row(port: Port, k: int, m: PlannedMovement, lang: str) -> list[str]:
    r = m.request
    ready = esc(local_time(_iso(r.earliest_s), with_date=True))
    if r.estimated:
        ready += f' <span class="estimate" data-testid="estimate">({esc(tx("estimate", lang))})</span>'
    return [
        esc(k),
        esc(local_time(_iso(m.entry_s), with_date=True)),
        esc(local_time(_iso(m.exit_s), with_date=True)),
        f'<span class="vname">{esc(r.name)}</span> <span class="mmsi">{esc(r.mmsi)}</span>',
        esc(tx(r.direction, lang)),
        esc(f"{r.draught_m:.1f}"),
        esc(feature_name(port, r.berth_id, lang)),
        esc("–" if m.pilot is None else f"P{m.pilot + 1:02d}"),
        ready,
        esc("–" if m.entry_s is None else _hours(m.wait_s, lang)),
        _reason(m, lang),
    ]


def sequence_table(port: Port, plan: SchedulePlan, lang: str, fcfs: SchedulePlan | None = None) -> str:
    """The proposal as HTML: title, summary (and FCFS's total for comparison), the table, the notice."""
    parts = [f'<h2 data-testid="sequence-title">{esc(tx("title", lang))}</h2>',
             f"<p><small>{esc(tx('subtitle', lang))}</small></p>"]
    if not plan.movements:
        return "".join(parts) + f"<p data-testid='sequence-empty'>{esc(tx('none', lang))}</p>"
    s = plan.summary()
    line = tx("summary", lang).format(total=s["wait_total_h"], mean=s["wait_mean_h"],
                                      occ=s["channel_occupancy_h"], pilot=s["pilot_h"])
    parts.append(f'<p data-testid="sequence-summary">{esc(line)}')
    if fcfs is not None:
        note = tx("fcfs_note", lang).format(total=fcfs.summary()["wait_total_h"])
        parts.append(f' <small data-testid="sequence-fcfs">{esc(note)}</small>')
    parts.append("</p>")
    headers = [esc(tx(k, lang)) for k in ("col_order", "col_entry", "col_exit", "col_vessel", "col_dir",
                                           "col_draught", "col_berth", "col_pilot", "col_ready", "col_wait",
                                           "col_reason")]
    parts.append(table(headers, [_row(port, k, m, lang) for k, m in enumerate(plan.movements, start=1)],
                       "sequence-table"))
    parts.append(f"<p><small>{esc(tx('notice', lang))}</small></p>")
    return "".join(parts)


def proposed_plans(port: Port, state: OpsState | Mapping[str, Any], now_iso: str, *,
                   tide: TideLevel | None = None, pilots: PilotRules | None = None,
                   method: str = "optimised", compare_fcfs: bool = True,
                   ) -> tuple[SchedulePlan, SchedulePlan | None]:
    """The plan of the next 24 h from `state` at `now_iso` (ISO 8601 UTC) by `method`, and the FCFS
    baseline (None when not asked for or when `method` is fcfs). `tide` defaults to the port's bundled
    constituents (read once per file). Raises ValueError for a bad time or method."""
    from twin.schedule_demand import proposed_sequence

    now_s = datetime.fromisoformat(now_iso.replace("Z", "+00:00")).timestamp()
    level = tide if tide is not None else port_tide(port)
    plan = proposed_sequence(port, state, now_s, level, method=method, pilots=pilots)
    fcfs = proposed_sequence(port, state, now_s, level, method="fcfs", pilots=pilots) \
        if compare_fcfs and method != "fcfs" else None
    return plan, fcfs


def sequence_html(port: Port, state: OpsState | Mapping[str, Any], now_iso: str, lang: str, *,
                  tide: TideLevel | None = None, pilots: PilotRules | None = None,
                  method: str = "optimised", compare_fcfs: bool = True) -> str:
    """The proposed sequence of the next 24 h from `state` (an `OpsState` or a protocol v1 snapshot dict)
    at `now_iso` (ISO 8601 UTC), in `lang` ("zh" or "en"); see `proposed_plans`."""
    plan, fcfs = proposed_plans(port, state, now_iso, tide=tide, pilots=pilots, method=method,
                                compare_fcfs=compare_fcfs)
    return sequence_table(port, plan, lang, fcfs)
