"""The planner's Panel app: one `PlannerScreen` per browser session over one shared `PlannerStore`.

Layout (fits 1366×768, grows to 1920×1080): a header (title, scenario picker, UKC time, difference
toggle, language), the baseline and scenario maps side by side with linked cameras, and under them
the scenario and its tidal windows, the KPI deltas, and the simulation and export controls. Slow
work (windows, fast-time runs) runs on the store's threads; a 0.5 s tick shows their progress.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import panel as pn

from dashboards.planner import deck
from dashboards.planner.i18n import t
from dashboards.planner.report import report_html
from dashboards.planner.store import DEFAULT_DAYS, DEFAULT_KEY, DEFAULT_SEEDS, Job, Loaded, PlannerStore
from dashboards.planner.views import (
    CSS,
    delta_chart,
    error_box,
    esc,
    kpi_rows,
    kpi_table,
    scenario_text,
    windows_chart,
    windows_table,
)
from layers.style import BACKGROUND
from twin.scenario import ScenarioFileError

TICK_MS = 500
LOCAL = timezone(timedelta(hours=8), "CST")
VIEW_KEYS = ("longitude", "latitude", "zoom", "pitch", "bearing")
# Panel's DeckGL reports the camera after a drag (debounced); copying it into the other map's
# initialViewState moves that map in the browser, with no trip to the server.
LINK_JS = """
const v = cb_obj.viewState;
if (v && v.longitude !== undefined) {
  const keep = {maxPitch: 60};
  for (const k of ["longitude", "latitude", "zoom", "pitch", "bearing"]) keep[k] = v[k];
  other.initialViewState = keep;
}
"""


def local_label(when: datetime) -> str:
    """`MM-DD HH:00` in Beijing time."""
    return when.astimezone(LOCAL).strftime("%m-%d %H:%M")


class PlannerScreen:
    """One browser session: its language, scenario, UKC time, jobs it follows, and its widgets."""

    def __init__(self, store: PlannerStore, lang: str = "zh", scenario_key: str | None = None) -> None:
        self.store = store
        self.lang = lang
        self.loaded: Loaded | None = None
        self.error: str | None = None
        self.windows_job: Job | None = None
        self.compare_job: Job | None = None
        self._last_result: dict[str, Any] | None = None  # the newest finished comparison of the scenario
        self._shown: tuple[Any, Any] | None = None  # (windows, compare) results on screen; None: redraw
        self._view: dict[str, Any] = dict(deck.VIEW)
        self._base_fixed = deck.port_frames(store.port)
        self._hours = store.ukc_times()

        self.picker = pn.widgets.Select(width=300, css_classes=["pl-scenario"])
        self.when = pn.widgets.DiscreteSlider(
            options={local_label(h): i for i, h in enumerate(self._hours)}, width=320, css_classes=["pl-when"]
        )
        self.show_diff = pn.widgets.Checkbox(value=True, width=170, margin=(22, 8, 0, 8))
        self.lang_button = pn.widgets.Button(width=90, color="light", margin=(18, 8, 0, 8))
        self.lang_button.on_click(lambda _e: self.set_lang("en" if self.lang == "zh" else "zh"))
        self.title = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 8), stylesheets=[CSS])
        self.days = pn.widgets.IntInput(
            value=int(DEFAULT_DAYS), start=1, end=60, width=90, css_classes=["pl-days"]
        )
        self.seeds = pn.widgets.IntInput(
            value=DEFAULT_SEEDS, start=1, end=20, width=90, css_classes=["pl-seeds"]
        )
        self.run_button = pn.widgets.Button(
            color="primary", width=150, margin=(22, 8, 0, 8), css_classes=["pl-run"]
        )
        self.run_button.on_click(lambda _e: self.run_simulation())
        self.progress = pn.indicators.Progress(value=0, max=1, width=300, bar_color="info")
        self.run_status = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.export_button = pn.widgets.FileDownload(
            callback=self._export,
            filename="planner-report.html",
            color="warning",
            width=220,
            embed=False,
            css_classes=["pl-export"],
        )
        map_args: dict[str, Any] = {
            "sizing_mode": "stretch_both",
            "min_height": 300,
            "tooltips": {"html": "{tooltip}"},
            "throttle": {"view": 150, "hover": 300},
        }
        self.base_map = pn.pane.DeckGL(
            deck.side_spec(self._base_fixed, deck.ukc_frame(self._empty())),
            css_classes=["pl-map-base"],
            **map_args,
        )
        self.scen_map = pn.pane.DeckGL(
            deck.side_spec(self._base_fixed, deck.ukc_frame(self._empty())),
            css_classes=["pl-map-scen"],
            **map_args,
        )
        self.base_map.jscallback(view_state=LINK_JS, args={"other": self.scen_map})
        self.scen_map.jscallback(view_state=LINK_JS, args={"other": self.base_map})
        for pane in (self.base_map, self.scen_map):
            pane.param.watch(self._on_view, "view_state")
        self.base_label = pn.pane.HTML(margin=(0, 8), stylesheets=[CSS], sizing_mode="stretch_width")
        self.scen_label = pn.pane.HTML(margin=(0, 8), stylesheets=[CSS], sizing_mode="stretch_width")
        self.map_note = pn.pane.HTML(margin=(0, 8), stylesheets=[CSS], sizing_mode="stretch_width")
        self.scenario_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.windows_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.kpi_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.chart_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])

        self.layout = pn.Column(
            pn.Row(
                self.title,
                self.picker,
                self.when,
                self.show_diff,
                self.lang_button,
                sizing_mode="stretch_width",
                height=64,
            ),
            pn.Row(
                pn.Column(self.base_label, self.base_map, sizing_mode="stretch_both"),
                pn.Column(self.scen_label, self.scen_map, sizing_mode="stretch_both"),
                sizing_mode="stretch_both",
                min_height=320,
            ),
            self.map_note,
            pn.Row(
                pn.Column(self.scenario_html, self.windows_html, width=470, height=330, scroll=True),
                pn.Column(self.kpi_html, sizing_mode="stretch_width", height=330, scroll=True),
                pn.Column(
                    pn.Row(self.days, self.seeds, self.run_button),
                    self.progress,
                    self.run_status,
                    self.export_button,
                    self.chart_html,
                    width=480,
                    height=330,
                    scroll=True,
                ),
                sizing_mode="stretch_width",
                height=336,
            ),
            sizing_mode="stretch_both",
            styles={"background": BACKGROUND},
        )
        self._set_labels()
        entries = store.catalogue()
        keys = [e.key for e in entries]
        first = scenario_key if scenario_key in keys else (DEFAULT_KEY if DEFAULT_KEY in keys else None)
        first = first or (keys[0] if keys else None)
        if first is not None:
            self.picker.value = first
            self.select(first)
        self.picker.param.watch(lambda e: self.select(e.new), "value")
        self.when.param.watch(lambda _e: self.draw_maps(), "value")
        self.show_diff.param.watch(lambda _e: self.draw_maps(), "value")

    @staticmethod
    def _empty() -> Any:
        import polars as pl

        return pl.DataFrame(
            schema={"lon": pl.Float64, "lat": pl.Float64, "net_ukc_m": pl.Float64, "ukc_class": pl.Int64}
        )

    # -- language -----------------------------------------------------------------------------
    def _set_labels(self) -> None:
        lang = self.lang
        self.title.object = f"<h1 style='font-size:19px;margin:16px 0 0'>{esc(t('title', lang))}</h1>"
        self.lang_button.label = t("lang_switch", lang)
        self.picker.label = t("scenario", lang)
        self.when.label = t("ukc_at", lang)
        self.show_diff.label = t("show_diff", lang)
        self.days.label = t("run_days", lang)
        self.seeds.label = t("run_seeds", lang)
        self.run_button.label = t("run", lang)
        self.export_button.label = t("export", lang)
        self.map_note.object = (
            f"<div class='note'>{esc(t('map_note', lang))} "
            f"<span style='color:rgb(40,200,110)'>■</span> {esc(t('legend_safe', lang))} "
            f"<span style='color:rgb(255,190,0)'>■</span> {esc(t('legend_marginal', lang))} "
            f"<span style='color:rgb(235,40,40)'>■</span> {esc(t('legend_no_go', lang))} "
            f"<span style='color:rgb(0,229,255)'>▮</span> {esc(t('legend_gain', lang))} "
            f"<span style='color:rgb(255,64,170)'>▮</span> {esc(t('legend_loss', lang))}</div>"
        )
        options = {}
        for e in self.store.catalogue():
            tag = t("bundled", lang) if e.bundled else self._file_tag(e.key)
            options[f"{e.name} ({tag})"] = e.key
        current = self.picker.value
        self.picker.options = options
        if current in options.values():
            self.picker.value = current

    def _file_tag(self, key: str) -> str:
        try:
            self.store.load(key)
        except ScenarioFileError:
            return "⚠ " + t("bad_file", self.lang)
        return self.store.entry(key).path.parent.name

    def set_lang(self, lang: str) -> None:
        """Switch every label and table to `lang`."""
        self.lang = lang
        self._set_labels()
        self._shown = None
        self.draw_text()
        self.tick()

    # -- scenario and maps --------------------------------------------------------------------
    def select(self, key: str) -> None:
        """Show the scenario of `key`: its maps at its telling hour, and start its windows and default run."""
        self._shown = None
        self._last_result = None
        try:
            self.loaded = self.store.load(key)
            self.error = None
        except ScenarioFileError as exc:
            self.loaded, self.error = None, str(exc)
            self.windows_job = self.compare_job = None
        if self.loaded is not None:
            hour = self.store.telling_hour(self.loaded)
            self.when.value = self._hours.index(hour)
            self.windows_job = self.store.windows_job(self.loaded)
            self.compare_job = self.store.compare_job(self.loaded, DEFAULT_DAYS, DEFAULT_SEEDS)
        for control in (self.run_button, self.export_button, self.days, self.seeds):
            control.disabled = self.loaded is None
        self.draw_maps()
        self.draw_text()
        self.tick()

    def ukc_time(self) -> datetime:
        """The UKC time the maps show (UTC)."""
        return self._hours[int(self.when.value)]

    def specs(self, view: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Both sides' deck specs at the chosen UKC time (DataFrame data)."""
        when = self.ukc_time()
        view = view or self._view
        if self.loaded is None:
            empty = deck.ukc_frame(self._empty())
            spec = deck.side_spec(self._base_fixed, empty, view_state=view)
            return spec, spec
        loaded = self.loaded
        base = deck.side_spec(
            self._base_fixed, deck.ukc_frame(self.store.baseline_cells(loaded, when)), view_state=view
        )
        diff = (
            deck.difference_frame(self.store.difference_cells(loaded, when)) if self.show_diff.value else None
        )
        scen = deck.side_spec(
            self.scenario_fixed(),
            deck.ukc_frame(self.store.scenario_cells(loaded, when)),
            difference=diff,
            closed=deck.closed_frame(loaded.port),
            view_state=view,
        )
        return base, scen

    def scenario_fixed(self) -> list[dict[str, Any]]:
        """The scenario port's fixed layers (the baseline's when the scenario changes no port feature)."""
        assert self.loaded is not None
        if self.loaded.port is self.store.port:
            return self._base_fixed
        return deck.port_frames(self.loaded.port)

    def draw_maps(self) -> None:
        base, scen = self.specs()
        self.base_map.object = base
        self.scen_map.object = scen
        name = self.loaded.scenario.name if self.loaded is not None else "–"
        when = local_label(self.ukc_time())
        self.base_label.object = f"<h3>{esc(t('baseline', self.lang))} · {esc(when)} (UTC+8)</h3>"
        self.scen_label.object = (
            f"<h3 data-testid='scen-label'>{esc(t('scenario_short', self.lang))}: "
            f"{esc(name)} · {esc(when)} (UTC+8)</h3>"
        )

    def _on_view(self, event: Any) -> None:
        view = event.new or {}
        if all(k in view for k in VIEW_KEYS):
            self._view = {**{k: view[k] for k in VIEW_KEYS}, "maxPitch": 60}

    # -- text, tables, jobs -------------------------------------------------------------------
    def vessel_text(self) -> str:
        if self.loaded is None:
            return ""
        v = self.loaded.vessel
        return (
            f"{t('design_vessel', self.lang)}: {v.length_m:g} × {v.beam_m:g} m, "
            f"{t('draught', self.lang)} {v.draught_m:g} m, {v.speed_kn:g} kn · {t('route', self.lang)} "
            f"K0 → K{self.loaded.to_km:.2f}"
        )

    def rule_text(self) -> str:
        return t(
            "rule",
            self.lang,
            outer=f"{100 * self.store.rule['outer']:g}",
            inner=f"{100 * self.store.rule['inner']:g}",
        )

    def draw_text(self) -> None:
        if self.loaded is None:
            self.scenario_html.object = error_box(self.error or "", self.lang) if self.error else ""
            self.windows_html.object = ""
            self.kpi_html.object = ""
            self.chart_html.object = ""
            return
        self.scenario_html.object = (
            scenario_text(self.loaded.scenario, self.lang)
            + f"<p class='note'>{esc(self.vessel_text())}</p>"
            + f"<p class='note'>{esc(self.rule_text())}</p>"
        )

    def run_simulation(self) -> None:
        """Start (or join) a fast-time comparison with the days and seeds typed in."""
        if self.loaded is None:
            return
        self.compare_job = self.store.compare_job(
            self.loaded, float(self.days.value or 1), int(self.seeds.value or 1)
        )
        self._shown = None
        self.tick()

    def tick(self) -> None:
        """Show job progress, and any result not on the screen yet."""
        lang = self.lang
        windows = self.windows_job.status() if self.windows_job is not None else None
        compared = self.compare_job.status() if self.compare_job is not None else None
        if compared is not None:
            self.progress.max = max(compared.total, 1)
            self.progress.value = compared.done
            if compared.state == "failed":
                text = f"<span class='error'>{esc(t('failed', lang))}{esc(compared.error)}</span>"
            elif compared.state == "done":
                text = esc(t("done", lang, total=compared.total))
            elif compared.state == "queued":
                text = esc(t("queued", lang))
            else:
                text = esc(t("running", lang, done=compared.done, total=compared.total))
            self.run_status.object = (
                f"<div data-testid='run-status' data-state='{compared.state}' "
                f"data-done='{compared.done}' data-total='{compared.total}'>{text}</div>"
            )
        w_result = windows.result if windows is not None and windows.state == "done" else None
        if compared is not None and compared.state == "done":
            self._last_result = compared.result
        # a new run's result replaces the table when it is done; until then the last one stays
        c_result = self._last_result
        previous = c_result is not None and (compared is None or compared.state != "done")
        if self._shown is not None and w_result is self._shown[0] and c_result is self._shown[1]:
            return
        self._shown = (w_result, c_result)
        if self.loaded is None:
            return
        if w_result is not None:
            self.windows_html.object = (
                f"<h3>{esc(t('windows_title', lang))}</h3>"
                + windows_table(w_result, lang)
                + windows_chart(w_result, lang, width=440)
            )
        else:
            self.windows_html.object = (
                f"<h3>{esc(t('windows_title', lang))}</h3><p>{esc(t('computing', lang))}</p>"
            )
        rows = kpi_rows(c_result, w_result)
        source = (
            ""
            if c_result is None
            else f"<p class='note' data-testid='sim-source'>{esc(self.sim_text(c_result))}</p>"
        )
        empty = "" if c_result is not None else f"<p class='note'>{esc(t('no_result', lang))}</p>"
        if previous:
            empty = f"<p class='note' data-testid='previous-run'>{esc(t('previous_run', lang))}</p>"
        self.kpi_html.object = f"<h3>{esc(t('kpi_title', lang))}</h3>{source}{empty}{kpi_table(rows, lang)}"
        self.chart_html.object = delta_chart(rows, lang, width=440)

    def sim_text(self, compared: dict[str, Any]) -> str:
        return t(
            "sim_source",
            self.lang,
            days=f"{compared['days']:g}",
            seeds=",".join(str(s) for s in compared["seeds"]),
            start=compared["start_utc"],
        )

    # -- export -------------------------------------------------------------------------------
    def report(self) -> str:
        """The offline HTML report of what the screen shows."""
        if self.loaded is None:
            raise RuntimeError("no valid scenario selected: nothing to export")
        base, scen = self.specs(self._view)
        windows = self.windows_job.status().result if self.windows_job is not None else None
        compared = self._last_result
        return report_html(
            lang=self.lang,
            scenario=self.loaded.scenario,
            base_spec=deck.records_spec(base),
            scen_spec=deck.records_spec(scen),
            ukc_time=f"{local_label(self.ukc_time())} (UTC+8)",
            vessel_text=self.vessel_text(),
            rule_text=self.rule_text(),
            windows=windows,
            rows=kpi_rows(compared, windows),
            sim_text="" if compared is None else self.sim_text(compared),
        )

    def _export(self) -> io.BytesIO:
        name = self.loaded.entry.name if self.loaded is not None else "none"
        self.export_button.filename = f"planner-{name}.html"
        return io.BytesIO(self.report().encode("utf-8"))


def make_session_app(store: PlannerStore) -> Callable[[], pn.viewable.Viewable]:
    """The function Panel calls once per browser session.

    Query arguments: `lang=en` starts in English, `scenario=<key>` (e.g. `bundled:dredge_outer_1m`,
    `file:mine.toml`) or a bundled name opens that scenario.
    """

    def session() -> pn.viewable.Viewable:
        args = pn.state.session_args or {}
        lang = "en" if args.get("lang", [b"zh"])[0] == b"en" else "zh"
        key = args.get("scenario", [b""])[0].decode()
        if key and ":" not in key:
            key = f"bundled:{key}"
        screen = PlannerScreen(store, lang, key or None)
        pn.state.add_periodic_callback(screen.tick, period=TICK_MS)
        return screen.layout

    return session
