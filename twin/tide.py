"""Harmonic tide prediction, least-squares analysis and the surge residual.

Prediction follows the NOAA form (tidesandcurrents.noaa.gov, "harmonic constituents")::

    h(t) = Z0 + sum_i f_i(t) * H_i * cos(speed_i * (t - t_y) + V0_i(t_y) + u_i(t) - kappa_i)

- ``t_y`` is 00:00 UTC on 1 January of the year of ``t``; ``V0_i(t_y)`` the equilibrium argument
  there, so phases ``kappa`` are Greenwich phase lags (time zone UTC, degrees).
- Speeds (deg/h) are the published values in ``SPEEDS_DEG_PER_H`` (NTSLF short tide list, as copied
  in ``reference/ukc.md`` section 4); M4 = 2*M2 and MS4 = M2 + S2 by definition of compound
  tides.
- Astronomical arguments: mean longitudes of the moon ``s``, sun ``h``, lunar perigee ``p`` and the
  lunar ascending node ``N`` as linear functions of Julian centuries from J2000 (Meeus,
  "Astronomical Algorithms", 2nd ed., ch. 22 and 47, leading terms), combined with Doodson numbers
  (Schureman 1958, "Manual of Harmonic Analysis and Prediction of Tides", SP 98, Table 2:
  V(K1) = T + h - 90, V(O1) = T - 2s + h + 90, ...). Predictions agree with UTide 0.4.0
  reconstructions within 4 mm per constituent (frozen in tests/ukc/test_ukc_tide.py).
- Nodal factors ``f`` and angles ``u`` are the usual series in ``N`` derived from Schureman's
  formulas (as tabulated by Pugh 1987, "Tides, Surges and Mean Sea-Level", Table 4.3, and used by
  IOS/Foreman tidal packages): e.g. M2 f = 1.0004 - 0.0373 cos N + 0.0002 cos 2N, u = -2.14 sin N.
  They are evaluated at each instant (the node moves 19.3 deg/yr, so this equals NOAA's
  "value at mid-year" within 0.2 % in f and 0.2 deg in u).

All times are ``numpy.datetime64`` (UTC, naive) arrays or scalars; levels are metres.
Nothing here reads a clock; the only I/O is :func:`read_constituents_toml`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

# Published speeds (deg per mean solar hour); NTSLF short tide list, reference/ukc.md section 4.
SPEEDS_DEG_PER_H: dict[str, float] = {
    "M2": 28.9841042,
    "S2": 30.0000000,
    "N2": 28.4397295,
    "K2": 30.0821373,
    "K1": 15.0410686,
    "O1": 13.9430356,
    "P1": 14.9589314,
    "Q1": 13.3986609,
    # compound (shallow-water) tides: speeds are sums of their parents by definition
    "M4": 2 * 28.9841042,
    "MS4": 28.9841042 + 30.0000000,
}

# Doodson numbers on (tau, s, h, p) and the phase offset in degrees (Schureman SP98 Table 2,
# rewritten with lunar time tau = T + h - s, T = hour angle of the mean sun).
_DOODSON: dict[str, tuple[int, int, int, int, float]] = {
    "M2": (2, 0, 0, 0, 0.0),
    "S2": (2, 2, -2, 0, 0.0),
    "N2": (2, -1, 0, 1, 0.0),
    "K2": (2, 2, 0, 0, 0.0),
    "K1": (1, 1, 0, 0, -90.0),
    "O1": (1, -1, 0, 0, 90.0),
    "P1": (1, 1, -2, 0, 90.0),
    "Q1": (1, -2, 0, 1, 90.0),
    "M4": (4, 0, 0, 0, 0.0),
    "MS4": (4, 2, -2, 0, 0.0),
}

_J2000 = np.datetime64("2000-01-01T12:00:00", "s")
_SECONDS_PER_CENTURY = 36525.0 * 86400.0


def _as_datetime64(times: ArrayLike) -> NDArray[np.datetime64]:
    """Times as a 1-D datetime64[s] array; raises TypeError for anything that is not a time."""
    arr = np.atleast_1d(np.asarray(times))
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[s]")
    if arr.dtype.kind in "UO":
        return arr.astype("datetime64[s]")
    raise TypeError(f"times must be numpy datetime64 values, got dtype {arr.dtype}")


def astronomical_arguments_deg(times: ArrayLike) -> dict[str, FloatArray]:
    """Mean longitudes (deg) at UTC ``times``: ``T`` (mean-sun hour angle + 180), ``s``, ``h``,
    ``p``, ``N`` and lunar time ``tau = T + h - s`` (Meeus ch. 22/47 leading terms)."""
    t = _as_datetime64(times)
    centuries = (t - _J2000).astype(np.float64) / _SECONDS_PER_CENTURY
    day = t.astype("datetime64[D]")
    hours_ut = (t - day).astype(np.float64) / 3600.0
    s = 218.3164477 + 481267.88123421 * centuries
    h = 280.46646 + 36000.76983 * centuries
    p = 83.3532465 + 4069.0137287 * centuries
    n = 125.04452 - 1934.136261 * centuries
    t_sun = 180.0 + 15.0 * hours_ut
    tau = t_sun + h - s
    return {"T": t_sun % 360, "s": s % 360, "h": h % 360, "p": p % 360, "N": n % 360,
            "tau": tau % 360}


def equilibrium_argument_deg(name: str, times: ArrayLike) -> FloatArray:
    """Equilibrium argument V (deg, in [0, 360)) of constituent ``name`` at ``times``."""
    a, b, c, d, offset = _DOODSON[name]
    args = astronomical_arguments_deg(times)
    v = a * args["tau"] + b * args["s"] + c * args["h"] + d * args["p"] + offset
    return np.asarray(v % 360.0, dtype=np.float64)


def nodal_corrections(name: str, times: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Node factor ``f`` (dimensionless) and nodal angle ``u`` (deg) of ``name`` at ``times``."""
    n = np.radians(astronomical_arguments_deg(times)["N"])
    one = np.ones_like(n)
    zero = np.zeros_like(n)
    if name in ("S2", "P1"):  # solar: no lunar node dependence
        return one, zero
    if name in ("M2", "N2", "M4", "MS4"):
        f = 1.0004 - 0.0373 * np.cos(n) + 0.0002 * np.cos(2 * n)
        u = -2.14 * np.sin(n)
        if name == "M4":
            return f * f, 2 * u
        return f, u
    if name == "K1":
        f = 1.0060 + 0.1150 * np.cos(n) - 0.0088 * np.cos(2 * n) + 0.0006 * np.cos(3 * n)
        u = -8.86 * np.sin(n) + 0.68 * np.sin(2 * n) - 0.07 * np.sin(3 * n)
        return f, u
    if name in ("O1", "Q1"):
        f = 1.0089 + 0.1871 * np.cos(n) - 0.0147 * np.cos(2 * n) + 0.0014 * np.cos(3 * n)
        u = 10.80 * np.sin(n) - 1.34 * np.sin(2 * n) + 0.19 * np.sin(3 * n)
        return f, u
    if name == "K2":
        f = 1.0241 + 0.2863 * np.cos(n) + 0.0083 * np.cos(2 * n) - 0.0015 * np.cos(3 * n)
        u = -17.74 * np.sin(n) + 0.68 * np.sin(2 * n) - 0.04 * np.sin(3 * n)
        return f, u
    raise KeyError(f"unknown constituent {name!r}; known: {sorted(SPEEDS_DEG_PER_H)}")


def _check_names(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in SPEEDS_DEG_PER_H]
    if unknown:
        raise KeyError(f"unknown constituent(s) {unknown}; known: {sorted(SPEEDS_DEG_PER_H)}")


def _phase_terms(name: str, t: NDArray[np.datetime64]) -> tuple[FloatArray, FloatArray]:
    """(f, speed*(t - t_y) + V0(t_y) + u) in degrees for each time, t_y = start of its year."""
    year_start = t.astype("datetime64[Y]").astype("datetime64[s]")
    hours = (t - year_start).astype(np.float64) / 3600.0
    # V0 only changes with the year; evaluate once per distinct year
    years, inverse = np.unique(year_start, return_inverse=True)
    v0 = equilibrium_argument_deg(name, years)[inverse]
    f, u = nodal_corrections(name, t)
    return f, SPEEDS_DEG_PER_H[name] * hours + v0 + u


@dataclass(frozen=True)
class Constituent:
    """One harmonic constituent: amplitude (m) and Greenwich phase lag kappa (deg, UTC)."""

    name: str
    amplitude_m: float
    phase_deg: float
    confidence: str = "estimate"
    source: str = ""


class TideLevel(Protocol):
    """Anything that gives the water level above chart datum (m) at UTC times."""

    def level_m(self, times: ArrayLike) -> FloatArray: ...


@dataclass(frozen=True)
class TideModel:
    """A station's harmonic model: mean level ``z0_m`` above chart datum plus constituents."""

    station: str
    z0_m: float
    constituents: tuple[Constituent, ...]
    lat: float | None = None
    lon: float | None = None
    datum: str = "chart datum"
    meta: Mapping[str, object] = field(default_factory=dict)

    def predict(self, times: ArrayLike) -> FloatArray:
        """Astronomical tide (m above ``datum``) at UTC ``times`` (any shape of datetime64)."""
        return predict(self.constituents, times, z0_m=self.z0_m)

    def level_m(self, times: ArrayLike) -> FloatArray:
        """Same as :meth:`predict`; satisfies :class:`TideLevel`."""
        return self.predict(times)

    def amplitude(self, name: str) -> float:
        """Amplitude (m) of constituent ``name``, 0.0 when the model does not carry it."""
        return next((c.amplitude_m for c in self.constituents if c.name == name), 0.0)


def predict(constituents: Sequence[Constituent], times: ArrayLike, *, z0_m: float = 0.0
            ) -> FloatArray:
    """Harmonic prediction (m) at UTC ``times``; output has the shape of ``times``.

    Raises KeyError for a constituent not in ``SPEEDS_DEG_PER_H``.
    """
    raw = np.asarray(times)
    t = _as_datetime64(raw)
    _check_names([c.name for c in constituents])
    level = np.full(t.shape, z0_m, dtype=np.float64)
    for c in constituents:
        f, arg = _phase_terms(c.name, t)
        level += f * c.amplitude_m * np.cos(np.radians(arg - c.phase_deg))
    return level.reshape(raw.shape) if raw.ndim else level


@dataclass(frozen=True)
class FitResult:
    """Least-squares harmonic analysis: the model plus fit diagnostics."""

    model: TideModel
    residual_rms_m: float
    n_obs: int
    warnings: tuple[str, ...]


def fit(times: ArrayLike, levels_m: ArrayLike, names: Sequence[str], *, station: str = "fit"
        ) -> FitResult:
    """Fit Z0 and constituents ``names`` to gauge observations by linear least squares.

    Observations may have gaps (any spacing) and NaNs (dropped). Each constituent contributes
    ``f cos(arg)`` and ``f sin(arg)`` columns, so H = hypot(a, b) and kappa = atan2(b, a).
    Returns amplitudes (m) and Greenwich phase lags (deg in [0, 360)). A warning is added for each
    pair the record is too short to separate (Rayleigh: |speed difference| * span < 360 deg).
    Raises ValueError when fewer valid observations than unknowns remain.
    """
    t = _as_datetime64(times)
    y = np.asarray(levels_m, dtype=np.float64).ravel()
    if y.shape != t.shape:
        raise ValueError(f"{t.size} times but {y.size} levels")
    ok = np.isfinite(y) & ~np.isnat(t)
    t, y = t[ok], y[ok]
    names = list(names)
    _check_names(names)
    n_unknowns = 1 + 2 * len(names)
    if y.size < n_unknowns:
        raise ValueError(f"{y.size} valid observations for {n_unknowns} unknowns")
    columns = [np.ones_like(y)]
    for name in names:
        f, arg = _phase_terms(name, t)
        rad = np.radians(arg)
        columns += [f * np.cos(rad), f * np.sin(rad)]
    design = np.column_stack(columns)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    span_h = float((t.max() - t.min()).astype(np.float64)) / 3600.0
    warnings: list[str] = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sep = abs(SPEEDS_DEG_PER_H[a] - SPEEDS_DEG_PER_H[b]) * span_h
            if sep < 360.0:
                warnings.append(
                    f"{a}/{b}: record of {span_h:.0f} h is shorter than the Rayleigh criterion "
                    f"({360.0 / abs(SPEEDS_DEG_PER_H[a] - SPEEDS_DEG_PER_H[b]):.0f} h); "
                    "their split is unreliable")
    fitted = []
    for k, name in enumerate(names):
        a_cos, b_sin = coef[1 + 2 * k], coef[2 + 2 * k]
        fitted.append(Constituent(name, float(math.hypot(a_cos, b_sin)),
                                  float(math.degrees(math.atan2(b_sin, a_cos)) % 360.0),
                                  confidence="fitted", source="least-squares fit"))
    model = TideModel(station=station, z0_m=float(coef[0]), constituents=tuple(fitted))
    return FitResult(model, float(np.sqrt(np.mean(residual**2))), int(y.size), tuple(warnings))


def surge(observed_m: ArrayLike, predicted_m: ArrayLike) -> FloatArray:
    """Non-tidal residual (m) = observed - predicted, element-wise; NaN where either is missing.

    The live UKC adds this residual (meteorological surge, river set-up, model error) to the
    astronomical prediction.
    """
    return np.asarray(observed_m, dtype=np.float64) - np.asarray(predicted_m, dtype=np.float64)


@dataclass(frozen=True)
class TideSeries:
    """A sampled tide (m above chart datum) at UTC times, linearly interpolated between samples.

    Outside the sampled span :meth:`level_m` returns NaN rather than extrapolating.
    """

    times: NDArray[np.datetime64]
    levels_m: FloatArray

    def level_m(self, times: ArrayLike) -> FloatArray:
        """Interpolated level (m) at ``times``; NaN outside the series."""
        raw = np.asarray(times)
        q = _as_datetime64(raw)
        base = self.times.astype("datetime64[s]")
        x = (base - base[0]).astype(np.float64)
        xq = (q - base[0]).astype(np.float64)
        out = np.interp(xq, x, np.asarray(self.levels_m, dtype=np.float64),
                        left=np.nan, right=np.nan)
        return out.reshape(raw.shape) if raw.ndim else out


@dataclass(frozen=True)
class ConstantTide:
    """A constant level (m above chart datum): for what-if runs and tests."""

    value_m: float

    def level_m(self, times: ArrayLike) -> FloatArray:
        """``value_m`` at every time, shaped like ``times``."""
        return np.full(np.shape(times), self.value_m, dtype=np.float64)


def read_constituents_toml(path: str | Path) -> TideModel:
    """Read a station's constituents file.

    Layout (see ``geodata/zhanjiang/tide.toml``)::

        [station]  name, lat, lon, datum ("chart datum"), z0_m, phase_reference ("UTC")
        [[constituent]]  name, amplitude_m, phase_deg, confidence, source

    Raises ValueError for a missing key, an unknown constituent, a duplicate, a negative
    amplitude or a phase reference other than UTC (local-time phases would shift every
    prediction by the zone offset).
    """
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    try:
        st = doc["station"]
        raw = doc["constituent"]
        z0 = float(st["z0_m"])
        name = str(st["name"])
    except KeyError as exc:
        raise ValueError(f"{path}: missing key {exc}") from exc
    if str(st.get("phase_reference", "UTC")).upper() != "UTC":
        raise ValueError(f"{path}: phase_reference must be 'UTC' (Greenwich phase lags)")
    constituents: list[Constituent] = []
    for i, row in enumerate(raw):
        try:
            c = Constituent(str(row["name"]), float(row["amplitude_m"]), float(row["phase_deg"]),
                            str(row.get("confidence", "estimate")), str(row.get("source", "")))
        except KeyError as exc:
            raise ValueError(f"{path}: constituent #{i} lacks {exc}") from exc
        if c.name not in SPEEDS_DEG_PER_H:
            raise ValueError(f"{path}: unknown constituent {c.name!r}")
        if c.amplitude_m < 0:
            raise ValueError(f"{path}: {c.name} amplitude is negative")
        if any(c.name == other.name for other in constituents):
            raise ValueError(f"{path}: {c.name} listed twice")
        constituents.append(c)
    return TideModel(station=name, z0_m=z0, constituents=tuple(constituents),
                     lat=st.get("lat"), lon=st.get("lon"),
                     datum=str(st.get("datum", "chart datum")), meta=dict(st))


def high_low_waters(times: ArrayLike, levels_m: ArrayLike
                    ) -> tuple[NDArray[np.datetime64], FloatArray, NDArray[np.bool_]]:
    """Turning points of a sampled series: (times, levels, is_high) of strict local extrema.

    Resolution is the sampling step; use 10 min or finer for tidal statistics.
    """
    t = _as_datetime64(times)
    y = np.asarray(levels_m, dtype=np.float64).ravel()
    d = np.diff(y)
    sign = np.sign(d)
    # carry the previous slope over flat steps so a plateau yields one extremum
    last_nonzero = np.maximum.accumulate(np.where(sign != 0, np.arange(sign.size), 0))
    sign = sign[last_nonzero]
    turn = np.nonzero(sign[1:] != sign[:-1])[0] + 1
    is_high = sign[turn - 1] > 0
    return t[turn], y[turn], is_high


def mean_range_m(levels_m: ArrayLike, is_high: ArrayLike) -> float:
    """Mean of |HW - LW| over consecutive alternating turning points (m)."""
    y = np.asarray(levels_m, dtype=np.float64)
    hi = np.asarray(is_high, dtype=bool)
    alternate = hi[1:] != hi[:-1]
    return float(np.mean(np.abs(np.diff(y))[alternate]))
