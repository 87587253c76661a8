"""Net under-keel clearance (UKC) on a depth grid, per vessel and time, with S-129 classes.

Identity (Gourlay 2007; reference/ukc.md sections 1 and 7), all in metres::

    water depth      h(t)   = depth_below_CD + tide_above_CD(t) + surge(t)
    net UKC          n(t)   = h(t) - (draught + squat(speed, h, blockage) + heel + wave
                                       + survey + siltation + fresh_water)

Squat is evaluated at the local water depth ``h`` of each cell and time (it matters for
Huuska/ICORELS and the blockage forms; the simple Barrass rules ignore depth). Allowances are
added plainly; Gourlay notes the true combined motion allowance is less than the sum, so this is
on the safe side.

Classes (IHO S-129 UKC Management; codes in ``UKC_CLASS``):

- ``no-go`` (2)     n < hard minimum (default 0 m: the keel would touch) — S-129 NonNavigableArea
                     with the UKC limit = the hard minimum;
- ``marginal`` (1)  hard minimum <= n < required clearance of the port's rule — S-129
                     AlmostNonNavigableArea, distanceAboveUKCLimit = required - hard minimum;
- ``safe`` (0)      n >= required clearance;
- ``no-data`` (-1)  depth unknown (NaN cell).

The port's rule is configuration: a :class:`UkcRule` (required = max(minimum_m, fraction x
draught)), or a mapping zone -> rule with a zone grid (e.g. inner 10 %, outer 15 %). Nothing here
reads a clock: times are arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from twin.squat import SquatInput, get_method
from twin.tide import TideLevel

FloatArray = NDArray[np.float64]
UkcStatus = Literal["safe", "marginal", "no-go", "no-data"]

UKC_CLASS: dict[UkcStatus, int] = {"no-data": -1, "safe": 0, "marginal": 1, "no-go": 2}
_STATUS_BY_CODE: dict[int, UkcStatus] = {v: k for k, v in UKC_CLASS.items()}
_BLOCK_CELLS = 1 << 19


@dataclass(frozen=True)
class Vessel:
    """A ship as the UKC needs it. ``speed_kn`` is speed through water."""

    draught_m: float
    speed_kn: float
    cb: float
    beam_m: float | None = None
    length_m: float | None = None
    vessel_id: str = ""
    waterplane_coefficient: float | None = None


@dataclass(frozen=True)
class Allowances:
    """Fixed allowances (m) added to the draught; each is >= 0."""

    heel_m: float = 0.0
    wave_m: float = 0.0
    survey_m: float = 0.0
    siltation_m: float = 0.0
    fresh_water_m: float = 0.0

    def total_m(self) -> float:
        """Plain sum of the allowances (m)."""
        return self.heel_m + self.wave_m + self.survey_m + self.siltation_m + self.fresh_water_m


def fresh_water_allowance_m(displacement_t: float, tpc_t_per_cm: float,
                            water_density_kg_m3: float = 1000.0) -> float:
    """Sinkage (m) from sea water (1025 kg/m3) into water of ``water_density_kg_m3``.

    FWA (mm) = displacement / (4 TPC); DWA = FWA (1025 - rho) / 25 (Load Line practice;
    reference/ukc.md section 1).
    """
    fwa_mm = displacement_t / (4.0 * tpc_t_per_cm)
    return fwa_mm * (1025.0 - water_density_kg_m3) / 25.0 / 1000.0


def heel_allowance_m(draught_m: float, beam_m: float, heel_deg: float) -> float:
    """Extra draught (m) at heel: 0.5 B sin(theta) + T cos(theta) - T (DVK calculations)."""
    th = math.radians(heel_deg)
    return 0.5 * beam_m * math.sin(th) + draught_m * math.cos(th) - draught_m


@dataclass(frozen=True)
class UkcRule:
    """A static UKC rule: required net UKC = max(minimum_m, fraction_of_draught x draught).

    ``hard_minimum_m`` is the no-go limit (default 0: keel on the bottom).
    """

    fraction_of_draught: float = 0.10
    minimum_m: float = 0.0
    hard_minimum_m: float = 0.0

    def required_m(self, draught_m: float) -> float:
        """Required net UKC (m) for ``draught_m``."""
        return max(self.minimum_m, self.fraction_of_draught * draught_m)


RuleConfig = UkcRule | Mapping[str, UkcRule]


def net_ukc_m(depth_below_cd_m: ArrayLike, tide_m: ArrayLike, draught_m: float,
              squat_m: ArrayLike, allowances_m: float = 0.0) -> FloatArray:
    """The UKC identity, element-wise (m): depth + tide - draught - squat - allowances."""
    return (np.asarray(depth_below_cd_m, dtype=np.float64) + np.asarray(tide_m, dtype=np.float64)
            - draught_m - np.asarray(squat_m, dtype=np.float64) - allowances_m)


def classify(net_m: ArrayLike, required_m: ArrayLike, hard_minimum_m: ArrayLike = 0.0
             ) -> NDArray[np.int8]:
    """S-129 class codes (see ``UKC_CLASS``) for net UKC against required and hard minimum."""
    net = np.asarray(net_m, dtype=np.float64)
    required = np.asarray(required_m, dtype=np.float64)
    hard = np.asarray(hard_minimum_m, dtype=np.float64)
    out = np.where(net < hard, 2, np.where(net < required, 1, 0)).astype(np.int8)
    out[np.isnan(net)] = -1
    return out


def status_of(code: int) -> UkcStatus:
    """'safe' / 'marginal' / 'no-go' / 'no-data' for a class code."""
    return _STATUS_BY_CODE[int(code)]


def _tide_at(tide: float | ArrayLike | TideLevel, times: NDArray[np.datetime64]) -> FloatArray:
    if hasattr(tide, "level_m"):
        return np.asarray(tide.level_m(times), dtype=np.float64)
    arr = np.asarray(tide, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(times.shape, float(arr))
    if arr.shape != times.shape:
        raise ValueError(f"{arr.size} tide levels for {times.size} times")
    return arr


def squat_on(vessel: Vessel, water_depth_m: ArrayLike, method: str,
             channel_width_m: float | ArrayLike | None = None) -> tuple[FloatArray, list[str]]:
    """Squat (m) at each water depth; 0 where the ship would already touch bottom (h <= T).

    Those cells are no-go anyway and several formulas have no value there.
    """
    h = np.asarray(water_depth_m, dtype=np.float64)
    afloat = h > vessel.draught_m
    h_valid = np.where(afloat, h, np.nan)
    res = get_method(method).compute(SquatInput(
        cb=vessel.cb, speed_kn=vessel.speed_kn, draught_m=vessel.draught_m, depth_m=h_valid,
        beam_m=vessel.beam_m, length_m=vessel.length_m, channel_width_m=channel_width_m,
        waterplane_coefficient=vessel.waterplane_coefficient))
    s = np.broadcast_to(res.squat_m, h.shape)
    return np.where(afloat, s, 0.0), res.warnings


def _rule_grids(rule: RuleConfig, zone: xr.DataArray | None, draught_m: float,
                shape: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
    if isinstance(rule, UkcRule):
        return (np.full(shape, rule.required_m(draught_m)),
                np.full(shape, rule.hard_minimum_m))
    if zone is None:
        raise ValueError("a rule per zone needs a zone grid (zone=...)")
    labels = np.asarray(zone.values).astype(str)
    unknown = sorted(set(np.unique(labels)) - set(rule))
    if unknown:
        raise ValueError(f"zone labels {unknown} have no UKC rule; rules for {sorted(rule)}")
    required = np.empty(shape)
    hard = np.empty(shape)
    for name, r in rule.items():
        sel = labels == name
        required[sel] = r.required_m(draught_m)
        hard[sel] = r.hard_minimum_m
    return required, hard


def ukc_grid(depth_below_cd: xr.DataArray, vessel: Vessel, times: ArrayLike,
             tide: float | ArrayLike | TideLevel, *, rule: RuleConfig,
             allowances: Allowances | None = None, zone: xr.DataArray | None = None,
             squat_method: str = "barrass-confined",
             channel_width_m: float | xr.DataArray | None = None,
             surge_m: float | ArrayLike = 0.0, dtype: type = np.float64) -> xr.Dataset:
    """Net UKC and its class on every cell of a 2-D depth grid at every time.

    ``depth_below_cd`` (m, positive down, any two dims, e.g. lat/lon); ``times`` UTC datetime64;
    ``tide`` a constant, one level per time, or a :class:`twin.tide.TideLevel` (m above CD);
    ``surge_m`` added to the tide (scalar or per time); ``zone`` a grid of zone labels aligned
    with the depth grid when ``rule`` is a mapping; ``channel_width_m`` a width or a grid of
    widths aligned with the depth grid (NaN = open water) for the blockage-aware methods.
    Returns a Dataset with dims (time, <grid dims>): ``net_ukc_m`` (``dtype``), ``ukc_class``
    (int8, ``UKC_CLASS``), and (grid dims) ``required_ukc_m``; attrs carry squat warnings.
    Raises ValueError for mismatched inputs or zones without a rule.
    """
    t = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
    eta = _tide_at(tide, t) + np.asarray(surge_m, dtype=np.float64)
    depth = np.asarray(depth_below_cd.values, dtype=np.float64)
    allow = (allowances or Allowances()).total_m()
    required, hard = _rule_grids(rule, zone, vessel.draught_m, depth.shape)
    net = np.empty((t.size, *depth.shape), dtype=dtype)
    codes = np.empty((t.size, *depth.shape), dtype=np.int8)
    warnings: dict[str, str] = {}
    # a few times per block keeps the temporaries in cache: ~3x faster than one big block
    per_block = max(1, _BLOCK_CELLS // max(depth.size, 1))
    width: float | FloatArray | None = None
    if isinstance(channel_width_m, xr.DataArray):
        width = np.asarray(channel_width_m.values, dtype=np.float64)[None]
    elif channel_width_m is not None:
        width = float(channel_width_m)
    for a in range(0, t.size, per_block):
        b = min(a + per_block, t.size)
        h = depth[None, :, :] + eta[a:b, None, None]
        squat_m, found = squat_on(vessel, h, squat_method, width)
        for text in found:
            warnings.setdefault(text.split(" = ")[0], text)
        block = net[a:b]
        np.subtract(h, vessel.draught_m + allow, out=block, casting="same_kind")
        block -= squat_m
        codes[a:b] = classify(block, required[None], hard[None])
    dims = ("time", *map(str, depth_below_cd.dims))
    coords = {"time": t, **{str(d): depth_below_cd[d].values for d in depth_below_cd.dims
                            if d in depth_below_cd.coords}}
    return xr.Dataset(
        {"net_ukc_m": (dims, net, {"units": "m", "long_name": "net under-keel clearance"}),
         "ukc_class": (dims, codes, {"flag_values": [-1, 0, 1, 2],
                                     "flag_meanings": "no_data safe marginal no_go"}),
         "required_ukc_m": (dims[1:], required, {"units": "m"})},
        coords=coords,
        attrs={"vessel_id": vessel.vessel_id, "draught_m": vessel.draught_m,
               "speed_kn": vessel.speed_kn, "squat_method": squat_method,
               "warnings": "; ".join(warnings.values())})


@dataclass(frozen=True)
class LiveUkc:
    """UKC of one vessel at one position and time."""

    ts_utc: np.datetime64
    lat: float
    lon: float
    depth_below_cd_m: float
    tide_m: float
    squat_m: float
    net_ukc_m: float
    required_ukc_m: float
    status: UkcStatus
    warnings: list[str]


def _nearest_cell(depth: xr.DataArray, lat: float, lon: float) -> xr.DataArray:
    dims = tuple(map(str, depth.dims))
    if set(dims) == {"lat", "lon"}:
        return depth.sel(lat=lat, lon=lon, method="nearest")
    if set(dims) == {"x", "y"} and "crs_wkt" in depth.attrs:
        from pyproj import CRS, Transformer  # only projected grids need a transform

        tr = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_wkt(depth.attrs["crs_wkt"]),
                                  always_xy=True)
        x, y = tr.transform(lon, lat)
        return depth.sel(x=x, y=y, method="nearest")
    raise ValueError(f"grid dims {dims}: need (lat, lon) or (y, x) with a crs_wkt attribute")


def live_ukc(vessel: Vessel, lat: float, lon: float, ts_utc: np.datetime64,
             depth_below_cd: xr.DataArray, tide: float | TideLevel, *, rule: UkcRule,
             allowances: Allowances | None = None, squat_method: str = "barrass-confined",
             channel_width_m: float | None = None, surge_m: float = 0.0) -> LiveUkc:
    """Net UKC of ``vessel`` at (lat, lon) and ``ts_utc`` on the nearest grid cell.

    ``tide`` is a level (m above CD) or a model; ``surge_m`` the live residual
    (:func:`twin.tide.surge`). The position must lie on the grid's cells; no extrapolation.
    """
    t = np.atleast_1d(np.asarray(ts_utc, dtype="datetime64[ns]"))
    cell = _nearest_cell(depth_below_cd, lat, lon)
    depth = float(cell.values)
    eta = float(_tide_at(tide, t)[0]) + surge_m
    sq, warnings = squat_on(vessel, np.array([depth + eta]), squat_method, channel_width_m)
    allow = (allowances or Allowances()).total_m()
    net = depth + eta - vessel.draught_m - allow - float(sq[0])
    required = rule.required_m(vessel.draught_m)
    code = int(classify(np.array([net]), required, rule.hard_minimum_m)[0])
    return LiveUkc(t[0], lat, lon, depth, eta, float(sq[0]), net, required, status_of(code),
                   warnings)
