"""The leadership cockpit (Dash): one wall-display screen, read-only, a subscriber of the engine's bus.

`/` is the cockpit with its controls, `/kiosk` the same screen without any control, touring on its own.
The map and KPI tiles are drawn in the browser from the bus (assets/cockpit.js); the plotly charts are
rendered here from `BusSubscriber`'s latest state. The cockpit computes no KPI: every number is the
engine's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import flask
import plotly.graph_objects as go
import polars as pl
import xarray as xr
from dash import Input, Output, State, dcc, html

from dashboards.bus_client import BusSubscriber
from dashboards.i18n import TEXT, t
from layers import deck_spec, port_layers, style
from layers.analysis import alert_layer
from layers.deck import VIEWS
from layers.vessels import vessel_layers
from twin.port import Port

ASSETS = Path(__file__).parent / "assets"


def _deck_bundle() -> Path:
    """deck.gl's standalone bundle as Panel ships it: served locally, no CDN."""
    import panel

    path = Path(panel.__file__).parent / "dist" / "bundled" / "deckglplot" / "deck.gl@9.1.14" / "dist.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: deck.gl bundle not found in the installed panel package")
    return path


def live_layer_specs() -> list[dict[str, Any]]:
    """Specs of the layers the browser fills from the bus (vessels and alerts), data left empty."""
    empty = pl.DataFrame(schema={"mmsi": pl.UInt32, "lon": pl.Float64, "lat": pl.Float64})
    spec = deck_spec([*vessel_layers(empty), alert_layer([])])
    for layer in spec["layers"]:
        layer.pop("data", None)
    return list(spec["layers"])


def cockpit_config(
    bus_url: str, *, lang: str, tour: bool, tour_period_s: float, stale_after_s: float
) -> dict[str, Any]:
    return {
        "bus_url": bus_url,
        "lang": lang,
        "tour": tour,
        "tour_period_s": tour_period_s,
        "stale_after_s": stale_after_s,
        "views": VIEWS,
        "background": style.BACKGROUND,
        "phase_colours": style.PHASE,
        "phase_default": style.PHASE_DEFAULT,
        "priority_colours": style.PRIORITY,
        "live_layers": live_layer_specs(),
        "texts": {lang_: {k: v[lang_] for k, v in TEXT.items()} for lang_ in ("zh", "en")},
    }


def _css(rgba: list[int]) -> str:
    return f"rgba({rgba[0]},{rgba[1]},{rgba[2]},{rgba[3] / 255:.2f})"


def _empty_figure(title: str, note: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, showarrow=False, font={"color": "#8aa0b6", "size": 14})
    fig = _style(fig, title)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _style(fig: go.Figure, title: str, scale: float = 1.0) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        template="plotly_dark",
        paper_bgcolor="#111d2c",
        plot_bgcolor="#111d2c",
        margin={"l": 40, "r": 10, "t": 36, "b": 30},
        legend={"orientation": "h", "y": -0.15, "font": {"size": 10}},
        font={"size": 11},
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#1f3347")
    return fig


def chart_figures(
    charts: dict[str, Any], lang: str, connected: bool, scale: float = 1.0
) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The three cockpit charts from the engine's `charts` part (docs/protocol.md); `scale`
    enlarges their text for screens wider than 1920 px (2.0 on a 3840 px wall)."""
    waiting = t("connecting" if not connected else "no_data", lang) if not charts else ""
    tp = charts.get("throughput_by_hour")
    if tp and tp.get("hours") and any(any(v for v in values) for values in tp.get("series", {}).values()):
        fig1 = go.Figure(
            [
                go.Bar(
                    x=tp["hours"],
                    y=values,
                    name=t(f"cargo_{cargo}", lang) if f"cargo_{cargo}" in TEXT else cargo,
                    marker_color=_css(style.CARGO.get(cargo, [150, 150, 150, 255])),
                )
                for cargo, values in tp["series"].items()
            ]
        )
        fig1.update_layout(barmode="stack")
        fig1 = _style(fig1, t("chart_throughput", lang) + (" (t)" if lang == "en" else "（吨）"))
    else:
        fig1 = _empty_figure(t("chart_throughput", lang), waiting or "—")
    cs = charts.get("customs_stage_hours")
    if cs and cs.get("stages") and any(v is not None for vs in cs.get("by_channel", {}).values() for v in vs):
        fig2 = go.Figure(
            [
                go.Bar(
                    x=[
                        t(f"stage_{stage}", lang) if f"stage_{stage}" in TEXT else stage
                        for stage in cs["stages"]
                    ],
                    y=values,
                    name=channel,
                    marker_color={"green": "#3ddc84", "yellow": "#ffd000", "red": "#ff3c28"}.get(channel),
                )
                for channel, values in cs["by_channel"].items()
            ]
        )
        fig2.update_layout(barmode="group")
        fig2 = _style(
            fig2, t("chart_customs", lang) + (" (h, median)" if lang == "en" else "（小时，中位数）")
        )
    else:
        fig2 = _empty_figure(t("chart_customs", lang), waiting or "—")
    wt = charts.get("waiting_hours")
    if wt:
        fig3 = go.Figure([go.Histogram(x=wt, nbinsx=24, marker_color="#ffb000")])
        fig3 = _style(fig3, t("chart_waiting", lang) + (" (h)" if lang == "en" else "（小时）"))
    else:
        fig3 = _empty_figure(t("chart_waiting", lang), waiting or "—")
    for fig in (fig1, fig2, fig3):
        fig.update_layout(font_size=11 * scale, title_font_size=15 * scale, legend_font_size=10 * scale,
                          margin={"l": 40 * scale, "r": 10 * scale, "t": 36 * scale, "b": 30 * scale})
    return fig1, fig2, fig3


def _data(**attrs: str) -> Any:
    """HTML data-* attributes (the page script reads them); Dash's typing does not know them."""
    return {f"data-{key}": value for key, value in attrs.items()}


def _layout(lang: str, chart_period_s: float) -> html.Div:
    graph: Any = {"displayModeBar": False, "responsive": True}
    return html.Div(
        id="cockpit",
        children=[
            html.Div(
                id="header",
                children=[
                    html.H1(t("title", lang), **_data(i18n="title")),
                    html.Span(id="conn-status", className="conn wait", children=t("connecting", lang)),
                    html.Span(id="clock"),
                    html.Button(t("tour_off", lang), id="tour-button", className="ctl"),
                    html.Button(
                        t("lang_switch", lang),
                        id="lang-button",
                        className="ctl",
                        n_clicks=0,
                        **_data(i18n="lang_switch"),
                    ),
                ],
            ),
            html.Div(id="kpi-tiles"),
            html.Div(
                id="map-panel",
                children=[
                    html.Div(id="twin-map"),
                    html.Div(id="view-label", children=t("view_overview", lang)),
                    html.Div(
                        id="view-buttons",
                        children=[
                            html.Button(
                                t(f"view_{name}", lang),
                                className="ctl",
                                **_data(view=name, i18n=f"view_{name}"),
                            )
                            for name in VIEWS
                        ],
                    ),
                ],
            ),
            html.Div(
                id="charts",
                children=[
                    dcc.Graph(
                        id="chart-throughput", className="chart", config=graph, style={"height": "100%"}
                    ),
                    dcc.Graph(id="chart-customs", className="chart", config=graph, style={"height": "100%"}),
                    dcc.Graph(id="chart-waiting", className="chart", config=graph, style={"height": "100%"}),
                ],
            ),
            html.Div(id="alert-ticker"),
            dcc.Store(id="lang", data=lang),
            dcc.Store(id="viewport-width"),
            dcc.Interval(id="chart-tick", interval=int(chart_period_s * 1000)),
        ],
    )


def create_app(
    port: Port,
    bus_url: str,
    *,
    depth: xr.DataArray | None = None,
    lang: str = "zh",
    tour: bool = False,
    tour_period_s: float = 20.0,
    stale_after_s: float = 15.0,
    chart_period_s: float = 10.0,
    subscriber: BusSubscriber | None = None,
) -> dash.Dash:
    """The cockpit for `port`, following the bus at `bus_url` (ws://…/stream)."""
    deck_js = _deck_bundle()
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="湛江港数字孪生 · Zhanjiang Port Twin",
        external_scripts=["/vendor/deck.gl.min.js"],
        update_title=None,  # type: ignore[arg-type]  # None turns the "Updating..." title off
        serve_locally=True,
    )
    config = cockpit_config(
        bus_url, lang=lang, tour=tour, tour_period_s=tour_period_s, stale_after_s=stale_after_s
    )
    port_spec = json.dumps(deck_spec(port_layers(port, depth)), separators=(",", ":"))
    subscriber = subscriber or BusSubscriber(bus_url).start()
    server: flask.Flask = app.server

    @server.route("/vendor/deck.gl.min.js")
    def _deck() -> flask.Response:
        return flask.send_file(deck_js, mimetype="application/javascript", max_age=3600)

    @server.route("/api/port-spec.json")
    def _spec() -> flask.Response:
        return flask.Response(port_spec, mimetype="application/json")

    @server.route("/api/cockpit-config.json")
    def _config() -> flask.Response:
        kiosk = flask.request.args.get("kiosk") == "1"
        body = {**config, "tour": config["tour"] or kiosk}
        return flask.Response(json.dumps(body), mimetype="application/json")

    @server.route("/health")
    def _health() -> flask.Response:
        return flask.jsonify(
            {
                "service": "cockpit",
                "bus_connected": subscriber.connected,
                "seconds_since_bus_message": round(subscriber.seconds_since_message(), 1),
            }
        )

    app.layout = lambda: _layout(lang, chart_period_s)

    @app.callback(
        Output("lang", "data"),
        Input("lang-button", "n_clicks"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def _toggle_lang(_clicks: int, current: str) -> str:
        return "en" if current == "zh" else "zh"

    app.clientside_callback(
        "function(lang) { if (window.__twinSetLang && window.__twin.config) { window.__twinSetLang(lang); }"
        " return window.dash_clientside.no_update; }",
        Output("lang-button", "title"),
        Input("lang", "data"),
    )

    app.clientside_callback(  # the screen's width, so the server sizes chart text for a 4K wall
        "function(_n, known) { const w = window.innerWidth;"
        " return w === known ? window.dash_clientside.no_update : w; }",
        Output("viewport-width", "data"),
        Input("chart-tick", "n_intervals"),
        State("viewport-width", "data"),
    )

    @app.callback(
        Output("chart-throughput", "figure"),
        Output("chart-customs", "figure"),
        Output("chart-waiting", "figure"),
        Input("chart-tick", "n_intervals"),
        Input("lang", "data"),
        Input("viewport-width", "data"),
    )
    def _charts(_n: int | None, lang_now: str, width: int | None) -> tuple[go.Figure, go.Figure, go.Figure]:
        latest = subscriber.latest()
        scale = max(1.0, (width or 1920) / 1920)
        return chart_figures(latest.get("charts") or {}, lang_now, subscriber.connected, scale)

    return app
