"""Bathymetry grids → depth below chart datum (m, positive down) as an ``xarray.DataArray``.

Reads any CF NetCDF grid on lat/lon or on projected x/y with a CRS (grid-mapping variable with
``crs_wkt``/``spatial_ref``/``epsg_code``), and simple north-up GeoTIFFs.

Sign is never guessed. It comes from the CF ``positive`` attribute ("up"/"down") or a CF
``standard_name`` whose sense is fixed (``height_above_mean_sea_level`` is up, GEBCO-style;
``sea_floor_depth_below_sea_surface`` is down ...). A variable with neither, or with the two
contradicting each other or the caller, is refused with a message saying what to add.

The vertical datum comes from a ``datum`` / ``vertical_datum`` attribute (variable or file) or
from a standard_name that names it (``..._mean_sea_level``), or from the caller. Mean-sea-level
grids are converted with the height of MSL above chart datum, Z0 (m, > 0 where CD is below MSL)::

    depth_below_CD = depth_below_MSL - Z0        (reference/ukc.md section 6)

Negative depths are drying heights (land or flats above chart datum) and are kept as such.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

Positive = Literal["up", "down"]
Datum = Literal["chart datum", "MSL"]

_DOWN_NAMES = {
    "depth",
    "sea_floor_depth",
    "sea_floor_depth_below_sea_surface",
    "sea_floor_depth_below_geoid",
    "sea_floor_depth_below_mean_sea_level",
    "sea_floor_depth_below_reference_ellipsoid",
}
_UP_NAMES = {
    "altitude",
    "height",
    "height_above_mean_sea_level",
    "height_above_geoid",
    "height_above_reference_ellipsoid",
    "surface_altitude",
    "bedrock_altitude",
}
_MSL_NAMES = {"height_above_mean_sea_level", "sea_floor_depth_below_mean_sea_level"}


class AmbiguousBathymetryError(ValueError):
    """The grid does not say what its numbers mean (sign, datum, axes or CRS)."""


def depth_cd_from_msl(depth_below_msl_m: ArrayLike, msl_above_cd_m: float) -> NDArray[np.float64]:
    """Depth below chart datum (m) from depth below MSL (m) and the height of MSL above CD."""
    return np.asarray(depth_below_msl_m, dtype=np.float64) - msl_above_cd_m


def depth_msl_from_cd(depth_below_cd_m: ArrayLike, msl_above_cd_m: float) -> NDArray[np.float64]:
    """Depth below MSL (m) from depth below chart datum (m) and the height of MSL above CD."""
    return np.asarray(depth_below_cd_m, dtype=np.float64) + msl_above_cd_m


def level_cd_from_msl(level_above_msl_m: ArrayLike, msl_above_cd_m: float) -> NDArray[np.float64]:
    """Water level above chart datum (m) from a level above MSL (m)."""
    return np.asarray(level_above_msl_m, dtype=np.float64) + msl_above_cd_m


def _norm_datum(text: str) -> Datum | None:
    t = text.strip().lower()
    if any(k in t for k in ("chart", "lowest astronomical", "理论最低潮面", "mllw")) or \
            re.search(r"\b(lat|cd)\b", t):
        return "chart datum"
    if "msl" in t or "mean sea level" in t or "mean_sea_level" in t:
        return "MSL"
    return None


def _vertical_sense(da: xr.DataArray, positive: Positive | None) -> Positive:
    """'up' or 'down' from attributes and the caller; refuses when unknown or contradictory."""
    claims: dict[str, Positive] = {}
    attr = str(da.attrs.get("positive", "")).strip().lower()
    if attr in ("up", "down"):
        claims["CF attribute positive"] = attr  # type: ignore[assignment]
    std = str(da.attrs.get("standard_name", "")).strip()
    if std in _DOWN_NAMES:
        claims[f"standard_name {std}"] = "down"
    elif std in _UP_NAMES:
        claims[f"standard_name {std}"] = "up"
    if positive is not None:
        claims["caller"] = positive
    senses = set(claims.values())
    if len(senses) > 1:
        raise AmbiguousBathymetryError(
            f"variable {da.name!r}: contradictory vertical sense {claims}; fix the file's "
            "attributes rather than guessing")
    if not senses:
        raise AmbiguousBathymetryError(
            f"variable {da.name!r}: cannot tell depth (positive down) from elevation (positive "
            "up): no CF 'positive' attribute and no standard_name with a fixed sense. Add "
            "positive='up'|'down' to the variable or pass positive=... explicitly.")
    return senses.pop()


def _vertical_datum(da: xr.DataArray, ds_attrs: dict[str, object], datum: Datum | None) -> Datum:
    found: dict[str, Datum] = {}
    for where, attrs in (("variable", da.attrs), ("file", ds_attrs)):
        for key in ("datum", "vertical_datum", "geospatial_vertical_datum"):
            if key in attrs:
                d = _norm_datum(str(attrs[key]))
                if d is None:
                    raise AmbiguousBathymetryError(
                        f"{where} attribute {key}={attrs[key]!r} is neither chart datum nor MSL")
                found[f"{where} {key}"] = d
    if str(da.attrs.get("standard_name", "")) in _MSL_NAMES:
        found["standard_name"] = "MSL"
    if datum is not None:
        found["caller"] = datum
    values = set(found.values())
    if len(values) > 1:
        raise AmbiguousBathymetryError(f"contradictory vertical datum {found}")
    if not values:
        raise AmbiguousBathymetryError(
            f"variable {da.name!r}: no vertical datum (attribute 'datum' or 'vertical_datum', "
            "or a standard_name naming MSL); pass datum='chart datum'|'MSL' explicitly")
    return values.pop()


def _pick_variable(ds: xr.Dataset, variable: str | None) -> xr.DataArray:
    if variable is not None:
        if variable not in ds.data_vars:
            raise KeyError(f"no variable {variable!r}; have {sorted(map(str, ds.data_vars))}")
        return ds[variable]
    grids = [str(n) for n, v in ds.data_vars.items() if v.ndim == 2]
    if len(grids) == 1:
        return ds[grids[0]]
    named = [n for n in grids if n.lower() in ("depth", "elevation", "z", "topo", "bathymetry",
                                               "band1")]
    if len(named) == 1:
        return ds[named[0]]
    raise AmbiguousBathymetryError(f"several 2-D variables {grids}; pass variable=...")


def _axis_roles(da: xr.DataArray, ds: xr.Dataset) -> dict[str, str]:
    """Map each dim to 'lat', 'lon', 'y' or 'x' from standard_name, units or name."""
    roles: dict[str, str] = {}
    for dim in map(str, da.dims):
        coord = ds[dim] if dim in ds.variables else None
        attrs = coord.attrs if coord is not None else {}
        std = str(attrs.get("standard_name", "")).lower()
        units = str(attrs.get("units", "")).lower()
        name = dim.lower()
        if std == "latitude" or units in ("degrees_north", "degree_north") or name in (
                "lat", "latitude"):
            roles[dim] = "lat"
        elif std == "longitude" or units in ("degrees_east", "degree_east") or name in (
                "lon", "long", "longitude"):
            roles[dim] = "lon"
        elif std == "projection_y_coordinate" or name in ("y", "northing"):
            roles[dim] = "y"
        elif std == "projection_x_coordinate" or name in ("x", "easting"):
            roles[dim] = "x"
        else:
            raise AmbiguousBathymetryError(f"cannot tell what axis {dim!r} is")
    return roles


def _crs_wkt(da: xr.DataArray, ds: xr.Dataset) -> str:
    gm = da.attrs.get("grid_mapping") or da.encoding.get("grid_mapping")
    if gm is None or str(gm) not in ds.variables:
        raise AmbiguousBathymetryError(
            f"variable {da.name!r} is on projected x/y but names no grid_mapping variable "
            "(CF 'grid_mapping' with crs_wkt, spatial_ref or epsg_code)")
    attrs = ds[str(gm)].attrs
    for key in ("crs_wkt", "spatial_ref"):
        if key in attrs:
            return str(attrs[key])
    if "epsg_code" in attrs:
        from pyproj import CRS  # only for projected grids, to turn a code into WKT

        return str(CRS.from_user_input(attrs["epsg_code"]).to_wkt())
    raise AmbiguousBathymetryError(f"grid_mapping {gm!r} has no crs_wkt/spatial_ref/epsg_code")


def to_depth_below_cd(values: xr.DataArray, *, positive: Positive, datum: Datum,
                      msl_above_cd_m: float | None) -> xr.DataArray:
    """Turn a grid with known sense and datum into depth below CD (m, positive down)."""
    depth = -values.astype(np.float64) if positive == "up" else values.astype(np.float64)
    if datum == "MSL":
        if msl_above_cd_m is None:
            raise AmbiguousBathymetryError(
                "the grid is referred to MSL; pass msl_above_cd_m (height of MSL above chart "
                "datum, e.g. 2.20 m at Zhanjiang) to convert it")
        depth = depth - msl_above_cd_m
    out = depth.rename("depth_below_cd_m")
    out.attrs = {"units": "m", "positive": "down", "datum": "chart datum",
                 "long_name": "depth below chart datum"}
    if datum == "MSL":
        out.attrs["converted_from"] = f"MSL with MSL {msl_above_cd_m} m above chart datum"
    return out


def load_bathymetry(path: str | Path, *, variable: str | None = None,
                    positive: Positive | None = None, datum: Datum | None = None,
                    msl_above_cd_m: float | None = None) -> xr.DataArray:
    """Load a bathymetry grid as depth below chart datum (m, positive down).

    ``path`` is a CF NetCDF file or a GeoTIFF (``.tif``/``.tiff``). Output dims are
    ``(lat, lon)`` for geographic grids or ``(y, x)`` for projected ones (attribute ``crs_wkt``),
    each ascending. ``positive``/``datum`` state what the file does not; they must agree with
    what it does state. Raises AmbiguousBathymetryError when sign, datum, axes or CRS are unknown
    or contradictory, KeyError for a missing variable, FileNotFoundError for a missing file.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(p)
    if p.suffix.lower() in (".tif", ".tiff"):
        ds = read_geotiff(p)
    else:
        with xr.open_dataset(p) as opened:
            ds = opened.load()
    da = _pick_variable(ds, variable)
    sense = _vertical_sense(da, positive)
    vdatum = _vertical_datum(da, dict(ds.attrs), datum)
    roles = _axis_roles(da, ds)
    da = da.rename({d: r for d, r in roles.items() if d != r})
    kinds = set(roles.values())
    if kinds == {"lat", "lon"}:
        da = da.transpose("lat", "lon")
        crs_wkt = None
    elif kinds == {"x", "y"}:
        da = da.transpose("y", "x")
        crs_wkt = da.attrs.get("crs_wkt") or _crs_wkt(da, ds)
    else:
        raise AmbiguousBathymetryError(f"axes {roles} are not a lat/lon or x/y pair")
    da = da.sortby(list(da.dims))
    out = to_depth_below_cd(da, positive=sense, datum=vdatum, msl_above_cd_m=msl_above_cd_m)
    if crs_wkt is not None:
        out.attrs["crs_wkt"] = str(crs_wkt)
    return out


# GeoTIFF tags and GeoKeys (GeoTIFF 1.0 spec)
_TAG_PIXEL_SCALE = 33550
_TAG_TIEPOINT = 33922
_TAG_GEOKEYS = 34735
_TAG_GDAL_NODATA = 42113
_KEY_MODEL_TYPE = 1024
_KEY_RASTER_TYPE = 1025
_KEY_GEOGRAPHIC = 2048
_KEY_PROJECTED = 3072


def read_geotiff(path: str | Path) -> xr.Dataset:
    """Read a single-band, north-up GeoTIFF into a Dataset with variable ``band1``.

    Uses Pillow (no GDAL): only the tie-point + pixel-scale georeferencing is supported, not
    rotated/affine transforms. Geographic rasters get ``lat``/``lon`` axes, projected ones
    ``y``/``x`` with ``crs_wkt`` from the EPSG code. The raster carries no vertical metadata,
    so :func:`load_bathymetry` then requires ``positive=`` and ``datum=`` from the caller.
    Raises ImportError when Pillow is missing, AmbiguousBathymetryError for unsupported
    georeferencing.
    """
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading GeoTIFF needs Pillow (pip install pillow) or convert the "
                          "raster to CF NetCDF (gdal_translate -of netCDF)") from exc
    with Image.open(path) as img:
        tags = dict(getattr(img, "tag_v2", {}))  # only TIFF images carry tags
        values = np.array(img, dtype=np.float64)
    if _TAG_PIXEL_SCALE not in tags or _TAG_TIEPOINT not in tags:
        raise AmbiguousBathymetryError(f"{path}: no pixel-scale/tie-point tags (not a GeoTIFF, "
                                       "or an affine transform this reader does not support)")
    sx, sy = float(tags[_TAG_PIXEL_SCALE][0]), float(tags[_TAG_PIXEL_SCALE][1])
    i0, j0, _k, x0, y0, _z = (float(v) for v in tags[_TAG_TIEPOINT][:6])
    keys = [int(v) for v in tags.get(_TAG_GEOKEYS, ())]
    geokeys = {keys[n]: keys[n + 3] for n in range(4, len(keys) - 3, 4) if keys[n + 1] == 0}
    # pixel-is-area (1, the default) refers the tie point to a cell corner, pixel-is-point to
    # a centre; cell-centre coordinates are what xarray users expect
    half = 0.5 if geokeys.get(_KEY_RASTER_TYPE, 1) == 1 else 0.0
    rows, cols = values.shape
    xs = x0 + (np.arange(cols) - i0 + half) * sx
    ys = y0 - (np.arange(rows) - j0 + half) * sy
    if _TAG_GDAL_NODATA in tags:
        nodata = float(str(tags[_TAG_GDAL_NODATA]).strip("\x00 "))
        values[values == nodata] = np.nan
    model = geokeys.get(_KEY_MODEL_TYPE)
    if model == 2:
        return xr.Dataset({"band1": (("lat", "lon"), values)}, coords={"lat": ys, "lon": xs})
    if model == 1 and _KEY_PROJECTED in geokeys:
        from pyproj import CRS

        wkt = CRS.from_epsg(geokeys[_KEY_PROJECTED]).to_wkt()
        band = xr.DataArray(values, dims=("y", "x"), coords={"y": ys, "x": xs},
                            attrs={"crs_wkt": wkt})
        return xr.Dataset({"band1": band})
    raise AmbiguousBathymetryError(f"{path}: unsupported GeoTIFF model type {model!r} "
                                   "(need geographic, or projected with an EPSG code)")
