"""The planner's two 3D maps as deck specs: the port of each side, its UKC cells, the difference columns.

Panel mangles nested-list columns given as records (shared/reference/ui.md §3), so every layer's
`data` is a pandas DataFrame and the spec carries `"mapStyle": None`. The cell layers use flat
columns (`lon`, `lat`, `r`, `g`, `b`, `a`) with array expressions (`@@=[lon, lat]`), which Bokeh sends
as binary arrays. Bathymetry as a BitmapLayer fails in Panel (docs/ops.md), so depth shows through
the UKC cells and the channel's design-depth colours.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import polars as pl

from layers import deck_spec, port_layers, style
from twin.port import Port

UKC_ID = "ukc-cells"
DIFF_ID = "ukc-difference"
CLOSED_ID = "closed-berths"
CLOSED_MARK_ID = "closed-berth-marks"
CELL_SIZE_M = 200.0  # the bathymetry grid's spacing (0.0019° lon × 0.0018° lat ≈ 197 × 200 m)
ELEVATION_PER_M = 800.0  # difference columns: metres of column per metre of UKC gained or lost
GAIN: style.RGBA = [0, 229, 255, 235]
LOSS: style.RGBA = [255, 64, 170, 235]
CLASS_NAMES = {0: "safe", 1: "marginal", 2: "no_go"}
CLASS_TEXT = {0: "safe / 安全", 1: "marginal / 临界", 2: "no-go / 禁航"}
# the whole channel, from the pilot station (K0, south-east) to the Xiashan berths (north-west)
VIEW = {"longitude": 110.66, "latitude": 21.07, "zoom": 9.6, "pitch": 40.0, "bearing": 0.0, "maxPitch": 60}


def _tagged(frame: pd.DataFrame, layer_id: str) -> pd.DataFrame:
    # Panel matches a layer to its data source by the set of column names: a constant column named
    # after the layer keeps two layers with the same columns from swapping sources on an update.
    return frame.assign(**{f"_layer_{layer_id}": 0})


def port_frames(port: Port) -> list[dict[str, Any]]:
    """The fixed port's layers (layers.port_layers, no bathymetry) with DataFrame data."""
    out = []
    for layer in deck_spec(port_layers(port, None))["layers"]:
        data = layer.get("data")
        if isinstance(data, list):
            frame = pd.DataFrame.from_records(data) if data else pd.DataFrame({"tooltip": []})
            layer = {**layer, "data": _tagged(frame, str(layer["id"]))}
        out.append(layer)
    return out


def _cell_columns(cells: pl.DataFrame, fills: list[style.RGBA]) -> dict[str, Any]:
    # the flat columns a cell layer's `@@=[lon, lat]` and `@@=[r, g, b, a]` read (module docstring)
    return {
        "lon": cells["lon"].round(5).to_numpy(),
        "lat": cells["lat"].round(5).to_numpy(),
        "r": [f[0] for f in fills],
        "g": [f[1] for f in fills],
        "b": [f[2] for f in fills],
        "a": [f[3] for f in fills],
    }


def ukc_frame(cells: pl.DataFrame) -> pd.DataFrame:
    """Rows of the UKC cell layer from the store's cells (lon, lat, net_ukc_m, ukc_class)."""
    colours = {code: style.UKC_CLASS[name] for code, name in CLASS_NAMES.items()}
    codes = cells["ukc_class"].to_list()
    fills = [colours.get(int(c), [90, 90, 90, 120]) for c in codes]
    return pd.DataFrame(
        {
            **_cell_columns(cells, fills),
            "tooltip": [
                f"net UKC {u:+.2f} m · {CLASS_TEXT.get(int(c), '–')}"
                for u, c in zip(cells["net_ukc_m"].to_list(), codes, strict=True)
            ],
        }
    )


def difference_frame(cells: pl.DataFrame) -> pd.DataFrame:
    """Rows of the difference columns from the store's cells (lon, lat, gain_m)."""
    gains = cells["gain_m"].to_list()
    fills = [GAIN if g > 0 else LOSS for g in gains]
    return pd.DataFrame(
        {
            **_cell_columns(cells, fills),
            "elevation": [abs(g) * ELEVATION_PER_M for g in gains],
            "tooltip": [
                f"UKC {'gain' if g > 0 else 'loss'} / 富余水深{'增加' if g > 0 else '减少'} {g:+.2f} m"
                for g in gains
            ],
        }
    )


def closed_frame(port: Port) -> pd.DataFrame:
    """Pockets of the berths a scenario closes (status "closed"), as rings."""
    rings, tips, lon, lat = [], [], [], []
    for b in port.berths.values():
        if b.status == "closed":
            rings.append([[round(x, 6), round(y, 6)] for x, y in b.pocket.exterior.coords])
            tips.append(f"{b.name_zh} / {b.name_en}: closed / 关闭")
            lon.append(round(b.pocket.centroid.x, 6))
            lat.append(round(b.pocket.centroid.y, 6))
    return pd.DataFrame({"polygon": rings, "lon": lon, "lat": lat, "tooltip": tips})


def _cell_layer(layer_id: str, frame: pd.DataFrame, *, extruded: bool) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "@@type": "GridCellLayer",
        "id": layer_id,
        "data": _tagged(frame, layer_id),
        "getPosition": "@@=[lon, lat]",
        "getFillColor": "@@=[r, g, b, a]",
        "cellSize": CELL_SIZE_M,
        "extruded": extruded,
        "pickable": True,
    }
    if extruded:
        layer["getElevation"] = "@@=elevation"
    else:
        layer["getElevation"] = 0
    return layer


def side_spec(
    fixed: list[dict[str, Any]],
    ukc: pd.DataFrame,
    *,
    difference: pd.DataFrame | None = None,
    closed: pd.DataFrame | None = None,
    view_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One side's deck: its port, UKC cells above the water, closed berths, the difference columns."""
    layers = list(fixed[:1])  # land first, then the cells, then the rest of the port on top
    layers.append(_cell_layer(UKC_ID, ukc, extruded=False))
    layers += fixed[1:]
    if closed is not None and len(closed):
        layers.append(
            {
                "@@type": "PolygonLayer",
                "id": CLOSED_ID,
                "data": _tagged(closed, CLOSED_ID),
                "getPolygon": "@@=polygon",
                "filled": True,
                "getFillColor": [235, 40, 40, 120],
                "stroked": True,
                "getLineColor": [255, 80, 80, 255],
                "lineWidthMinPixels": 3,
                "pickable": True,
            }
        )
        # a ring that stays visible at the overview zoom, where a 400 m pocket is a pixel or two
        marker = closed.drop(columns=["polygon"])
        layers.append(
            {
                "@@type": "ScatterplotLayer",
                "id": CLOSED_MARK_ID,
                "data": _tagged(marker, CLOSED_MARK_ID),
                "getPosition": "@@=[lon, lat]",
                "getRadius": 300,
                "radiusMinPixels": 9,
                "filled": False,
                "stroked": True,
                "getLineColor": [255, 60, 60, 255],
                "lineWidthMinPixels": 3,
                "pickable": True,
            }
        )
    if difference is not None and len(difference):
        layers.append(_cell_layer(DIFF_ID, difference, extruded=True))
    return {
        "initialViewState": dict(view_state or VIEW),
        "views": [{"@@type": "MapView", "controller": True}],
        "mapStyle": None,
        "layers": layers,
    }


def records_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The same spec with every DataFrame as a list of records (for the offline HTML report)."""
    out = []
    for layer in spec["layers"]:
        data = layer.get("data")
        if isinstance(data, pd.DataFrame):
            cols = [c for c in data.columns if not str(c).startswith("_layer_")]
            layer = {**layer, "data": json.loads(data[cols].to_json(orient="records", double_precision=6))}
        out.append(layer)
    return {**spec, "layers": out}
