"""The zone page's KPI block: gathers a zone's inputs from one `OpsState` and the history store, runs
`twin.kpi.zone.zone_kpis` (the rules), and renders the figures (zh/en) with the window each one covers.

Inputs: the port-call events the desk holds (`OpsState.events`), the ships / berths / gate queues of
the state at the window end, and from the history store the gate rows (for gate complexes), the calls'
cargo (port areas) and the stored positions placed in zones by the engine's geofence (channels).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from dashboards.ops.i18n import t
from dashboards.ops.store import OpsState, vessels_in_zone
from dashboards.ops.views import esc, local_time
from feeds.store import read_history
from twin.kpi import Window
from twin.kpi.core import EVENT_SCHEMA
from twin.kpi.zone import ZoneFigure, ZoneInputs, ZoneKpis, zone_kpis
from twin.port import Port
from twin.zones import ZoneIndex

WINDOW_HOURS = (1, 3, 6, 24)
# rows from before the window start, so that an entry (channel) or a gate-in (truck turn) is seen
LOOKBACK = timedelta(hours=6)


def window_ending(ts_utc: datetime, hours: int) -> Window:
    """The `hours` ending at the shown instant, which belongs to it (end = shown + 1 s, exclusive),
    as the export's range."""
    end = ts_utc + timedelta(seconds=1)
    return Window.custom(end - timedelta(hours=hours), end)


def events_frame(state: OpsState) -> pl.DataFrame | None:
    """The desk's port-call events as an `EVENT_SCHEMA` frame; None when it holds none."""
    if not state.events:
        return None
    rows = [
        {
            "ts_utc": str(e.get("ts_utc")).replace("Z", "+00:00"),
            "mmsi": int(e.get("mmsi") or 0),
            "call_id": None if e.get("call_id") is None else str(e.get("call_id")),
            "event": str(e.get("event")),
            "location_id": None if e.get("location_id") is None else str(e.get("location_id")),
        }
        for e in state.events
    ]
    frame = pl.DataFrame(rows, schema={k: pl.String for k in EVENT_SCHEMA} | {"mmsi": pl.Int64})
    return frame.with_columns(pl.col("ts_utc").str.to_datetime(time_unit="us", time_zone="UTC"))


def zone_inputs(
    port: Port,
    state: OpsState,
    zone_id: str,
    window: Window,
    history_dir: Path | None,
    index: ZoneIndex | None,
) -> ZoneInputs:
    """What the zone's KPIs need, from `state` (at the window end) and the history store (rows from
    `LOOKBACK` before the window start to its end; None without a store)."""
    zone = port.zones[zone_id]
    start, end = window.start_utc - LOOKBACK, window.end_utc
    gate_rows = positions = cargo = None
    if history_dir is not None:
        if zone.kind == "gate_complex":
            gate_rows = read_history(history_dir, "gate_event", start, end).collect()
        elif zone.kind == "port_area":
            cargo = read_history(history_dir, "port_call_cargo", end=end).collect()
        elif zone.kind == "channel" and index is not None:
            fixes = (read_history(history_dir, "ais_position", start, end)
                     .select("mmsi", "ts_utc", "lon", "lat").collect())
            zones = index.locate(fixes["lon"], fixes["lat"]).get_column("zone_id")
            positions = fixes.select("mmsi", "ts_utc").with_columns(zones.alias("zone_id"))
    return ZoneInputs(
        events=events_frame(state),
        in_zone_now=tuple(int(v["mmsi"]) for v in vessels_in_zone(state, zone_id)),
        berths_now={b: (None if item.get("mmsi") is None else int(item["mmsi"]))
                    for b, item in state.berths.items()},
        gate_queue_now={g: (None if item.get("queue") is None else int(item["queue"]))
                        for g, item in state.gates.items()},
        gate_rows=gate_rows,
        positions=positions,
        cargo=cargo,
    )


def compute(
    port: Port,
    state: OpsState,
    zone_id: str,
    hours: int,
    history_dir: Path | None,
    index: ZoneIndex | None,
) -> ZoneKpis | None:
    """The zone's KPIs over the `hours` ending at the state's time; None before the desk has a time."""
    if not state.ts_utc:
        return None
    now = datetime.fromisoformat(state.ts_utc.replace("Z", "+00:00"))
    window = window_ending(now, hours)
    return zone_kpis(port, zone_id, window, zone_inputs(port, state, zone_id, window, history_dir, index))


def _number(f: ZoneFigure, lang: str) -> str:
    assert f.value is not None
    v = f.value
    if f.unit == "":
        text = f"{v:,.0f}"
    elif f.unit in ("h", "min", "%"):
        text = f"{v:,.1f}"
    else:  # t, s
        text = f"{v:,.0f}"
    unit = "" if f.unit == "" else f" {t('unit_' + f.unit, lang)}"
    return ("≥ " if f.lower_bound else "") + text + unit


def figure_value(f: ZoneFigure, lang: str) -> str:
    """The figure as shown: number and unit (≥ for a lower bound), or "—" and why it is unknown."""
    if f.value is None:
        return f"— <small class='zk-why'>({esc(t('zk_why_' + str(f.unknown), lang))})</small>"
    return esc(_number(f, lang))


def zone_kpi_html(k: ZoneKpis, lang: str) -> str:
    """The KPI block: a heading with the window, one row per figure (label, value, its window).

    Data attributes carry the raw figures for tests: `data-start`/`data-end` (ISO UTC) on the block,
    `data-key`, `data-value` (repr of the float, empty when unknown), `data-unknown` on each row."""
    start_iso = k.window.start_utc.isoformat().replace("+00:00", "Z")
    end_iso = k.window.end_utc.isoformat().replace("+00:00", "Z")
    span = f"{local_time(start_iso)}–{local_time(end_iso)}"
    hours = round(k.window.hours)
    over = t("zk_over", lang).format(h=hours, span=span)
    at_end = t("zk_at", lang).format(time=local_time(end_iso))
    rows = []
    for f in k.figures:
        title = esc(f.kpi_id or t("zk_state", lang))
        value = "" if f.value is None else repr(f.value)
        rows.append(
            f"<tr data-key='{esc(f.key)}' data-value='{value}' data-unknown='{esc(f.unknown or '')}'"
            f" data-lower='{int(f.lower_bound)}'>"
            f"<td title='{title}'>{esc(t('zk_' + f.key, lang))}</td>"
            f"<td class='zk-value'>{figure_value(f, lang)}</td>"
            f"<td class='zk-window'>{esc(at_end if f.at_end else over)}</td></tr>"
        )
    head = "".join(f"<th>{esc(t(c, lang))}</th>" for c in ("zk_col_figure", "zk_col_value", "zk_col_window"))
    notes = []
    if k.events_from_utc is not None and k.events_from_utc > k.window.start_utc:
        since = local_time(k.events_from_utc.isoformat().replace("+00:00", "Z"), with_date=True)
        notes.append(t("zk_events_from", lang).format(time=since))
    note_html = "".join(f"<p class='zk-note'><small>{esc(n)}</small></p>" for n in notes)
    return (
        f"<div data-testid='zone-kpis' data-zone='{esc(k.zone_id)}' data-start='{start_iso}'"
        f" data-end='{end_iso}' data-hours='{hours}'>"
        f"<h3>{esc(t('zk_title', lang))} <small>{esc(over)} (UTC+8)</small></h3>"
        f"<table class='ops-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"{note_html}</div>"
    )
