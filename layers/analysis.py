"""Analysis layers: keel clearance for a chosen vessel, H3 hexes of density or dwell, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import h3
import numpy as np
import polars as pl
import pydeck as pdk
import xarray as xr

from layers import style
from twin.ukc import UKC_CLASS

# twin.ukc class codes (IHO S-129 sense): 0 safe, 1 marginal, 2 no-go, -1 no data
UKC_CLASS_CODES = {code: status.replace("-", "_") for status, code in UKC_CLASS.items() if code >= 0}


def ukc_layer(ukc_class: xr.DataArray, *, cell_size_m: float = 200.0) -> pdk.Layer:
    """Cells of a UKC class grid (dims lat, lon): `twin.ukc` class codes or names.

    Cells with no class (code −1, NaN: land or outside the computed area) are left out.
    """
    grid = ukc_class.transpose("lat", "lon")
    values = grid.to_numpy()
    lat2, lon2 = np.meshgrid(grid["lat"].to_numpy(), grid["lon"].to_numpy(), indexing="ij")
    data = []
    for r, c in zip(*np.nonzero(_has_class(values)), strict=True):
        value = values[r, c]
        name = UKC_CLASS_CODES[int(value)] if not isinstance(value, str) else str(value).replace("-", "_")
        data.append(
            {
                "position": [float(lon2[r, c]), float(lat2[r, c])],
                "fill": style.UKC_CLASS[name],
                "ukc_class": name,
            }
        )
    return pdk.Layer(
        "GridCellLayer",
        data,
        id="ukc",
        get_position="position",
        cell_size=cell_size_m,
        get_fill_color="fill",
        extruded=False,
        pickable=True,
    )


def _has_class(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "fc":
        return ~np.isnan(values) & (values >= 0)
    if values.dtype.kind in "iu":
        return values >= 0
    return np.array([[v not in (None, "", "nan") for v in row] for row in values], dtype=bool)


def h3_layer(
    positions: pl.DataFrame, *, resolution: int = 8, value: str = "count", elevation_scale: float = 4.0
) -> pdk.Layer:
    """H3 hexes aggregating positions (lon, lat; optional dwell_h) into counts or summed dwell hours.

    `value="count"` gives report density, `value="dwell_h"` the hours spent per hex.
    """
    if positions.is_empty():
        cells = pl.DataFrame({"hex": [], "value": []}, schema={"hex": pl.String, "value": pl.Float64})
    else:
        hexes = [
            h3.latlng_to_cell(lat, lon, resolution)
            for lon, lat in zip(positions["lon"].to_list(), positions["lat"].to_list(), strict=True)
        ]
        frame = positions.with_columns(pl.Series("hex", hexes))
        agg = pl.len().cast(pl.Float64) if value == "count" else pl.col(value).sum().cast(pl.Float64)
        cells = frame.group_by("hex").agg(agg.alias("value")).sort("hex")
    top = max([float(v) for v in cells["value"].to_list()] or [1.0])
    data = [
        {
            "hex": row["hex"],
            "value": row["value"],
            "fill": style.ramp(row["value"], 0, top, [30, 90, 200, 120], [255, 80, 40, 220]),
        }
        for row in cells.iter_rows(named=True)
    ]
    return pdk.Layer(
        "H3HexagonLayer",
        data,
        id=f"h3-{value}",
        get_hexagon="hex",
        get_fill_color="fill",
        get_elevation="value",
        elevation_scale=elevation_scale,
        extruded=True,
        pickable=True,
    )


def alert_layer(alerts: Sequence[dict[str, Any]]) -> pdk.Layer:
    """Open alerts as rings by priority; the cockpit animates their radius (pulsing)."""
    data = [
        {
            "id": a["id"],
            "position": [a["lon"], a["lat"]],
            "priority": a["priority"],
            "fill": style.PRIORITY.get(a["priority"], style.PRIORITY["caution"]),
            "tooltip": f"{a.get('text_zh', '')} / {a.get('text_en', '')}",
        }
        for a in alerts
        if a.get("lon") is not None and a.get("lat") is not None
    ]
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        id="alerts",
        get_position="position",
        get_radius=400,
        radius_min_pixels=8,
        filled=False,
        stroked=True,
        get_line_color="fill",
        line_width_min_pixels=3,
        pickable=True,
    )
