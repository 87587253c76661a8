"""HTML of the vessel page's UKC section and call chain (no I/O: the data comes in computed).

Figures carry `data-*` attributes with their unrounded values so that tests and other tools read
what the page computed, not a formatted string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dashboards.ops.i18n import t
from dashboards.ops.vessel_chain import CallLink, Declaration
from dashboards.ops.vessel_ukc import RouteUkc, VesselUkc, as_utc
from dashboards.ops.views import duration, esc, feature_name, local_time, phase_label, table, zone_name
from twin.port import Port

STATUS_COLOUR = {"safe": "#3ddc84", "marginal": "#ffb000", "no-go": "#ff5040", "no-data": "#8fb3d9"}
CHANNEL_COLOUR = {"green": "#3ddc84", "yellow": "#ffd27a", "red": "#ff5040"}


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _status(status: str, lang: str) -> str:
    colour = STATUS_COLOUR.get(status, "#dde6f0")
    return f"<b style='color:{colour}' data-status='{esc(status)}'>{esc(t('ukc_' + status, lang))}</b>"


def _m(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.2f}"


def _seg_name(port: Port, seg_id: str, lang: str) -> str:
    for s in port.channel.segments:
        if s.id == seg_id:
            return s.name_zh if lang == "zh" else s.name_en
    berth = port.berths.get(seg_id)
    if berth is not None:
        return berth.name_zh if lang == "zh" else berth.name_en
    return seg_id


def _window_html(r: RouteUkc, lang: str) -> str:
    w = r.window
    if w is None:
        none = f"{t('ukc_window_none', lang)} {r.search_h:g} {t('h', lang)}"
        return f"<span data-testid='ukc-window' data-none='1'>{esc(none)}</span>"
    start, end = as_utc(w.start), as_utc(w.end)
    if r.window_open_now:
        span = f"{t('ukc_window_open', lang)} {local_time(_iso(end), with_date=True)}"
    else:
        span = f"{local_time(_iso(start), with_date=True)} → {local_time(_iso(end), with_date=True)}"
    left = duration((end - max(start, r.departure_utc)).total_seconds(), lang)
    clipped = f" ({t('ukc_clipped', lang)})" if w.clipped_end else ""
    return (
        f"<span data-testid='ukc-window' data-start='{esc(_iso(start))}' data-end='{esc(_iso(end))}'>"
        f"{esc(span)}, {esc(t('ukc_duration', lang))} {esc(left)}{esc(clipped)}</span>"
    )


def _route_html(port: Port, r: RouteUkc, lang: str) -> str:
    title = f"{t('ukc_route', lang)}: {t('ukc_' + r.direction, lang)} K{r.start_km:.1f} → K{r.end_km:.1f}"
    berth = "" if r.berth_id is None else f" ({_seg_name(port, r.berth_id, lang)})"
    least = (
        f"<b data-testid='ukc-route-min' data-net='{r.min_net_ukc_m!r}' data-km='{r.min_chainage_km!r}'"
        f" data-departure='{esc(_iso(r.departure_utc))}'>{_m(r.min_net_ukc_m)}</b> "
        + _status(r.min_status, lang)
        + f" ({esc(t('ukc_required', lang))} {_m(r.min_required_m)})"
    )
    speed = f"{r.speed_kn:.1f}; {t('ukc_transit', lang)} {duration(r.transit_s, lang)}{berth}"
    rows = [
        [esc(t("ukc_min", lang)), least],
        [esc(t("col_where", lang)), esc(f"K{r.min_chainage_km:.2f} {_seg_name(port, r.min_point_id, lang)}")],
        [esc(t("ukc_passing", lang)), esc(local_time(_iso(r.min_passing_utc), with_date=True))],
        [esc(t("ukc_window", lang)), _window_html(r, lang)],
        [esc(t("ukc_route_speed", lang)), esc(speed)],
    ]
    return f"<h3>{esc(title)}</h3>" + table(["", ""], rows, "ukc-route-table")


def ukc_section(port: Port, u: VesselUkc, lang: str) -> str:
    """The UKC section: now, the rest of the route, the next tidal window, and what was assumed."""
    head = f"<h3>{esc(t('live_ukc', lang))}</h3>"
    attrs = f"data-testid='vessel-ukc' data-ts='{esc('' if u.ts_utc is None else _iso(u.ts_utc))}'"
    if u.missing is not None or u.ts_utc is None:
        why = u.missing or "ukc_no_position"
        reason = f"<p data-testid='ukc-missing' data-reason='{esc(why)}'>{esc(t(why, lang))}</p>"
        return f"{head}<div {attrs}>{reason}</div>"
    assert u.now is not None and u.vessel is not None and u.place is not None and u.rule is not None
    n, ship, place, rule = u.now, u.vessel, u.place, u.rule
    net_attr = "" if math.isnan(n.net_ukc_m) else f" data-net='{n.net_ukc_m!r}'"
    net_attr += (
        f" data-lat='{n.lat!r}' data-lon='{n.lon!r}' data-depth='{n.depth_below_cd_m!r}'"
        f" data-tide='{n.tide_m!r}' data-surge='{u.surge_m!r}' data-squat='{n.squat_m!r}'"
        f" data-speed='{ship.speed_kn!r}'"
    )
    surge = "" if u.surge_m == 0.0 else f" ({t('ukc_surge', lang)} {u.surge_m:+.2f})"
    where = (
        _seg_name(port, place.segment.id, lang)
        if place.segment is not None
        else zone_name(port, place.zone_id, lang)
    )
    terms = (
        f"{t('ukc_depth', lang)} {_m(n.depth_below_cd_m)}{t('ukc_depth_' + u.depth_source, lang)}"
        f" + {t('ukc_tide', lang)} {_m(n.tide_m)}{surge}"
        f" − {t('ukc_draught', lang)} {_m(ship.draught_m)} − {t('ukc_squat', lang)} {_m(n.squat_m)}"
    )
    beam = "–" if ship.beam_m is None else f"{ship.beam_m:.1f}"
    constants = f"Cb {ship.cb:.2f}, {t('beam', lang)} {beam}, {t('col_speed', lang)} {ship.speed_kn:.1f}"
    required = (
        f"{_m(n.required_ukc_m)} ({t('ukc_rule_' + place.part, lang)}: {rule.fraction_of_draught * 100:g} %"
        f" × {t('ukc_draught', lang)}, ≥ {rule.minimum_m:g} m)"
    )
    draught = (
        f"<span data-testid='ukc-draught' data-draught='{ship.draught_m!r}'>{_m(ship.draught_m)} "
        f"{esc(t('ukc_draught_ais', lang))}</span>"
    )
    now_rows = [
        [esc(t("ukc_at_time", lang)), esc(local_time(_iso(u.ts_utc), with_date=True))],
        [
            esc(t("ukc_net", lang)),
            f"<b data-testid='ukc-now'{net_attr}>{esc(_m(n.net_ukc_m))}</b> " + _status(n.status, lang),
        ],
        [esc(t("ukc_required", lang)), esc(required)],
        [esc(t("ukc_terms", lang)), esc(terms)],
        [esc(t("ukc_draught_used", lang)), draught],
        [esc(t("ukc_ship_used", lang)), esc(constants)],
        [esc(t("col_where", lang)), esc(f"K{place.chainage_km:.2f} {where}")],
    ]
    parts = [head, f"<div {attrs}>", table(["", ""], now_rows, "ukc-now-table")]
    if u.route is not None:
        parts.append(_route_html(port, u.route, lang))
    else:
        parts.append(f"<p data-testid='ukc-no-route'>{esc(t('ukc_no_route_left', lang))}</p>")
    parts.append(f"<p style='color:#8fb3d9;font-size:12px'>{esc(t('ukc_notes', lang))}</p></div>")
    return "".join(parts)


def _stages(d: Declaration, lang: str) -> str:
    out = []
    for s in d.stages:
        since = "" if s.since_previous_s is None else f" (+{esc(duration(s.since_previous_s, lang))})"
        out.append(
            f"<span data-stage='{esc(s.stage)}' data-ts='{esc(_iso(s.ts_utc))}' "
            f"data-since='{'' if s.since_previous_s is None else repr(s.since_previous_s)}'>"
            f"{esc(t('trs_' + s.stage, lang))} {esc(local_time(_iso(s.ts_utc)))}{since}</span>"
        )
    return " → ".join(out)


def _declaration_row(d: Declaration, lang: str) -> list[str]:
    ident = (
        f"<span data-testid='declaration' data-id='{esc(d.declaration_id)}' "
        f"data-current='{esc(d.current_stage)}' data-channel='{esc(d.channel)}'>"
        f"{esc(d.declaration_id)}</span>"
    )
    colour = CHANNEL_COLOUR.get(d.channel or "", "#dde6f0")
    channel = t("ch_" + d.channel, lang) if d.channel else "–"
    return [
        ident,
        esc(t("mode_" + d.mode, lang) if d.mode else "–"),
        f"<b style='color:{colour};white-space:nowrap'>{esc(channel)}</b>",
        esc(t("trs_" + d.current_stage, lang) if d.current_stage else "–"),
        _stages(d, lang),
        esc("–" if d.release_s is None else duration(d.release_s, lang)),
    ]


def _cargo(link: CallLink, stored: bool, lang: str) -> str:
    if not stored:
        return esc(t("chain_no_cargo_store", lang))
    if not link.cargo:
        return esc(t("chain_no_cargo", lang))
    bits = []
    for c in link.cargo:
        what = [
            f"{c.tonnes:,.0f} {t('tonnes', lang)}" if c.tonnes is not None else "",
            f"{c.teu:,.0f} TEU" if c.teu else "",
            c.cargo or "",
        ]
        bits.append(" · ".join(x for x in what if x))
    return esc("; ".join(bits))


def chain_section(
    links: Sequence[CallLink],
    vessel: Mapping[str, Any],
    mmsi: int,
    cargo_stored: bool,
    history: bool,
    port: Port,
    lang: str,
) -> str:
    """Vessel → port call(s) → cargo → customs declarations, one block per call, oldest first."""
    name = vessel.get("name") or mmsi
    parts = [
        f"<h3>{esc(t('chain', lang))}</h3>",
        f"<div data-testid='call-chain' data-mmsi='{mmsi}'>",
        f"<p>{esc(name)} (MMSI {mmsi})</p>",
    ]
    if not history:
        parts.append(f"<p>{esc(t('chain_no_history', lang))}</p>")
    if not links:
        parts.append(f"<p>{esc(t('none', lang))}</p>")
    current = vessel.get("phase")
    for link in links:
        phase = ""
        if link.events and link is _current(links) and current:
            phase = f" · {esc(phase_label(current, lang))}"
        joined = (
            "" if link.linked_by is None else f" · <i>{esc(t('chain_linked_' + link.linked_by, lang))}</i>"
        )
        parts.append(
            f"<div data-testid='chain-call' data-call='{esc(link.call_id)}' "
            f"style='border-left:3px solid #3d6e9e;padding-left:8px;margin:6px 0'>"
            f"<b>{esc(t('chain_call', lang))} {esc(link.call_id)}</b>{phase}{joined}"
        )
        if link.events:
            evs = " → ".join(
                f"<span data-event='{esc(e.get('event'))}' data-ts='{esc(e.get('ts_utc'))}'>"
                f"{esc(t('ev_' + str(e.get('event')), lang))} {esc(local_time(e.get('ts_utc')))}"
                + (f" {esc(feature_name(port, e.get('location_id'), lang))}" if e.get("location_id") else "")
                + "</span>"
                for e in link.events
            )
            parts.append(f"<div style='font-size:13px'>{esc(t('chain_events', lang))}: {evs}</div>")
        else:
            parts.append(f"<div style='font-size:13px'>{esc(t('chain_no_engine_events', lang))}</div>")
        parts.append(
            f"<div style='font-size:13px' data-testid='chain-cargo'>{esc(t('chain_cargo', lang))}: "
            f"{_cargo(link, cargo_stored, lang)}</div>"
        )
        if link.declarations:
            rows = [_declaration_row(d, lang) for d in link.declarations]
            heads = ["col_declaration", "col_mode", "col_channel", "col_stage", "col_stages", "col_release"]
            parts.append(table([esc(t(h, lang)) for h in heads], rows, "declarations"))
        else:
            parts.append(f"<div style='font-size:13px'>{esc(t('chain_no_decls', lang))}</div>")
        parts.append("</div>")
    parts.append(f"<p style='color:#8fb3d9;font-size:12px'>{esc(t('chain_join_note', lang))}</p></div>")
    return "".join(parts)


def _current(links: Sequence[CallLink]) -> CallLink | None:
    """The call of the vessel's latest event (the open one unless it has left the port)."""
    with_events = [c for c in links if c.events]
    if not with_events:
        return None
    return max(with_events, key=lambda c: str(c.events[-1].get("ts_utc")))
