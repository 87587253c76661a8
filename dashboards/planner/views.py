"""HTML of the planner's tables and charts, from the store's results (no widgets, no I/O: easy to test).

The same functions draw the screen and the offline report. Charts are inline SVG, so the report
needs no chart library and nothing is fetched. Every number comes from `twin.fasttime.compare`
(``summary``) or `twin.scenario.window_hours_per_day` (day rows); this module only picks and formats.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboards.planner.i18n import t
from twin.scenario import Scenario

# KPIs of twin.fasttime's summary shown on the screen, with the direction that is better
SIM_KPIS: tuple[tuple[str, str], ...] = (
    ("wait_mean_h", "lower"),
    ("wait_total_h", "lower"),
    ("deep_wait_mean_h", "lower"),
    ("berth_occupancy_pct", "higher"),
    ("throughput_t_per_day", "higher"),
    ("calls_refused", "lower"),
)
WINDOW_KPIS: tuple[tuple[str, str], ...] = (("window_h_per_day", "higher"), ("windows_per_day", "higher"))
CSS = """
:host, div { color: #dde6f0; }
.pl-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.pl-table th, .pl-table td { border-bottom: 1px solid #2a3a4c; padding: 3px 6px; text-align: right; }
.pl-table th:first-child, .pl-table td:first-child { text-align: left; }
.pl-table th { color: #8fb3d9; font-weight: 600; }
.better { color: #3fdc8a; font-weight: 700; } .worse { color: #ff6a6a; font-weight: 700; }
h3 { font-size: 15px; margin: 8px 0 4px; color: #ffd27a; }
.note { color: #8fb3d9; font-size: 12px; margin: 2px 0; }
.error { color: #ff6a6a; font-weight: 700; white-space: pre-wrap; }
"""


@dataclass(frozen=True)
class KpiRow:
    """One line of the deltas table: means over seeds (or over days for windows), delta and 95 % CI."""

    key: str
    baseline: float
    scenario: float
    delta: float
    ci95: float | None
    better: str  # "lower" or "higher"
    source: str  # "simulation" or "windows"

    def verdict(self) -> str:
        """ "better", "worse" or "" (no change, or the 95 % interval includes zero)."""
        if self.delta == 0 or (self.ci95 is not None and abs(self.delta) <= self.ci95):
            return ""
        return "better" if (self.delta < 0) == (self.better == "lower") else "worse"


def esc(value: object) -> str:
    """Text for HTML; None shows as an en dash (unknown, never a made-up zero)."""
    return "–" if value is None else html.escape(str(value))


def kpi_rows(compared: Mapping[str, Any] | None, windows: Sequence[Mapping[str, Any]] | None) -> list[KpiRow]:
    """The deltas table's rows: simulation KPIs from ``compare(...)`` and the windows' means per day.

    Throughput capacity is the simulated throughput per day (``throughput_t`` / days, interval too).
    Windows are a tide prediction: their means are over the days and have no interval.
    """
    rows: list[KpiRow] = []
    if compared is not None:
        summary = compared["summary"]
        days = float(compared["days"])
        for key, better in SIM_KPIS:
            scale = 1.0 / days if key == "throughput_t_per_day" else 1.0
            s = summary["throughput_t" if key == "throughput_t_per_day" else key]
            ci = None if s["ci95"] is None else s["ci95"] * scale
            rows.append(
                KpiRow(
                    key,
                    s["baseline"] * scale,
                    s["scenario"] * scale,
                    s["difference"] * scale,
                    ci,
                    better,
                    "simulation",
                )
            )
    if windows:
        n = len(windows)
        for key, better in WINDOW_KPIS:
            field = "_h" if key == "window_h_per_day" else "_windows"
            base = sum(float(d[f"baseline{field}"]) for d in windows) / n
            scen = sum(float(d[f"scenario{field}"]) for d in windows) / n
            rows.append(KpiRow(key, base, scen, scen - base, None, better, "windows"))
    return rows


def _fmt(value: float | None, key: str) -> str:
    if value is None:
        return "–"
    digits = 0 if key in ("wait_total_h", "throughput_t_per_day") else 2
    if round(value, digits) == 0:
        value = 0.0  # a tiny negative would print as "-0"
    return f"{value:,.{digits}f}"


def kpi_table(rows: Sequence[KpiRow], lang: str) -> str:
    """The deltas table; each row carries its exact numbers in data attributes (for tests and tools)."""
    head = "".join(
        f"<th>{esc(t(k, lang))}</th>"
        for k in ("col_kpi", "col_baseline", "col_scenario", "col_delta", "col_ci")
    )
    body = []
    for r in rows:
        ci = esc(t("deterministic", lang)) if r.source == "windows" else _fmt(r.ci95, r.key)
        verdict = r.verdict()
        sign = "+" if r.delta > 0 else ""
        body.append(
            f"<tr data-kpi='{r.key}' data-baseline='{r.baseline!r}' data-scenario='{r.scenario!r}' "
            f"data-delta='{r.delta!r}' data-ci='{'' if r.ci95 is None else repr(r.ci95)}'>"
            f"<td>{esc(t('kpi_' + r.key, lang))}</td><td>{_fmt(r.baseline, r.key)}</td>"
            f"<td>{_fmt(r.scenario, r.key)}</td>"
            f"<td class='{verdict}'>{sign}{_fmt(r.delta, r.key)}</td><td>{ci}</td></tr>"
        )
    return (
        f"<table class='pl-table' data-testid='kpi-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def windows_table(days: Sequence[Mapping[str, Any]], lang: str) -> str:
    """Tidal-window hours per UTC day, baseline vs scenario, with the number of windows and the mean."""
    head = "".join(
        f"<th>{esc(x)}</th>"
        for x in (
            t("col_date", lang),
            t("col_baseline", lang),
            t("col_scenario", lang),
            t("col_gain", lang),
            f"{t('col_windows', lang)} ({t('baseline_short', lang)}/{t('scenario_short', lang)})",
        )
    )
    body = [
        f"<tr data-date='{esc(d['date'])}'><td>{esc(d['date'])}</td><td>{d['baseline_h']:.2f}</td>"
        f"<td>{d['scenario_h']:.2f}</td><td>{d['gain_h']:+.2f}</td>"
        f"<td>{d['baseline_windows']}/{d['scenario_windows']}</td></tr>"
        for d in days
    ]
    if days:
        n = len(days)
        means = [sum(float(d[k]) for d in days) / n for k in ("baseline_h", "scenario_h")]
        body.append(
            f"<tr data-date='mean'><td><b>{esc(t('mean_per_day', lang))}</b></td>"
            f"<td><b>{means[0]:.2f}</b></td><td><b>{means[1]:.2f}</b></td>"
            f"<td><b>{means[1] - means[0]:+.2f}</b></td><td></td></tr>"
        )
    return (
        f"<table class='pl-table' data-testid='windows-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def windows_chart(days: Sequence[Mapping[str, Any]], lang: str, width: int = 460, height: int = 170) -> str:
    """Grouped bars per day: baseline (grey-blue) and scenario (cyan) window hours; inline SVG."""
    if not days:
        return ""
    top = max(1.0, *(float(d[k]) for d in days for k in ("baseline_h", "scenario_h")))
    left, bottom, right, top_pad = 34, 22, 8, 18
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    slot = plot_w / len(days)
    bar = slot * 0.36
    parts = [
        f"<svg data-testid='windows-chart' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img'>",
        f"<text x='{left}' y='12' fill='#8fb3d9' font-size='11'>{esc(t('windows_title', lang))}</text>",
    ]
    for frac in (0.0, 0.5, 1.0):
        y = top_pad + plot_h * (1 - frac)
        parts.append(
            f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#2a3a4c'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' fill='#8fb3d9' font-size='10' "
            f"text-anchor='end'>{top * frac:.1f}</text>"
        )
    for i, d in enumerate(days):
        x0 = left + i * slot + slot * 0.14
        for j, (k, colour) in enumerate((("baseline_h", "#6f8aa8"), ("scenario_h", "#00e5ff"))):
            h = plot_h * float(d[k]) / top
            parts.append(
                f"<rect x='{x0 + j * bar:.1f}' y='{top_pad + plot_h - h:.1f}' width='{bar:.1f}' "
                f"height='{h:.1f}' fill='{colour}'><title>{esc(d['date'])} {k}: {d[k]:.2f} h</title></rect>"
            )
        parts.append(
            f"<text x='{left + (i + 0.5) * slot:.1f}' y='{height - 6}' fill='#8fb3d9' font-size='10' "
            f"text-anchor='middle'>{esc(str(d['date'])[5:])}</text>"
        )
    legend = "<text x='{x}' y='13' fill='#dde6f0' font-size='10'>{text}</text>"
    parts.append(
        f"<rect x='{width - 150}' y='4' width='10' height='10' fill='#6f8aa8'/>"
        + legend.format(x=width - 136, text=esc(t("baseline_short", lang)))
        + f"<rect x='{width - 80}' y='4' width='10' height='10' fill='#00e5ff'/>"
        + legend.format(x=width - 66, text=esc(t("scenario_short", lang)))
    )
    parts.append("</svg>")
    return "".join(parts)


def delta_chart(rows: Sequence[KpiRow], lang: str, width: int = 460) -> str:
    """One line per KPI: the delta as a dot with its 95 % interval, each on its own symmetric scale
    around zero (the units differ); green when better, red when worse, grey when not significant."""
    if not rows:
        return ""
    label_w, row_h, pad = 240, 24, 10
    height = pad * 2 + row_h * len(rows) + 14
    x_mid = label_w + (width - label_w - pad) / 2
    half = (width - label_w - pad) / 2 - 6
    parts = [
        f"<svg data-testid='delta-chart' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img'><text x='4' y='12' fill='#8fb3d9' font-size='11'>{esc(t('chart_kpi', lang))}</text>",
        f"<line x1='{x_mid:.1f}' x2='{x_mid:.1f}' y1='{pad + 8}' y2='{height - 4}' stroke='#8fb3d9' "
        "stroke-dasharray='3,3'/>",
    ]
    for i, r in enumerate(rows):
        y = pad + 14 + row_h * i + row_h / 2
        ci = r.ci95 or 0.0
        scale = max(abs(r.delta) + ci, 1e-9)
        colour = {"better": "#3fdc8a", "worse": "#ff6a6a"}.get(r.verdict(), "#b0bccb")
        x = x_mid + half * r.delta / scale
        parts.append(
            f"<text x='4' y='{y + 4:.1f}' fill='#dde6f0' font-size='11'>{esc(t('kpi_' + r.key, lang))}</text>"
        )
        if ci:
            x_lo, x_hi = x_mid + half * (r.delta - ci) / scale, x_mid + half * (r.delta + ci) / scale
            parts.append(
                f"<line x1='{x_lo:.1f}' x2='{x_hi:.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='{colour}' "
                "stroke-width='2'/>"
            )
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='5' fill='{colour}'><title>{r.delta:+.3f}"
            f"{'' if r.ci95 is None else f' ± {r.ci95:.3f}'}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def scenario_text(scenario: Scenario, lang: str) -> str:
    """What a scenario changes, in words (name, description, and one line per change)."""
    items = []
    for d in scenario.dredges:
        where = (
            f"K{d.from_km:g}–K{d.to_km:g}"
            if d.polygon is None
            else t("ch_polygon", lang, n=len(d.polygon.exterior.coords) - 1)
        )
        how = (
            t("ch_deepen", lang, m=f"{d.deepen_m:g}")
            if d.deepen_m is not None
            else t("ch_depth", lang, m=f"{d.depth_m:g}")
        )
        items.append(t("ch_dredge", lang, where=where, how=how))
    if scenario.tide_offset_m:
        items.append(t("ch_tide", lang, m=f"{scenario.tide_offset_m:+g}"))
    if scenario.surge_m is not None:
        items.append(t("ch_surge", lang, m=f"{float(max(scenario.surge_m)):g}"))
    if scenario.vessel is not None:
        v = scenario.vessel
        dwt = "" if v.dwt is None else f"{v.dwt:,.0f} t"
        items.append(
            t(
                "ch_vessel",
                lang,
                dwt=dwt,
                l=f"{v.length_m:g}",
                b=f"{v.beam_m:g}",
                t=f"{v.draught_m:g}",
                cb=f"{v.cb:g}",
                kn=f"{v.speed_kn:g}",
            )
        )
    if scenario.close_berths:
        items.append(t("ch_close", lang, ids=", ".join(scenario.close_berths)))
    if scenario.add_berths:
        items.append(t("ch_add", lang, ids=", ".join(b.id for b in scenario.add_berths)))
    for gate, lanes in scenario.gate_lanes.items():
        items.append(t("ch_gate", lang, gate=gate, n=max(lanes)))
    for cls, factor in scenario.demand.items():
        items.append(t("ch_demand", lang, cls=cls, f=f"{factor:g}"))
    for part, frac in scenario.ukc_fraction.items():
        items.append(t("ch_ukc", lang, part=part, pct=f"{100 * frac:g}"))
    traffic = getattr(scenario, "traffic", None)  # [traffic] (scheduling, pilots): newer scenario files
    if traffic is not None:
        if traffic.scheduling != "fcfs":
            items.append(t("ch_scheduling", lang, how=traffic.scheduling))
        if traffic.one_way_min_dwt is not None:
            items.append(t("ch_one_way", lang, dwt=f"{traffic.one_way_min_dwt:,.0f}"))
        if traffic.pilots:
            pilots = traffic.pilots
            items.append(
                t(
                    "ch_pilots",
                    lang,
                    n=f"{pilots.get('count', 0):g}",
                    shift=f"{pilots.get('max_shift_h', 0):g}",
                    rest=f"{pilots.get('min_rest_h', 0):g}",
                )
            )
    lis = "".join(f"<li>{esc(x)}</li>" for x in items)
    return (
        f"<div data-testid='scenario-text'><b>{esc(scenario.name)}</b>"
        f"<p class='note'>{esc(scenario.description)}</p>"
        f"<div class='note'>{esc(t('changes', lang))}:</div><ul style='margin:2px 0;padding-left:18px;"
        f"font-size:13px'>{lis}</ul></div>"
    )


def error_box(message: str, lang: str) -> str:
    """A scenario file's validation error, verbatim."""
    return (
        f"<div data-testid='scenario-error' class='error'>{esc(t('scenario_error', lang))}"
        f"{esc(message)}</div>"
    )
