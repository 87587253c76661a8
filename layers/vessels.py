"""Vessels: hull footprints to scale, oriented by heading, extruded; a readable marker when zoomed out.

Input is the engine's vessel table (columns as in docs/contracts.md §6). The cockpit draws the same
footprint in the browser from live deltas (`dashboards/cockpit/assets/twin.js`, function `hull`);
`hull_polygons` here is the reference the browser test compares it with.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
import pydeck as pdk

from layers import style

M_PER_DEG_LAT = 110_574.0  # WGS84 at ≈21°N; drawing accuracy, not navigation
DEFAULT_LENGTH_M = 60.0
DEFAULT_BEAM_M = 12.0


def hull_polygons(
    lon: np.ndarray, lat: np.ndarray, heading_deg: np.ndarray, length_m: np.ndarray, beam_m: np.ndarray
) -> np.ndarray:
    """Pentagon hull footprints, shape (n, 6, 2) lon/lat, closed; the bow points along the heading.

    Stern corners at ±beam/2, shoulders one beam aft of the bow, bow on the centreline; the AIS
    reference point is taken as mid-ship (the antenna offsets A–D are not in the vessel table).
    """
    h = np.radians(np.nan_to_num(heading_deg, nan=0.0))
    half_l, half_b = length_m / 2.0, beam_m / 2.0
    shoulder = half_l - np.minimum(beam_m, length_m / 3.0)
    # ship frame: x forward, y to starboard
    xs = np.stack([-half_l, shoulder, half_l, shoulder, -half_l, -half_l], axis=1)
    ys = np.stack([-half_b, -half_b, np.zeros_like(half_b), half_b, half_b, -half_b], axis=1)
    sin_h, cos_h = np.sin(h)[:, None], np.cos(h)[:, None]
    east = xs * sin_h + ys * cos_h
    north = xs * cos_h - ys * sin_h
    dlat = north / M_PER_DEG_LAT
    dlon = east / (M_PER_DEG_LAT * np.cos(np.radians(lat))[:, None])
    return np.stack([lon[:, None] + dlon, lat[:, None] + dlat], axis=2)


def vessel_rows(
    vessels: pl.DataFrame, alert_priority: Mapping[int, str] | None = None
) -> list[dict[str, object]]:
    """Rows for the vessel layers: hull polygon, marker radius, colour by phase (or alert priority)."""
    if vessels.is_empty():
        return []
    alert_priority = alert_priority or {}
    v = vessels.with_columns(
        pl.col("length_m").fill_null(DEFAULT_LENGTH_M).clip(lower_bound=5.0),
        pl.col("beam_m").fill_null(DEFAULT_BEAM_M).clip(lower_bound=2.0),
        pl.coalesce("heading_deg", "cog_deg").fill_null(0.0).alias("heading_draw"),
    )
    hulls = hull_polygons(
        v["lon"].to_numpy(),
        v["lat"].to_numpy(),
        v["heading_draw"].to_numpy(),
        v["length_m"].to_numpy(),
        v["beam_m"].to_numpy(),
    )
    rows = []
    for i, rec in enumerate(v.iter_rows(named=True)):
        priority = alert_priority.get(rec["mmsi"])
        colour = (
            style.PRIORITY[priority]
            if priority
            else style.PHASE.get(rec.get("phase") or "", style.PHASE_DEFAULT)
        )
        rows.append(
            {
                "mmsi": rec["mmsi"],
                "name": rec.get("name") or str(rec["mmsi"]),
                "hull": np.round(hulls[i], 6).tolist(),
                "position": [rec["lon"], rec["lat"]],
                "radius": float(rec["length_m"]) / 2.0,
                "height": max(6.0, float(rec["beam_m"]) * 0.6),
                "fill": colour,
                "phase": rec.get("phase"),
                "tooltip": f"{rec.get('name') or ''} MMSI {rec['mmsi']} · {rec.get('ship_class') or ''} · "
                f"{rec.get('sog_kn') or 0:.1f} kn · {rec.get('phase') or ''}",
            }
        )
    return rows


def vessel_layers(vessels: pl.DataFrame, alert_priority: Mapping[int, str] | None = None) -> list[pdk.Layer]:
    """Extruded hull footprints (visible from ~zoom 12) and markers that stay readable zoomed out."""
    rows = vessel_rows(vessels, alert_priority)
    return [
        pdk.Layer(
            "ScatterplotLayer",
            rows,
            id="vessel-markers",
            get_position="position",
            get_radius="radius",
            radius_min_pixels=4.5,
            radius_max_pixels=9,
            get_fill_color="fill",
            stroked=True,
            get_line_color=[10, 20, 30, 255],
            line_width_min_pixels=1,
            pickable=True,
        ),
        pdk.Layer(
            "PolygonLayer",
            rows,
            id="vessels",
            get_polygon="hull",
            get_fill_color="fill",
            extruded=True,
            get_elevation="height",
            pickable=True,
        ),
    ]
