"""The planner's comparison as one self-contained offline HTML file.

deck.gl and h3-js are inlined (dashboards.export.deck_scripts), the two maps' data sit in the page,
charts are inline SVG (dashboards.planner.views): the file opens anywhere with no server and fetches
nothing. The two maps' cameras are linked as on the screen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dashboards.export import deck_scripts
from dashboards.planner.i18n import t
from dashboards.planner.views import (
    CSS,
    KpiRow,
    delta_chart,
    esc,
    kpi_table,
    scenario_text,
    windows_chart,
    windows_table,
)
from layers.style import BACKGROUND
from twin.scenario import Scenario

# `@@=field` reads a field of the row; `@@=[a, b]` builds an array of fields (the specs' two forms)
_MOUNT_JS = """
function plannerLayer(spec) {
  const props = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === "@@type") continue;
    if (typeof value === "string" && value.startsWith("@@=")) {
      const expr = value.slice(3).trim();
      if (expr.startsWith("[")) {
        const fields = expr.slice(1, -1).split(",").map((f) => f.trim());
        props[key] = (d) => fields.map((f) => d[f]);
      } else {
        props[key] = key.startsWith("get") ? (d) => d[expr] : expr;
      }
    } else {
      props[key] = value;
    }
  }
  return new deck[spec["@@type"]](props);
}
function plannerMount(specs) {
  let view = specs.base.initialViewState;
  const decks = [];
  const sync = ({viewState}) => { view = viewState; decks.forEach((d) => d.setProps({viewState: view})); };
  for (const [id, spec] of [["map-base", specs.base], ["map-scen", specs.scen]]) {
    decks.push(new deck.Deck({parent: document.getElementById(id), controller: true, viewState: view,
      onViewStateChange: sync, layers: spec.layers.map(plannerLayer),
      getTooltip: ({object}) => object && object.tooltip ? {text: object.tooltip} : null,
      onAfterRender: () => { window.__rendered = (window.__rendered || 0) + 1; }}));
  }
  window.__decks = decks;
}
"""


def report_html(
    *,
    lang: str,
    scenario: Scenario,
    base_spec: Mapping[str, Any],
    scen_spec: Mapping[str, Any],
    ukc_time: str,
    vessel_text: str,
    rule_text: str,
    windows: Sequence[Mapping[str, Any]] | None,
    rows: Sequence[KpiRow],
    sim_text: str,
) -> str:
    """One HTML page: scenario, both maps (records specs from deck.records_spec), windows, KPI deltas."""
    specs = json.dumps({"base": base_spec, "scen": scen_spec}, separators=(",", ":"), ensure_ascii=False)
    specs = specs.replace("</", "<\\/")
    title = f"{t('report_title', lang)} · {scenario.name}"
    windows_part = (
        (windows_table(windows, lang) + windows_chart(windows, lang))
        if windows
        else (f"<p class='note'>{esc(t('computing', lang))}</p>")
    )
    kpi_part = (
        (kpi_table(rows, lang) + delta_chart(rows, lang))
        if rows
        else (f"<p class='note'>{esc(t('no_result', lang))}</p>")
    )
    css = CSS.replace(":host, div", "body, div")
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>{css}
body{{margin:0;background:{BACKGROUND};font-family:sans-serif;padding:10px 14px}}
h1{{font-size:20px;margin:4px 0}} .maps{{display:flex;gap:8px}} .map{{flex:1;position:relative;height:520px;
border:1px solid #2a3a4c}} .cap{{position:absolute;left:8px;top:6px;z-index:2;background:rgba(11,20,32,.8);
padding:3px 8px;border-radius:3px}} .cols{{display:flex;gap:18px;flex-wrap:wrap}}
.cols>div{{flex:1;min-width:420px}}
</style>
{deck_scripts()}</head><body>
<h1 data-testid="report-title">{esc(title)}</h1>
<p class="note">{esc(t("report_offline", lang))} {esc(t("ukc_at", lang))}: {esc(ukc_time)} ·
{esc(vessel_text)} · {esc(rule_text)}</p>
<div class="maps"><div class="map" id="map-base"><div class="cap">{esc(t("baseline", lang))}</div></div>
<div class="map" id="map-scen"><div class="cap">{esc(t("scenario_short", lang))}: {esc(scenario.name)}</div>
</div></div>
<p class="note">{esc(t("map_note", lang))}</p>
<div class="cols"><div>{scenario_text(scenario, lang)}
<h3>{esc(t("windows_title", lang))}</h3>{windows_part}</div>
<div><h3>{esc(t("kpi_title", lang))}</h3><p class="note">{esc(sim_text)}</p>{kpi_part}
<p class="note">{esc(t("tide_note", lang))}</p></div></div>
<script>{_MOUNT_JS}
plannerMount({specs});
</script></body></html>
"""
