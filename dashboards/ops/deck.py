"""The desk's 3D map as a Panel DeckGL dict spec, drawn with the shared `layers` functions.

Panel mangles nested-list columns given as records (shared/reference/ui.md §3), so every layer's
`data` goes in as a pandas DataFrame, and the spec carries `"mapStyle": None`. The fixed port is
converted once per server; per update only the vessel frames (shared by all sessions, cached by
store version) and the session's own highlight change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pydeck as pdk
import shapely
import xarray as xr

from layers import deck_spec, port_layers, vessel_layers
from layers.port_layers import depth_colours
from layers.vessels import vessel_rows
from twin.port import Port

VESSEL_LAYER_IDS = ("vessel-markers", "vessels")
HIGHLIGHT_ID = "zone-highlight"
TRACK_ID = "vessel-track"
VESSEL_SCHEMA: dict[str, pl.DataType] = {
    "mmsi": pl.Int64(),
    "name": pl.String(),
    "ship_class": pl.String(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "sog_kn": pl.Float64(),
    "cog_deg": pl.Float64(),
    "heading_deg": pl.Float64(),
    "length_m": pl.Float64(),
    "beam_m": pl.Float64(),
    "draught_m": pl.Float64(),
    "phase": pl.String(),
    "zone_id": pl.String(),
}


def _tagged(frame: pd.DataFrame, layer_id: str) -> pd.DataFrame:
    """`frame` with a constant column naming its layer.

    Panel matches a layer to its existing ColumnDataSource by the set of column names; two layers
    with the same columns (land and the zone outline, berths and terminal blocks, the two vessel
    layers) would swap sources on every update and re-send whole polygon columns to the browser.
    """
    return frame.assign(**{f"_layer_{layer_id}": 0})


def _as_frame(layer: dict[str, Any]) -> dict[str, Any]:
    data = layer.get("data")
    if isinstance(data, list):
        frame = pd.DataFrame.from_records(data) if data else pd.DataFrame()
        layer = {**layer, "data": _tagged(frame, str(layer["id"]))}
    return layer


def _layer_json(layers: Sequence[pdk.Layer]) -> list[dict[str, Any]]:
    return [_as_frame(layer) for layer in deck_spec(layers)["layers"]]


def vessel_frame(vessels: Mapping[int, Mapping[str, Any]]) -> pl.DataFrame:
    """The engine's vessel rows as the frame `layers.vessel_layers` takes (positionless rows dropped)."""
    rows = [{k: v.get(k) for k in VESSEL_SCHEMA} for v in vessels.values()]
    frame = pl.DataFrame(rows, schema=VESSEL_SCHEMA) if rows else pl.DataFrame(schema=VESSEL_SCHEMA)
    return frame.drop_nulls(["lon", "lat"])


DEPTH_GRID_ID = "bathymetry-grid"
DEPTH_CELLS = 5  # source cells (≈200 m) per grid cell side: ≈1 km squares, a few thousand polygons


def depth_grid_layer(depth: xr.DataArray, cells: int = DEPTH_CELLS) -> dict[str, Any]:
    """Bathymetry as a flat layer of ≈1 km squares coloured like `layers.bathymetry_layer`.

    `depth` (lat, lon; metres below chart datum, NaN on land) is averaged over `cells`×`cells`
    blocks; a block with no water is left out. Each square is a polygon row of a DataFrame, the form
    Panel's DeckGL carries intact (shared/reference/ui.md §3), not pickable.
    """
    grid = depth.transpose("lat", "lon")
    # NaN (land) is skipped: a block with any water shows water; the land layer covers the coast
    coarse = grid.coarsen(lat=cells, lon=cells, boundary="trim").mean()
    values = coarse.to_numpy().astype(float)
    lon, lat = coarse["lon"].to_numpy(), coarse["lat"].to_numpy()
    half_x = float(np.diff(grid["lon"].to_numpy()).mean()) * cells / 2
    half_y = float(np.diff(grid["lat"].to_numpy()).mean()) * cells / 2
    colours = depth_colours(values)
    rows_j, cols_i = np.nonzero(~np.isnan(values))
    polygons = [
        [
            [round(lon[i] - half_x, 5), round(lat[j] - half_y, 5)],
            [round(lon[i] + half_x, 5), round(lat[j] - half_y, 5)],
            [round(lon[i] + half_x, 5), round(lat[j] + half_y, 5)],
            [round(lon[i] - half_x, 5), round(lat[j] + half_y, 5)],
        ]
        for j, i in zip(rows_j, cols_i, strict=True)
    ]
    fills = [[int(c) for c in colours[j, i]] for j, i in zip(rows_j, cols_i, strict=True)]
    frame = pd.DataFrame({"polygon": polygons, "fill": fills, "depth_m": values[rows_j, cols_i].round(1)})
    return {
        "@@type": "SolidPolygonLayer",
        "id": DEPTH_GRID_ID,
        "data": _tagged(frame, DEPTH_GRID_ID),
        "getPolygon": "@@=polygon",
        "getFillColor": "@@=fill",
        "filled": True,
        "extruded": False,
        "pickable": False,
    }


class DeckBuilder:
    """Builds the desk's deck spec: fixed port layers once, vessel layers per store version."""

    def __init__(self, port: Port, depth: xr.DataArray | None = None, view: str = "overview") -> None:
        self.port = port
        # The bathymetry bitmap (layers.bathymetry_layer) cannot be used: Panel's deck.gl JSON
        # converter reads its data-URL image as an expression ("Unexpected ':'") and the whole deck
        # fails to render. The depth goes in as a coarse grid of polygons instead (below).
        base = deck_spec(port_layers(port, None), view)
        base["initialViewState"] = {**base["initialViewState"], "maxPitch": 60}
        self._base = {k: v for k, v in base.items() if k != "layers"}
        self._port_layers = [_as_frame(layer) for layer in base["layers"]]
        if depth is not None:
            self._port_layers.insert(0, depth_grid_layer(depth))
        # Props of the vessel layers once (from pydeck, camelCase); their data is replaced per update.
        dummy = pl.DataFrame(
            [{k: None for k in VESSEL_SCHEMA} | {"mmsi": 1, "lon": 110.4, "lat": 21.1}], schema=VESSEL_SCHEMA
        )
        self._vessel_templates = _layer_json(vessel_layers(dummy))
        self._vessel_version = -1
        self._vessel_data: pd.DataFrame = pd.DataFrame()

    def port_layer_data(self, layer_id: str) -> pd.DataFrame | None:
        """The data frame of a fixed port layer (to resolve a click's row index to a feature id)."""
        for layer in self._port_layers:
            if layer.get("id") == layer_id:
                return layer.get("data")
        return None

    def vessel_data(self, version: int, vessels: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
        """Rows of the vessel layers for a store version (cached: one build serves every session)."""
        if version != self._vessel_version:
            self._vessel_data = self.rows_frame(vessels)
            self._vessel_version = version
        return self._vessel_data

    @staticmethod
    def rows_frame(vessels: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
        """Rows of the vessel layers for any vessel table, uncached (a session's replayed port)."""
        rows = vessel_rows(vessel_frame(vessels))
        if rows:
            return pd.DataFrame.from_records(rows)
        return pd.DataFrame({"mmsi": [], "hull": [], "position": [], "radius": [], "height": [], "fill": []})

    def spec(
        self,
        vessels: pd.DataFrame,
        zone_area: shapely.Polygon | shapely.MultiPolygon | None = None,
        track: pd.DataFrame | None = None,
    ) -> dict[str, Any]:
        """A full spec: the port, the selected zone's outline, a vessel track, the vessels on top."""
        layers = list(self._port_layers)
        if zone_area is not None:
            polys = zone_area.geoms if isinstance(zone_area, shapely.MultiPolygon) else [zone_area]
            rings = [[[round(x, 6), round(y, 6)] for x, y in p.exterior.coords] for p in polys]
            layers.append(
                {
                    "@@type": "PolygonLayer",
                    "id": HIGHLIGHT_ID,
                    "data": _tagged(pd.DataFrame({"polygon": rings}), HIGHLIGHT_ID),
                    "getPolygon": "@@=polygon",
                    "filled": True,
                    "getFillColor": [255, 255, 255, 35],
                    "stroked": True,
                    "getLineColor": [255, 255, 255, 255],
                    "lineWidthMinPixels": 3,
                    "pickable": False,
                }
            )
        if track is not None and len(track):
            layers.append(
                {
                    "@@type": "PathLayer",
                    "id": TRACK_ID,
                    "data": _tagged(track, TRACK_ID),
                    "getPath": "@@=path",
                    "getColor": [255, 80, 200, 255],
                    "widthMinPixels": 3,
                    "pickable": False,
                }
            )
        layers += [{**tpl, "data": _tagged(vessels, str(tpl["id"]))} for tpl in self._vessel_templates]
        return {**json.loads(json.dumps(self._base)), "layers": layers}
