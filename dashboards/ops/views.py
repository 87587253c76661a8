"""HTML of the desk's pages, rendered from one `OpsState` (no I/O, no widgets: easy to test).

Times are shown in the port's local time (Asia/Shanghai, UTC+8) with the zone named, as DESIGN.md
asks; the engine exchanges UTC.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dashboards.ops.i18n import t
from dashboards.ops.store import (
    OpsState,
    alert_zone,
    gates_in_zone,
    open_alerts,
    vessels_in_zone,
    zone_events,
)
from layers.style import PHASE_LABELS, PRIORITY
from twin.port import Port

LOCAL = timezone(timedelta(hours=8), "CST")


def esc(value: object) -> str:
    """Text for HTML; None shows as an en dash (unknown, never a made-up zero)."""
    return "–" if value is None else html.escape(str(value))


def parse_utc(iso: str | None) -> datetime | None:
    """An ISO 8601 time from the bus (with `Z` or an offset) as aware UTC; None stays None."""
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


def local_time(iso: str | None, with_date: bool = False) -> str:
    """`HH:MM:SS` (or `YYYY-MM-DD HH:MM:SS`) in Beijing time."""
    when = parse_utc(iso)
    if when is None:
        return "–"
    return when.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def duration(seconds: float, lang: str) -> str:
    """A short duration: `2 h 05 min` / `2小时05分钟`."""
    minutes = max(0, int(seconds // 60))
    h, m = divmod(minutes, 60)
    sep = "" if lang == "zh" else " "
    return f"{h}{sep}{t('h', lang)} {m:02d}{sep}{t('min', lang)}" if h else f"{m}{sep}{t('min', lang)}"


def phase_label(phase: str | None, lang: str) -> str:
    """The engine's phase word in the screen's language (raw when unknown)."""
    if phase is None:
        return "–"
    labels = PHASE_LABELS.get(phase)
    return phase if labels is None else labels[0 if lang == "zh" else 1]


def zone_name(port: Port, zone_id: str | None, lang: str) -> str:
    """A zone's name in `lang`; its id when the port model does not know it."""
    zone = port.zones.get(zone_id or "")
    if zone is None:
        return zone_id or "–"
    return zone.name_zh if lang == "zh" else zone.name_en


def feature_name(port: Port, feature_id: str | None, lang: str) -> str:
    """Name of a berth, anchorage, gate or zone in `lang` (the id when unknown)."""
    if not feature_id:
        return "–"
    try:
        item = port.find(feature_id)
    except KeyError:
        return feature_id
    name = getattr(item, "name_zh" if lang == "zh" else "name_en", None)
    return feature_id if name is None else str(name)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], test_id: str) -> str:
    """A plain HTML table; cells are already escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<table class="ops-table" data-testid="{test_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def priority_badge(priority: str | None, lang: str) -> str:
    """A coloured badge for an IMO BAM priority."""
    rgba = PRIORITY.get(str(priority), [150, 150, 150, 255])
    return (
        f'<span class="badge" style="background:rgb({rgba[0]},{rgba[1]},{rgba[2]})">'
        f"{esc(t(f'prio_{priority}', lang))}</span>"
    )


def alert_text(alert: Mapping[str, Any], lang: str) -> str:
    """The alert's own text in `lang`, else its rule and subject."""
    text = alert.get("text_zh" if lang == "zh" else "text_en")
    return esc(text or f"{alert.get('rule')} · {alert.get('subject')}")


def zone_page(
    port: Port, state: OpsState, zone_id: str, zones: Mapping[str, str], lang: str, picks: int = 0
) -> str:
    """The zone page as one HTML string: its title, then `zone_page_parts`' body."""
    return "".join(zone_page_parts(port, state, zone_id, zones, lang, picks))


def zone_page_parts(
    port: Port, state: OpsState, zone_id: str, zones: Mapping[str, str], lang: str, picks: int = 0
) -> tuple[str, str]:
    """(title, body) of the zone page: who is in the zone (vessels, trucks queuing at its gates), its
    open alerts and recent events; the desk puts its KPI block between the two.

    `picks` counts the operator's selections in the session (tests see a re-pick of the same zone).
    """
    zone = port.zones[zone_id]
    now = parse_utc(state.ts_utc)
    title = (
        f'<h2 data-testid="zone-title" data-zone="{esc(zone_id)}" data-picks="{picks}">'
        f"{esc(zone_name(port, zone_id, lang))}"
        f" <small>{esc(zone_id)} · {esc(t('kind_' + zone.kind, lang))}</small></h2>"
    )
    parts: list[str] = []
    vessels = vessels_in_zone(state, zone_id)
    rows = []
    for v in vessels:
        entry = state.zone_entry.get(int(v["mmsi"]))
        since = parse_utc(entry.since_utc) if entry else None
        in_zone = "–"
        if since is not None and now is not None:
            in_zone = ("" if entry is None or entry.exact else "≥ ") + duration(
                (now - since).total_seconds(), lang
            )
        rows.append(
            [
                f'<span class="vname">{esc(v.get("name") or v["mmsi"])}</span>',
                f'<span class="mmsi">{esc(v["mmsi"])}</span>',
                esc(v.get("ship_class")),
                esc(v.get("draught_m")),
                esc(in_zone),
                esc(phase_label(v.get("phase"), lang)),
                esc(v.get("sog_kn")),
            ]
        )
    parts.append(
        f"<h3>{esc(t('vessels_here', lang))} <span data-testid='vessel-count'>{len(vessels)}</span></h3>"
    )
    headers = [
        t(k, lang)
        for k in ("col_name", "col_mmsi", "col_class", "col_draught", "col_in_zone", "col_phase", "col_speed")
    ]
    parts.append(table(headers, rows, "zone-vessels") if rows else f"<p>{esc(t('none', lang))}</p>")
    if zone.kind == "gate_complex":
        gates = gates_in_zone(port, state, zone_id)
        parts.append(f"<h3>{esc(t('trucks_here', lang))}</h3>")
        parts.append(
            table(
                [t("col_gate", lang), t("col_queue", lang), t("col_tx_hour", lang)],
                [
                    [esc(feature_name(port, g["id"], lang)), esc(g.get("queue")), esc(g.get("tx_last_hour"))]
                    for g in gates
                ],
                "zone-gates",
            )
        )
    alerts = open_alerts(state, zones, zone_id=zone_id)
    parts.append(f"<h3>{esc(t('open_alerts', lang))} ({len(alerts)})</h3>")
    parts.append(
        table(
            [t("col_priority", lang), t("col_alert", lang), t("col_time", lang)],
            [
                [
                    priority_badge(a.get("priority"), lang),
                    alert_text(a, lang),
                    esc(local_time(a.get("raised_utc") or a.get("ts_utc"))),
                ]
                for a in alerts
            ],
            "zone-alerts",
        )
        if alerts
        else f"<p>{esc(t('no_alerts', lang))}</p>"
    )
    events = zone_events(port, state, zone_id, zones)
    parts.append(f"<h3>{esc(t('recent_events', lang))}</h3>")
    parts.append(events_list(port, state, events, lang, "zone-events"))
    return title, "".join(parts)


def events_list(
    port: Port, state: OpsState, events: Sequence[Mapping[str, Any]], lang: str, test_id: str
) -> str:
    """A timeline, newest first: local time, vessel, event, place."""
    if not events:
        return f"<p>{esc(t('none', lang))}</p>"
    items = []
    for e in events:
        vessel = state.vessels.get(int(e.get("mmsi") or 0), {})
        items.append(
            f"<li><b>{esc(local_time(e.get('ts_utc')))}</b> "
            f"{esc(vessel.get('name') or e.get('mmsi'))} · {esc(t('ev_' + str(e.get('event')), lang))}"
            f" · {esc(feature_name(port, e.get('location_id'), lang))}</li>"
        )
    return f'<ul class="timeline" data-testid="{test_id}">{"".join(items)}</ul>'


def alert_state(alert: Mapping[str, Any], lang: str) -> str:
    """The alert's state in `lang`, carrying the engine's id and state as data attributes (the
    browser test matches it with the same alert on the cockpit's ticker)."""
    state = alert.get("state")
    return (
        f'<span class="alert-state" data-alert-id="{esc(alert.get("id"))}" data-state="{esc(state)}">'
        f"{esc(t(f'state_{state}', lang))}</span>"
    )


def alerts_table(
    port: Port, state: OpsState, alerts: Sequence[Mapping[str, Any]], zones: Mapping[str, str], lang: str
) -> str:
    """The desk's table of open alerts (already filtered and sorted)."""
    if not alerts:
        return f"<p data-testid='desk-empty'>{esc(t('no_alerts', lang))}</p>"
    rows = [
        [
            priority_badge(a.get("priority"), lang),
            alert_text(a, lang),
            esc(zone_name(port, alert_zone(a, state, zones), lang)),
            esc(a.get("rule")),
            alert_state(a, lang),
            esc(local_time(a.get("raised_utc") or a.get("ts_utc"))),
        ]
        for a in alerts
    ]
    headers = [
        t(k, lang) for k in ("col_priority", "col_alert", "col_zone", "col_kind", "col_state", "col_time")
    ]
    return table(headers, rows, "desk-alerts")
