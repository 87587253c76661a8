"""The ops desk's Panel app: one `OpsDesk` per browser session, all reading one shared `OpsStore`.

Layout (fits 1366×768 and scales to 1920×1080): a header (title, twin clock, live/stale, language),
the zone list on the left, the live 3D map in the middle, and on the right the zone page, the
alerts desk and the vessel page as tabs. A zone is picked on the map (any of its anchorages,
channel segments, berths, terminal blocks or gates) or in the list; a vessel on the map opens its
page. Sessions redraw only when the store's version changed.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import panel as pn
import shapely
import xarray as xr

from dashboards.ops.acks import Acknowledger, check_operator
from dashboards.ops.deck import VESSEL_LAYER_IDS, DeckBuilder
from dashboards.ops.export import export_zip
from dashboards.ops.i18n import t
from dashboards.ops.replaybar import ReplayBar
from dashboards.ops.sequence import proposed_plans, sequence_table
from dashboards.ops.store import (
    OpsState,
    OpsStore,
    alert_context_area,
    needs_ack,
    open_alerts,
    vessels_in_zone,
)
from dashboards.ops.vessel import VesselPage
from dashboards.ops.views import alerts_table, esc, local_time, parse_utc, zone_name, zone_page_parts
from dashboards.ops.zone_kpi import WINDOW_HOURS, compute, zone_kpi_html
from layers.style import BACKGROUND
from twin.port import Port
from twin.schedule import SchedulePlan
from twin.zones import ZoneIndex

REFRESH_MS = 2000
STALE_AFTER_S = 15.0
KPI_EVERY_S = 60  # live, the zone's KPIs follow the shown time by the minute (they read the store)
KIND_ORDER = ("anchorage", "channel", "port_area", "gate_complex")

CSS = """
:host, div { color: #dde6f0; }
.ops-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.ops-table th, .ops-table td { border-bottom: 1px solid #2a3a4c; padding: 3px 6px; text-align: left; }
.ops-table th { color: #8fb3d9; font-weight: 600; }
.badge { color: #111; border-radius: 3px; padding: 1px 6px; font-size: 12px; font-weight: 700;
         white-space: nowrap; }
.timeline { font-size: 13px; padding-left: 18px; margin: 4px 0; }
h2 { font-size: 19px; margin: 4px 0; } h2 small { color: #8fb3d9; font-size: 12px; }
h3 { font-size: 15px; margin: 10px 0 4px; color: #ffd27a; }
"""

# the dark theme draws the active tab light grey under light text; make it readable
TAB_CSS = ".bk-tab.bk-active { background-color: #1f4a78; color: #ffffff; border-color: #3d6e9e; }"
# light grey, not white, text (the desk's tests find the selected zone's outline by pure-white pixels)
BUTTON_CSS = ".bk-btn { color: #cfd8e3 !important; }"
SEQUENCE_TAB = 3
# eleven columns in the 540-px tab: a smaller font keeps the sequence table readable at 1366×768
SEQUENCE_CSS = ".ops-table { font-size: 11.5px; } .ops-table th, .ops-table td { padding: 2px 3px; }"


@dataclass(frozen=True)
class OpsContext:
    """What every session shares: the port, the store, the deck builder, the ack path and token."""

    port: Port
    store: OpsStore
    deck: DeckBuilder
    acknowledger: Acknowledger
    operator_token: str | None
    history_dir: Path | None
    zones: Mapping[str, str]
    zone_index: ZoneIndex | None = None
    depth: xr.DataArray | None = None  # bathymetry for the export's map (the live map omits it)


@dataclass(frozen=True)
class Proposal:
    """A proposed channel sequence: the shown time it was computed for, the optimised plan and the
    first-come-first-served baseline (or the error), and whether the state was a replayed one."""

    now_iso: str
    plan: SchedulePlan | None
    fcfs: SchedulePlan | None
    error: str | None
    replayed: bool


class OpsDesk:
    """One browser session's desk: its language, selected zone and vessel, and its widgets."""

    def __init__(self, ctx: OpsContext, lang: str = "zh") -> None:
        self.ctx = ctx
        self.lang = lang
        self.zone_id: str | None = None
        self.mmsi: int | None = None
        self._seen = -1
        self._picks = 0
        self._vessel_page = VesselPage(ctx.port, ctx.history_dir)
        self.replay = ReplayBar(
            ctx.history_dir, ctx.zone_index, lambda: self.refresh(force=True), port=ctx.port
        )
        # one window for the zone's KPIs and the export: the hours ending at the shown time
        self.window_label = pn.pane.HTML(margin=(8, 4, 0, 8), stylesheets=[CSS])
        self.window_hours = pn.widgets.RadioButtonGroup(
            options={f"{h} h": h for h in WINDOW_HOURS}, value=6, css_classes=["zone-window"],
            stylesheets=[BUTTON_CSS],
        )
        self.window_hours.param.watch(self._on_window, "value")
        self.kpi_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self._kpi_key: tuple[Any, ...] | None = None
        self.export_button = pn.widgets.FileDownload(
            callback=self._export, filename="ops-export.zip", color="warning", width=140,
            embed=False, css_classes=["ops-export"],
        )
        state = ctx.store.state()
        self._shown_vessels = ctx.deck.vessel_data(state.version, state.vessels)
        self.map = pn.pane.DeckGL(
            ctx.deck.spec(self._shown_vessels),
            sizing_mode="stretch_both",
            min_height=380,
            tooltips=False,
            throttle={"view": 400, "hover": 400},
        )
        self.map.param.watch(self._on_map_click, "click_state")
        self.title = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 8), stylesheets=[CSS])
        self.status = pn.pane.HTML(width=330, margin=(0, 8), stylesheets=[CSS])
        self.lang_button = pn.widgets.Button(label=t("lang_switch", lang), width=90, color="light")
        self.lang_button.on_click(lambda _e: self.set_lang("en" if self.lang == "zh" else "zh"))
        self.zone_list = pn.Column(width=210, scroll=True, sizing_mode="stretch_height")
        self.zone_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.zone_head = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.zone_vessel_pick = pn.widgets.Select(sizing_mode="stretch_width")
        self.zone_vessel_pick.param.watch(self._on_vessel_pick, "value")
        self.desk_zone = pn.widgets.Select(width=200)
        self.desk_kind = pn.widgets.Select(width=200)
        for w in (self.desk_zone, self.desk_kind):
            w.param.watch(lambda _e: self.refresh(force=True), "value")
        self.desk_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.ack_alert = pn.widgets.Select(sizing_mode="stretch_width")
        self.ack_alert.param.watch(self._on_alert_pick, "value")
        self.alert_focus: str | None = None  # an alert picked on the desk: its context goes on the map
        self.ack_by = pn.widgets.TextInput(sizing_mode="stretch_width")
        self.ack_token = pn.widgets.PasswordInput(sizing_mode="stretch_width")
        self.ack_note = pn.widgets.TextAreaInput(sizing_mode="stretch_width", height=60)
        self.ack_button = pn.widgets.Button(color="primary", width=120)
        self.ack_button.on_click(self._on_ack)
        self.ack_message = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.ack_replay = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.vessel_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        # the proposed channel sequence: the optimiser takes seconds, so it runs on request in a thread
        self.propose_button = pn.widgets.Button(color="primary", width=140, css_classes=["propose"])
        self.propose_button.on_click(lambda _e: self.propose())
        self.propose_status = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS])
        self.sequence_html = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[CSS, SEQUENCE_CSS])
        self._proposal: Proposal | None = None
        self._proposing: threading.Thread | None = None
        self._tab_bodies = [
            pn.Column(
                self.zone_head,
                pn.Row(self.window_label, self.window_hours, self.export_button),
                self.kpi_html,
                self.zone_html,
                self.zone_vessel_pick,
                sizing_mode="stretch_width",
            ),
            pn.Column(
                pn.Row(self.desk_zone, self.desk_kind),
                self.desk_html,
                pn.layout.Divider(),
                self.ack_alert,
                pn.Row(self.ack_by, self.ack_token),
                self.ack_note,
                self.ack_replay,
                self.ack_button,
                self.ack_message,
                sizing_mode="stretch_width",
            ),
            pn.Column(self.vessel_html, sizing_mode="stretch_width"),
            pn.Column(
                pn.Row(self.propose_button, self.propose_status),
                self.sequence_html,
                sizing_mode="stretch_width",
            ),
        ]
        self.tabs = pn.Tabs(
            width=540,
            sizing_mode="stretch_height",
            scroll=True,
            stylesheets=[TAB_CSS],
        )
        self.tabs.param.watch(self._on_tab, "active")
        self.layout = pn.Column(
            pn.Row(self.title, self.status, self.lang_button, sizing_mode="stretch_width", height=44),
            pn.Row(
                self.zone_list,
                # the replay bar sits under the map it drives, so the side columns keep their height
                pn.Column(self.map, self.replay.layout, sizing_mode="stretch_both"),
                self.tabs,
                sizing_mode="stretch_both",
            ),
            sizing_mode="stretch_both",
            styles={"background": BACKGROUND},
        )
        self.set_lang(lang)

    # -- language and labels ------------------------------------------------------------------
    def set_lang(self, lang: str) -> None:
        """Switch every label to `lang` and redraw."""
        self.lang = lang
        self.title.object = f"<h1 style='font-size:20px;margin:8px 0'>{esc(t('title', lang))}</h1>"
        self.lang_button.label = t("lang_switch", lang)
        active = self.tabs.active
        names = [t("tab_zone", lang), t("tab_alerts", lang), t("tab_vessel", lang), t("tab_sequence", lang)]
        # Panel keeps a tab's title while its object is unchanged, so each body gets a new wrapper.
        self.tabs[:] = [
            (name, pn.Column(body, sizing_mode="stretch_width"))
            for name, body in zip(names, self._tab_bodies, strict=True)
        ]
        self.tabs.active = active
        self._build_zone_list()
        self.ack_alert.label = t("ack_pick", lang)
        self.ack_by.label = t("ack_by", lang)
        self.ack_token.label = t("ack_token", lang)
        self.ack_note.label = t("ack_note", lang)
        self.ack_button.label = t("ack", lang)
        self.desk_zone.label = t("filter_zone", lang)
        self.desk_kind.label = t("filter_kind", lang)
        self.desk_zone.options = {t("all", lang): ""} | {
            zone_name(self.ctx.port, z, lang): z for z in self.ctx.port.zones
        }
        self.zone_vessel_pick.label = t("vessel_pick", lang)
        self.replay.set_lang(lang)
        self.window_label.object = f"<b>{esc(t('window_hours', lang))}</b>"
        self.export_button.label = t("export", lang)
        self.propose_button.label = t("propose", lang)
        self._kpi_key = None
        self._draw_proposal()
        self.refresh(force=True)

    def _build_zone_list(self) -> None:
        items: list[Any] = [
            pn.pane.HTML(f"<h3>{esc(t('zones', self.lang))}</h3>", margin=(0, 5), stylesheets=[CSS])
        ]
        for kind in KIND_ORDER:
            items.append(
                pn.pane.HTML(
                    f"<b style='color:#8fb3d9'>{esc(t('kind_' + kind, self.lang))}</b>", margin=(4, 5, 0, 5)
                )
            )
            for zone in self.ctx.port.zones.values():
                if zone.kind != kind:
                    continue
                button = pn.widgets.Button(
                    label=zone.name_zh if self.lang == "zh" else zone.name_en,
                    color="primary" if zone.id == self.zone_id else "default",
                    sizing_mode="stretch_width",
                    margin=(2, 5),
                    css_classes=[f"zone-{zone.id}"],
                )
                button.on_click(self._zone_clicker(zone.id))
                items.append(button)
        self.zone_list.objects = items

    def _zone_clicker(self, zone_id: str) -> Callable[[Any], None]:
        return lambda _event: self.select_zone(zone_id)

    # -- selection ----------------------------------------------------------------------------
    def select_zone(self, zone_id: str) -> None:
        """Open the zone's page and outline it on the map."""
        self.zone_id = zone_id
        self.alert_focus = None
        self._picks += 1
        self.tabs.active = 0
        self._build_zone_list()
        self.refresh(force=True)

    def select_vessel(self, mmsi: int) -> None:
        """Open the vessel's page (its track goes on the map)."""
        self.mmsi = mmsi
        self.alert_focus = None
        self._vessel_page.load(mmsi, self.shown_state().ts_utc, hours=float(self.window_hours.value))
        self.tabs.active = 2
        self.refresh(force=True)

    def _on_window(self, _event: Any) -> None:
        if self.mmsi is not None:  # the vessel's track covers the chosen period too
            self._vessel_page.load(self.mmsi, self.shown_state().ts_utc, hours=float(self.window_hours.value))
        self.refresh(force=True)

    def _on_alert_pick(self, event: Any) -> None:
        """An alert picked on the alerts desk: its zone is outlined and its ship ringed on the map."""
        self.alert_focus = str(event.new) if event.new else None
        self.refresh(force=True)

    def map_focus(self, state: OpsState) -> shapely.Polygon | shapely.MultiPolygon | None:
        """What the map outlines: the picked alert's context (its zone, a ring round its ship), else the
        selected zone."""
        alert = state.alerts.get(self.alert_focus or "")
        if alert is None:
            zone = self.ctx.port.zones.get(self.zone_id or "")
            return None if zone is None else zone.area
        return alert_context_area(self.ctx.port, alert, state, self.ctx.zones)

    def _on_map_click(self, event: Any) -> None:
        click = event.new or {}
        if click:
            # cleared so that clicking the same feature again is seen as a change
            self.map.click_state = {}
        layer, index = click.get("layer"), click.get("index")
        if layer is None or index is None or index < 0:
            return
        if layer in VESSEL_LAYER_IDS:
            data = self._shown_vessels
            if index < len(data):
                self.select_vessel(int(data.iloc[index]["mmsi"]))
            return
        frame = self.ctx.deck.port_layer_data(str(layer))
        if frame is None or index >= len(frame) or "id" not in frame:
            return
        zone = self.ctx.zones.get(str(frame.iloc[index]["id"]))
        if zone is not None:
            self.select_zone(zone)

    def _on_vessel_pick(self, event: Any) -> None:
        if event.new:
            self.select_vessel(int(event.new))

    # -- drawing ------------------------------------------------------------------------------
    def shown_state(self) -> OpsState:
        """What the desk shows: the stream's state, or the replayed one while replaying."""
        return self.replay.state(self.ctx.store.state())

    def tick(self) -> None:
        """The periodic callback: advance a playing replay (which redraws), else redraw on news."""
        if self._proposing is not None and not self._proposing.is_alive():
            self._proposing = None
            self._draw_proposal()
        if self.replay.at is not None and self.replay.play.value:
            self.replay.tick(REFRESH_MS / 1000)
            return
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Redraw from the shared store (or the replay) when it has news, or when forced by a selection."""
        store = self.ctx.store
        state = self.shown_state()
        self._draw_status(store)
        if self.replay.at is None:
            self.replay.update_span()
        if state.version == self._seen and not force:
            return
        self._seen = state.version
        track = self._vessel_page.track_frame() if self.mmsi is not None else None
        # kept so that a click's row index finds the vessel the browser was showing
        if self.replay.at is None:
            self._shown_vessels = self.ctx.deck.vessel_data(state.version, state.vessels)
        else:
            self._shown_vessels = self.ctx.deck.rows_frame(state.vessels)
        self.map.object = self.ctx.deck.spec(self._shown_vessels, self.map_focus(state), track)
        self._draw_zone(state)
        self._draw_desk(state)
        self.vessel_html.object = (
            f"<p>{esc(t('vessel_pick', self.lang))}</p>"
            if self.mmsi is None
            else self._vessel_page.html(state, self.mmsi, self.lang)
        )

    def _draw_status(self, store: OpsStore) -> None:
        state = store.state()
        stale = not store.connected or store.seconds_since_message() > STALE_AFTER_S
        if self.replay.at is not None:
            state = self.shown_state()
            alerts = sum(1 for a in state.alerts.values() if a.get("state") != "cleared")
            badge = (
                f"<span data-testid='replay' data-ts='{esc(state.ts_utc)}'"
                f" data-vessels='{len(state.vessels)}' data-alerts='{alerts}'"
                " style='color:#ffd27a;font-weight:700'>"
                f"◀◀ {esc(t('replay', self.lang))} · ⚠ {alerts}</span>"
            )
        elif state.ts_utc is None:
            badge = f"<span style='color:#ffb000'>{esc(t('connecting', self.lang))}</span>"
        elif stale:
            badge = (
                "<span data-testid='stale' style='color:#ff5040;font-weight:700'>"
                f"{esc(t('stale', self.lang))}</span>"
            )
        else:
            badge = f"<span data-testid='live' style='color:#3c3'>● {esc(t('live', self.lang))}</span>"
        self.status.object = (
            f"<div style='margin-top:10px'>{esc(t('twin_time', self.lang))} "
            f"<b data-testid='twin-time'>{esc(local_time(state.ts_utc, with_date=True))}</b>"
            f" (UTC+8) {badge}</div>"
        )

    def _draw_zone(self, state: OpsState) -> None:
        if self.zone_id is None:
            self.zone_head.object = f"<p data-testid='pick-zone'>{esc(t('pick_zone', self.lang))}</p>"
            self.zone_html.object = ""
            self.kpi_html.object = ""
            self.zone_vessel_pick.options = {}
            self.zone_vessel_pick.visible = False
            return
        note = ""
        if self.replay.at is not None:
            text = esc(t(self.replay.note_key, self.lang))
            note = f"<p data-testid='replay-note' style='color:#ffd27a'>{text}</p>"
        head, body = zone_page_parts(
            self.ctx.port, state, self.zone_id, self.ctx.zones, self.lang, self._picks
        )
        self.zone_head.object = head + note
        self.zone_html.object = body
        self._draw_kpis(state)
        here = vessels_in_zone(state, self.zone_id)
        self.zone_vessel_pick.options = {"–": ""} | {
            f"{v.get('name') or v['mmsi']} ({v['mmsi']})": str(v["mmsi"]) for v in here
        }
        self.zone_vessel_pick.visible = bool(here)

    def _draw_desk(self, state: OpsState) -> None:
        # a replayed list is history: acknowledging goes to the live engine, so it waits for live
        replaying = self.replay.at is not None
        self.ack_button.disabled = replaying
        self.ack_replay.object = (
            f"<p data-testid='ack-replay' style='color:#ffd27a'>{esc(t('ack_replaying', self.lang))}</p>"
            if replaying
            else ""
        )
        kinds = sorted({str(a.get("rule")) for a in state.alerts.values() if a.get("rule")})
        self.desk_kind.options = {t("all", self.lang): ""} | {k: k for k in kinds}
        alerts = open_alerts(
            state, self.ctx.zones, zone_id=self.desk_zone.value or None, kind=self.desk_kind.value or None
        )
        self.desk_html.object = alerts_table(self.ctx.port, state, alerts, self.ctx.zones, self.lang)
        current = self.ack_alert.value
        text = "text_zh" if self.lang == "zh" else "text_en"
        options = {
            f"{t('prio_' + str(a.get('priority')), self.lang)} · {a.get(text) or a['id']}": str(a["id"])
            for a in alerts
            if needs_ack(a)
        }
        self.ack_alert.options = {"–": ""} | options
        if current in options.values():
            self.ack_alert.value = current

    def _draw_kpis(self, state: OpsState) -> None:
        """The zone's KPI block over the chosen window; recomputed when the zone, window or replayed time
        changes, and live once the shown time has moved `KPI_EVERY_S` (the block names its own window)."""
        assert self.zone_id is not None
        shown = parse_utc(state.ts_utc)
        if shown is None:
            self.kpi_html.object = ""
            return
        live = self.replay.at is None
        stamp = int(shown.timestamp()) // KPI_EVERY_S if live else int(shown.timestamp())
        key = (self.zone_id, int(self.window_hours.value), live, stamp, self.lang)
        if key == self._kpi_key:
            return
        result = compute(
            self.ctx.port, state, self.zone_id, int(self.window_hours.value),
            self.ctx.history_dir, self.ctx.zone_index,
        )
        self._kpi_key = key
        self.kpi_html.object = "" if result is None else zone_kpi_html(result, self.lang)

    # -- proposed channel sequence ------------------------------------------------------------
    def propose(self) -> None:
        """Compute a proposed channel sequence from the shown state in a worker thread (seconds: the
        optimiser and the FCFS baseline); `tick` shows it when done. Ignored while one is running."""
        if self._proposing is not None:
            return
        state = self.shown_state()
        if not state.ts_utc:
            return
        port, now_iso = self.ctx.port, state.ts_utc

        def work() -> None:
            try:
                plan, fcfs = proposed_plans(port, state, now_iso)
                self._proposal = Proposal(now_iso, plan, fcfs, None, self.replay.at is not None)
            except Exception as exc:  # shown to the operator verbatim; the desk keeps running
                self._proposal = Proposal(now_iso, None, None, f"{type(exc).__name__}: {exc}", False)

        self._proposing = threading.Thread(target=work, name="ops-propose", daemon=True)
        self._proposing.start()
        self._draw_proposal()

    def _draw_proposal(self) -> None:
        lang = self.lang
        if self._proposing is not None:
            self.propose_button.disabled = True
            self.propose_status.object = (
                f"<p data-testid='sequence-computing' style='color:#ffd27a'>{esc(t('proposing', lang))}</p>"
            )
            return
        self.propose_button.disabled = False
        p = self._proposal
        if p is None:
            self.propose_status.object = f"<p>{esc(t('propose_hint', lang))}</p>"
            self.sequence_html.object = ""
            return
        when = esc(local_time(p.now_iso, with_date=True))
        replayed = f" ({esc(t('replay', lang))})" if p.replayed else ""
        self.propose_status.object = (
            f"<p data-testid='sequence-time' data-ts='{esc(p.now_iso)}'>"
            f"{esc(t('proposed_at', lang))} {when} (UTC+8){replayed}</p>"
        )
        if p.error is not None or p.plan is None:
            self.sequence_html.object = (
                f"<p data-testid='sequence-error' style='color:#ff5040'>{esc(t('propose_failed', lang))}"
                f" {esc(p.error)}</p>"
            )
            return
        self.sequence_html.object = sequence_table(self.ctx.port, p.plan, lang, p.fcfs)

    def _on_tab(self, event: Any) -> None:
        # the sequence tab computes its first proposal when first opened; later ones on request
        if event.new == SEQUENCE_TAB and self._proposal is None:
            self.propose()

    # -- export -------------------------------------------------------------------------------
    async def _export(self) -> io.BytesIO:
        """The download button's zip: the zone table as shown, the chosen hours up to the shown time,
        and the map drawn by headless Chromium (seconds: built in a worker thread, off the loop)."""
        state = self.shown_state()
        end = parse_utc(state.ts_utc)
        if end is None:
            raise RuntimeError("the desk has no twin time yet: nothing to export")
        end += timedelta(seconds=1)  # the range is end-exclusive; the shown instant belongs in it
        start = end - timedelta(hours=int(self.window_hours.value))
        self.export_button.filename = (
            f"ops-{self.zone_id or 'port'}-{end.strftime('%Y%m%dT%H%M%SZ')}.zip"
        )
        data = await asyncio.to_thread(
            export_zip,
            state,
            self.ctx.zones,
            self.ctx.history_dir,
            self.zone_id,
            start,
            end,
            port=self.ctx.port,
            depth=self.ctx.depth,
        )
        return io.BytesIO(data)

    # -- acknowledging ------------------------------------------------------------------------
    async def _on_ack(self, _event: Any) -> None:
        lang = self.lang
        if self.replay.at is not None:
            self._ack_says(t("ack_replaying", lang), ok=False)
            return
        refusal = check_operator(self.ctx.operator_token, self.ack_token.value)
        if refusal is not None:
            self._ack_says(t(refusal, lang), ok=False)
            return
        if not self.ack_alert.value:
            self._ack_says(t("ack_need_alert", lang), ok=False)
            return
        if not (self.ack_note.value or "").strip():
            self._ack_says(t("ack_need_note", lang), ok=False)
            return
        state = self.ctx.store.state()
        result = await self.ctx.acknowledger.acknowledge(
            self.ack_alert.value,
            (self.ack_by.value or "").strip() or "operator",
            (self.ack_note.value or "").strip(),
            state.ts_utc or "",
        )
        self._ack_says(
            (t("ack_sent", lang) if result.ok else t("ack_failed", lang)) + result.detail, result.ok
        )

    def _ack_says(self, text: str, ok: bool) -> None:
        colour = "#3c3" if ok else "#ff5040"
        self.ack_message.object = (
            f"<div data-testid='ack-message' style='color:{colour};font-weight:700'>{esc(text)}</div>"
        )


def make_session_app(ctx: OpsContext) -> Callable[[], pn.viewable.Viewable]:
    """The function Panel calls once per browser session.

    Query arguments (deep links): `lang=en` starts in English, `zone=<zone id>` opens a zone,
    `vessel=<mmsi>` a vessel page.
    """

    def session() -> pn.viewable.Viewable:
        args = pn.state.session_args or {}
        lang = "en" if args.get("lang", [b"zh"])[0] == b"en" else "zh"
        desk = OpsDesk(ctx, lang)
        zone = args.get("zone", [b""])[0].decode()
        if zone in ctx.port.zones:
            desk.select_zone(zone)
        vessel = args.get("vessel", [b""])[0].decode()
        if vessel.isdigit():
            desk.select_vessel(int(vessel))
        pn.state.add_periodic_callback(desk.tick, period=REFRESH_MS)
        return desk.layout

    return session
