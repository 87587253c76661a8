"""Build the bundled bathymetry grid (CF NetCDF, depth below chart datum, metres, positive down).

No public survey resolves Zhanjiang's dredged channel (GEBCO/ETOPO are ~460 m cells), so the
grid is a documented model: a natural depth that grows with distance from the real coastline
(tidal flats near the shore, a deep natural trough along the inner channel, the shelf outside),
with the officially published design depths burnt in for the channel (S1, S3), estimated design
depths for berth pockets and dredged approaches, and the Q4-2025 surveyed shoal (S1). A
`source_flag` variable says, cell by cell, which of these the value comes from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import xarray as xr
from scipy import ndimage

from geodata import zhanjiang_facts as F
from twin.port import LocalMetric

LON_STEP = 0.0019  # ≈197 m at 21.1°N
LAT_STEP = 0.0018  # ≈199 m
FLAG_MEANINGS = (
    "land natural_estimate design_depth_official berth_pocket_estimate survey_official "
    "dredged_approach_estimate"
)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    lon = np.round(np.arange(110.0 + LON_STEP / 2, 111.0, LON_STEP), 6)
    lat = np.round(np.arange(20.7 + LAT_STEP / 2, 21.4, LAT_STEP), 6)
    return lon, lat


def natural_depth(dist_coast_m: np.ndarray, dist_axis_m: np.ndarray) -> np.ndarray:
    """Estimated natural depth (m below CD) from distances to the coast and the channel axis.

    −1 m at the waterline (flats that dry at lowest tide), 11 m more within a few km, the shelf
    rising to ≈25 m some 30 km offshore, plus a natural trough of up to 14 m along the inner
    channel (the bay's tidal scour, S10: "mouth depths uneven, locally steep"; S7 anchorage strip
    15–35 m). Fitted by eye to those published figures: an estimate, not a survey.
    """
    flats = -1.0 + 12.0 * (1.0 - np.exp(-dist_coast_m / 1500.0))
    shelf = 14.0 * (1.0 - np.exp(-dist_coast_m / 12000.0))
    trough = 14.0 * np.exp(-((dist_axis_m / 2500.0) ** 2))
    return flats + shelf + trough


def _mask(geom: Any, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    shapely.prepare(geom)
    return np.asarray(shapely.contains_xy(geom, lon2, lat2))


def _touching_cells(geom: Any, lon: np.ndarray, lat: np.ndarray) -> list[tuple[int, int]]:
    """(row, col) of every cell whose box intersects `geom` (lon/lat)."""
    x0, y0, x1, y1 = geom.bounds
    cols = np.nonzero((lon + LON_STEP / 2 >= x0) & (lon - LON_STEP / 2 <= x1))[0]
    rows = np.nonzero((lat + LAT_STEP / 2 >= y0) & (lat - LAT_STEP / 2 <= y1))[0]
    cells = []
    for r in rows:
        for c in cols:
            box = shapely.box(lon[c] - LON_STEP / 2, lat[r] - LAT_STEP / 2,
                              lon[c] + LON_STEP / 2, lat[r] + LAT_STEP / 2)
            if box.intersects(geom):
                cells.append((int(r), int(c)))
    return cells


def build_bathymetry(out_dir: Path, land: Any, channel: list[dict[str, Any]],
                     pockets: list[dict[str, Any]], shoals: list[dict[str, Any]],
                     anchorages: list[dict[str, Any]], metric: LocalMetric) -> xr.Dataset:
    """Write `bathymetry.nc` into out_dir and return it; sets anchorage depth_m from the grid."""
    lon, lat = _grid()
    lon2, lat2 = np.meshgrid(lon, lat)
    is_land = _mask(land, lon2, lat2)
    dy = LAT_STEP * 111_200.0
    dx = LON_STEP * 111_320.0 * np.cos(np.radians(21.05))
    dist_coast = ndimage.distance_transform_edt(~is_land, sampling=(dy, dx))
    inner_axis = shapely.LineString([F.K40_29[1:], F.MOUTH, *F.INNER_WAYPOINTS])
    x, y = metric.xy(lon2.ravel(), lat2.ravel())
    axis_m = metric.to_m(inner_axis)
    dist_axis = shapely.distance(shapely.points(x, y), axis_m).reshape(lon2.shape)

    depth = natural_depth(dist_coast, dist_axis)
    flag = np.ones(depth.shape, dtype=np.int8)

    def burn(cells: np.ndarray, design_m: float, code: int) -> None:
        deepen = cells & ~is_land & (depth < design_m)
        depth[deepen] = design_m
        flag[cells & ~is_land] = code

    for app_id, line, width_m, depth_m in F.APPROACHES:
        del app_id
        corridor = metric.to_lonlat(metric.to_m(shapely.LineString(line)).buffer(width_m / 2))
        burn(_mask(corridor, lon2, lat2), depth_m, 5)
    for seg in channel:
        area = shapely.geometry.shape(seg["geometry"])
        burn(_mask(area, lon2, lat2), float(seg["properties"]["design_depth_m"]), 2)
    for pocket in pockets:
        area = shapely.geometry.shape(pocket["geometry"])
        cells = np.zeros(depth.shape, dtype=bool)
        for r, c in _touching_cells(area, lon, lat):
            cells[r, c] = True
        burn(cells, float(pocket["properties"]["design_depth_m"]), 3)
    for shoal in shoals:
        sx, sy = shoal["geometry"]["coordinates"]
        r, c = int(np.abs(lat - sy).argmin()), int(np.abs(lon - sx).argmin())
        depth[r, c] = float(shoal["properties"]["depth_m"])
        flag[r, c] = 4

    depth = np.where(is_land, np.nan, np.round(depth, 2)).astype(np.float32)
    flag[is_land] = 0

    ds = xr.Dataset(
        {
            "depth": (("lat", "lon"), depth, {
                "long_name": "depth below chart datum",
                "units": "m", "positive": "down",
                "vertical_datum": "chart datum: local theoretical lowest tide surface "
                "(当地理论最低潮面), ≈ LAT (S3, S11)",
                "grid_mapping": "crs", "_FillValue": np.float32(np.nan),
                "comment": "negative values are drying heights above chart datum",
            }),
            "source_flag": (("lat", "lon"), flag, {
                "long_name": "where each depth value comes from",
                "flag_values": np.arange(6, dtype=np.int8),
                "flag_meanings": FLAG_MEANINGS,
            }),
            "crs": ((), np.int32(0), {"grid_mapping_name": "latitude_longitude",
                                      "epsg_code": "EPSG:4326",
                                      "semi_major_axis": 6378137.0,
                                      "inverse_flattening": 298.257223563}),
        },
        coords={
            "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
            "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"}),
        },
        attrs={
            "Conventions": "CF-1.8",
            "title": "Zhanjiang Bay bathymetry for the port twin (湛江湾水深，模型估算)",
            "institution": "Zhanjiang Port Twin project",
            "source": "model: natural depth from distance to the OSM coastline and to the channel "
            "axis (estimate, see geodata/bathymetry_build.py); burnt in: channel design depths "
            "(S1, S3: official), berth pocket and approach design depths (estimate), Q4-2025 "
            "surveyed shoal 16.84 m (S1: official)",
            "summary": "ESTIMATE. Outside the cells flagged design_depth_official and "
            "survey_official this is not a survey: do not navigate with it. Replace with a real "
            "survey through the same loader when one is available.",
            "history": "built by `python -m geodata.build_zhanjiang`",
            "geospatial_lon_resolution": f"{LON_STEP} degree",
            "geospatial_lat_resolution": f"{LAT_STEP} degree",
        },
    )
    path = out_dir / "bathymetry.nc"
    ds.to_netcdf(path, encoding={"depth": {"zlib": True, "complevel": 4},
                                 "source_flag": {"zlib": True}})
    print(f"wrote {path.name} ({lat.size}×{lon.size} cells, "
          f"{int((flag == 2).sum())} channel cells, {int((flag == 3).sum())} pocket cells)")

    # anchorage depth_m is what the grid says inside it (both are estimates; keep them equal)
    path_anc = out_dir / "anchorages.geojson"
    data = json.loads(path_anc.read_text(encoding="utf-8"))
    for feat in data["features"]:
        inside = _mask(shapely.geometry.shape(feat["geometry"]), lon2, lat2) & ~is_land
        feat["properties"]["depth_m"] = round(float(np.nanmedian(depth[inside])) * 2) / 2
        feat["properties"]["depth_source"] = "median of the bathymetry grid inside (estimate)"
    path_anc.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return ds
