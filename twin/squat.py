"""Ship squat (maximum sinkage at bow or stern) by the published empirical formulas.

Each method is a small strategy object behind :class:`SquatMethod`, chosen by name with
:func:`squat` (``method="barrass-open"`` ...). Every method is vectorised: speed and depth may be
numpy arrays (a grid, a time series) and broadcast together; the ship's particulars are scalars.
Each returns the squat in metres and a list of warnings naming every validity range the inputs
leave (ranges from ``reference/ukc.md`` section 2; outside them the number is still returned,
because a UKC layer must show something, but the caller should show the warning).

Formulas (Vk = speed through water in knots; V = Vk * 1852 / 3600 m/s; h = water depth, m;
Fnh = V / sqrt(g h), g = 9.80665 m/s2):

- ``barrass-open``       Cb Vk^2 / 100                       (Barrass; marinegyaan, tstarmet)
- ``barrass-confined``   Cb Vk^2 / 50
- ``barrass-blockage``   Cb S^0.81 Vk^2.08 / 20, S = B T / (W h) (Barrass & Derrett 2006 ch. 42);
  W = min(channel width, width of influence (7.7 + 20 (1 - Cb)^2) B): the banks only matter when
  they are closer than the ship's width of influence.
- ``barrass-1979``       (1/30) Cb (S / (1 - S))^(2/3) Vk^2.08, open-water width of influence
  (7.7 + 45 (1 - Cw)^2) B with Cw the waterplane coefficient (older blockage form; Eagle VN-03-A).
- ``barrass-dvk``        Vk^2 (T / h) Cb / 100 (Finnish Transport Infrastructure Agency, DVK)
- ``huuska``             C0 Ks Cb B T / L Fnh^2 / sqrt(1 - Fnh^2), C0 = 2.4;
  Ks = 7.45 s1 + 0.76 if s1 > 0.03 else 1; s1 = 0.03 in open water, S = 0.98 B T / (W h + h^2/n)
  in a channel (DVK form 1; n is DVK's bank-slope parameter), S / K1 in a dredged trench (form 2).
- ``icorels``            the Huuska expression with Ks = 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

G_M_S2 = 9.80665
KN_TO_M_S = 1852.0 / 3600.0


def depth_froude_number(speed_kn: ArrayLike, depth_m: ArrayLike) -> FloatArray:
    """Depth Froude number Fnh = V / sqrt(g h) (dimensionless), V in m/s from knots."""
    v = np.asarray(speed_kn, dtype=np.float64) * KN_TO_M_S
    h = np.asarray(depth_m, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(v / np.sqrt(G_M_S2 * h), dtype=np.float64)


@dataclass(frozen=True)
class SquatInput:
    """What the formulas need. Lengths in metres, speed through water in knots.

    ``depth_m`` is the water depth under the ship at rest (charted depth + tide). Channel
    fields are optional: ``channel_width_m`` (bottom width; may be an array broadcasting with the
    depth, NaN = open water, so one grid can mix channel and open-water cells for
    ``barrass-blockage`` and ``huuska``), ``channel_bank_n`` (DVK's bank-slope
    parameter, cross-section W h + h^2/n), ``trench_height_m`` (dredged-trench form), and
    ``waterplane_coefficient`` for ``barrass-1979``.
    """

    cb: float
    speed_kn: ArrayLike
    draught_m: float
    depth_m: ArrayLike
    beam_m: float | None = None
    length_m: float | None = None
    channel_width_m: float | ArrayLike | None = None
    channel_bank_n: float | None = None
    trench_height_m: float | None = None
    waterplane_coefficient: float | None = None


@dataclass(frozen=True)
class SquatResult:
    """Squat (m, broadcast shape of speed and depth) with the warnings and intermediate values."""

    method: str
    squat_m: FloatArray
    warnings: list[str] = field(default_factory=list)
    details: dict[str, float] = field(default_factory=dict)


class SquatMethod(Protocol):
    """One squat formula."""

    @property
    def name(self) -> str: ...

    def compute(self, inp: SquatInput) -> SquatResult: ...


def _need(inp: SquatInput, *names: str) -> None:
    missing = [n for n in names if getattr(inp, n) is None]
    if missing:
        raise ValueError(f"this squat method needs {', '.join(missing)}")


def _range_warning(label: str, values: ArrayLike, lo: float, hi: float, source: str,
                   *, lo_open: bool = False, hi_open: bool = False) -> list[str]:
    """One warning if any value falls outside [lo, hi] (open ends where asked)."""
    v = np.asarray(values, dtype=np.float64)
    below = v <= lo if lo_open else v < lo
    above = v >= hi if hi_open else v > hi
    bad = (below | above) & np.isfinite(v)
    if not np.any(bad):
        return []
    lb, rb = ("(" if lo_open else "["), (")" if hi_open else "]")
    shown = f"{float(v.flat[0]):.3g}" if v.size == 1 else f"{int(bad.sum())} of {v.size} values"
    return [f"{label} = {shown} outside the validity range {lb}{lo}, {hi}{rb} ({source})"]


def _common_warnings(inp: SquatInput) -> list[str]:
    h = np.asarray(inp.depth_m, dtype=np.float64)
    if np.any(h <= inp.draught_m):
        return ["depth <= draught: the ship touches bottom at rest; squat is meaningless"]
    return []


def _barrass_h_over_t(inp: SquatInput) -> list[str]:
    ratio = np.asarray(inp.depth_m, dtype=np.float64) / inp.draught_m
    return _range_warning("h/T", ratio, 1.1, 1.4, "Barrass & Derrett, scribd 311106883")


@dataclass(frozen=True)
class BarrassSimple:
    """Cb Vk^2 / divisor: 100 in open water, 50 in a confined channel."""

    name: str
    divisor: float

    def compute(self, inp: SquatInput) -> SquatResult:
        v = np.asarray(inp.speed_kn, dtype=np.float64)
        h = np.asarray(inp.depth_m, dtype=np.float64)
        s = inp.cb * v**2 / self.divisor + 0.0 * h  # broadcast over the depth grid too
        return SquatResult(self.name, s, _common_warnings(inp) + _barrass_h_over_t(inp))


def barrass_blockage_factor(cb: float, beam_m: float, draught_m: float, depth_m: ArrayLike,
                            channel_width_m: float | ArrayLike | None = None) -> FloatArray:
    """S = B T / (W h) with W = min(channel width, (7.7 + 20 (1 - Cb)^2) B)."""
    width_of_influence = (7.7 + 20.0 * (1.0 - cb) ** 2) * beam_m
    # fmin: a NaN channel width (open water) falls back to the width of influence
    width = (width_of_influence if channel_width_m is None
             else np.fmin(np.asarray(channel_width_m, dtype=np.float64), width_of_influence))
    return np.asarray(beam_m * draught_m / (width * np.asarray(depth_m, dtype=np.float64)))


@dataclass(frozen=True)
class BarrassBlockage:
    """Barrass & Derrett 2006: Cb S^0.81 Vk^2.08 / 20."""

    name: str = "barrass-blockage"

    def compute(self, inp: SquatInput) -> SquatResult:
        _need(inp, "beam_m")
        assert inp.beam_m is not None
        blockage = barrass_blockage_factor(inp.cb, inp.beam_m, inp.draught_m, inp.depth_m,
                                           inp.channel_width_m)
        v = np.asarray(inp.speed_kn, dtype=np.float64)
        s = inp.cb * blockage**0.81 * v**2.08 / 20.0
        warnings = (_common_warnings(inp) + _barrass_h_over_t(inp)
                    + _range_warning("blockage S", blockage, 0.100, 0.265,
                                     "Barrass & Derrett, scribd 311106883"))
        details = {"blockage": float(np.nanmin(blockage))}
        return SquatResult(self.name, np.asarray(s, dtype=np.float64), warnings, details)


@dataclass(frozen=True)
class Barrass1979:
    """Older blockage form (1/30) Cb (S/(1-S))^(2/3) Vk^2.08 (deslab.mit.edu; Eagle VN-03-A).

    Without a channel width the open-water width of influence (7.7 + 45 (1 - Cw)^2) B is used,
    which needs the waterplane coefficient Cw.
    """

    name: str = "barrass-1979"

    def compute(self, inp: SquatInput) -> SquatResult:
        _need(inp, "beam_m")
        assert inp.beam_m is not None
        h = np.asarray(inp.depth_m, dtype=np.float64)
        width: FloatArray | float
        if inp.channel_width_m is not None:
            # scalar or array; NaN (open water) cells give NaN here: pass Cw and no width instead
            width = np.asarray(inp.channel_width_m, dtype=np.float64)
        else:
            _need(inp, "waterplane_coefficient")
            assert inp.waterplane_coefficient is not None
            width = (7.7 + 45.0 * (1.0 - inp.waterplane_coefficient) ** 2) * inp.beam_m
        blockage = inp.beam_m * inp.draught_m / (width * h)
        v = np.asarray(inp.speed_kn, dtype=np.float64)
        s = inp.cb * (blockage / (1.0 - blockage)) ** (2.0 / 3.0) * v**2.08 / 30.0
        warnings = _common_warnings(inp) + _barrass_h_over_t(inp)
        return SquatResult(self.name, np.asarray(s, dtype=np.float64), warnings,
                           {"blockage": float(np.nanmin(blockage)),
                            "width_m": float(np.nanmin(width))})


@dataclass(frozen=True)
class BarrassDvk:
    """DVK variant Vk^2 (T / h) Cb / 100 (finnishtransportagency/dvk squat calculations)."""

    name: str = "barrass-dvk"

    def compute(self, inp: SquatInput) -> SquatResult:
        v = np.asarray(inp.speed_kn, dtype=np.float64)
        h = np.asarray(inp.depth_m, dtype=np.float64)
        s = v**2 * (inp.draught_m / h) * inp.cb / 100.0
        return SquatResult(self.name, np.asarray(s, dtype=np.float64), _common_warnings(inp))


# DVK trench correction K1(S) = a0 + a1 S + a2 S^2 + a3 S^3 by h1/h upper bound
_TRENCH_K1: tuple[tuple[float, tuple[float, float, float, float]], ...] = (
    (0.3, (0.46, 15.85, 124.06, -380.04)),
    (0.5, (0.21, 28.2, -53.17, 87.97)),
    (0.7, (1.1, -5.55, 167.76, -417.72)),
    (1.0, (0.82, 6.11, 16.9, -70.86)),
    (math.inf, (1.0, 0.0, 0.0, 0.0)),
)


def _trench_k1(blockage: FloatArray, h1_over_h: FloatArray) -> FloatArray:
    out = np.ones_like(blockage)
    lower = -math.inf
    for upper, (a0, a1, a2, a3) in _TRENCH_K1:
        sel = (h1_over_h > lower) & (h1_over_h <= upper)
        s = blockage[sel]
        out[sel] = a0 + a1 * s + a2 * s**2 + a3 * s**3
        lower = upper
    return out


@dataclass(frozen=True)
class Huuska:
    """Huuska/Guliev (C0 = 2.4) or, with ``icorels=True``, ICORELS (Ks = 1)."""

    name: str = "huuska"
    c0: float = 2.4
    icorels: bool = False

    def compute(self, inp: SquatInput) -> SquatResult:
        _need(inp, "beam_m", "length_m")
        assert inp.beam_m is not None and inp.length_m is not None
        h = np.asarray(inp.depth_m, dtype=np.float64)
        fnh = depth_froude_number(inp.speed_kn, h)
        h, fnh = np.broadcast_arrays(h, fnh)
        details: dict[str, float] = {"fnh": float(np.max(fnh))}
        ks: FloatArray | float
        if self.icorels or inp.channel_width_m is None:
            ks = 1.0
        else:
            bank = 0.0 if inp.channel_bank_n is None else 1.0 / inp.channel_bank_n
            width = np.asarray(inp.channel_width_m, dtype=np.float64)
            # NaN width (open water) -> NaN blockage -> Ks = 1 below
            blockage = 0.98 * inp.beam_m * inp.draught_m / (width * h + h**2 * bank)
            s1 = blockage
            if inp.trench_height_m is not None:
                s1 = blockage / _trench_k1(blockage, inp.trench_height_m / h)
            ks = np.where(s1 > 0.03, 7.45 * s1 + 0.76, 1.0)
            if np.any(np.isfinite(blockage)):
                details["blockage"] = float(np.nanmin(blockage))
        details["ks"] = float(np.max(ks))
        f2 = fnh * fnh
        with np.errstate(invalid="ignore", divide="ignore"):
            # in-place steps: this runs on whole grids x times
            s = np.array(1.0 - f2, dtype=np.float64)  # an array even for 0-d input
            np.sqrt(s, out=s)
            np.divide(f2, s, out=s)
        s *= self.c0 * inp.cb * inp.beam_m * inp.draught_m / inp.length_m
        s *= ks
        s[f2 >= 1.0] = np.nan
        warnings = _common_warnings(inp)
        src = "DVK validations.tsx / wikinova squat"
        warnings += _range_warning("Cb", inp.cb, 0.6, 0.8, src, lo_open=True, hi_open=True)
        warnings += _range_warning("B/T", inp.beam_m / inp.draught_m, 2.19, 3.5, src)
        warnings += _range_warning("L/B", inp.length_m / inp.beam_m, 5.5, 8.5, src)
        if np.any(fnh > 0.7):
            warnings.append("Fnh > 0.7: beyond DVK's range; squat grows without bound near 1")
        if np.any(fnh >= 1.0):
            warnings.append("Fnh >= 1: supercritical, the formula has no value (NaN returned)")
        return SquatResult(self.name, np.asarray(s, dtype=np.float64), warnings, details)


METHODS: dict[str, Callable[[], SquatMethod]] = {
    "barrass-open": lambda: BarrassSimple("barrass-open", 100.0),
    "barrass-confined": lambda: BarrassSimple("barrass-confined", 50.0),
    "barrass-blockage": BarrassBlockage,
    "barrass-1979": Barrass1979,
    "barrass-dvk": BarrassDvk,
    "huuska": Huuska,
    "icorels": lambda: Huuska(name="icorels", icorels=True),
}


def get_method(method: str) -> SquatMethod:
    """The strategy for ``method``; raises ValueError naming the known methods."""
    try:
        return METHODS[method]()
    except KeyError:
        raise ValueError(f"unknown squat method {method!r}; known: {sorted(METHODS)}") from None


def squat(method: str, **params: object) -> SquatResult:
    """Squat by ``method`` for the keyword parameters of :class:`SquatInput`.

    Raises ValueError for an unknown method or a missing particular the method needs
    (e.g. ``beam_m`` for blockage forms, ``length_m`` for Huuska/ICORELS).
    """
    return get_method(method).compute(SquatInput(**params))  # type: ignore[arg-type]
