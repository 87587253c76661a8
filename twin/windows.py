"""Tidal windows for a transit along a route of control points (reference/ukc.md section 5).

Method (as Jzz81/tide-windows and OpenTNSim):

1. The route is an ordered list of :class:`RoutePoint` in passing order, each with its depth below
   chart datum (the shallowest depth of that stretch), UKC rule, speed through water on the leg
   that starts there, and extra allowances.
2. Passing offset tau_i = sum over earlier legs of |chainage difference| / leg speed.
3. At each point the margin is m_i(s) = d_i + tide(s) - T - squat_i(h) - allowances_i - required_i
   (metres; squat at the local water depth h = d_i + tide). The point is open when m_i >= 0.
4. Local windows W_i = {s : m_i(s) >= 0} from the margin sampled at the departure grid shifted by
   tau_i, with each crossing time interpolated linearly between the two samples around it.
5. Departure windows = intersection over i of (W_i - tau_i).
6. Earliest feasible start after a time, the critical point (smallest margin) for a start, and the
   dual problem: the maximum sailing draught for a given start (bisection on T, since the margin
   falls monotonically with draught).

Times are numpy datetime64 (UTC); durations are seconds. Windows touching the searched span's
ends are clipped there (``clipped_start``/``clipped_end`` say so).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from twin.tide import TideLevel
from twin.ukc import UkcRule, Vessel, squat_on

FloatArray = NDArray[np.float64]
KN_TO_M_S = 1852.0 / 3600.0


@dataclass(frozen=True)
class RoutePoint:
    """A control point on the transit route (units in names)."""

    chainage_km: float
    depth_below_cd_m: float
    rule: UkcRule
    speed_kn: float
    allowances_m: float = 0.0
    channel_width_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    zone: str = ""
    point_id: str = ""


@dataclass(frozen=True)
class Window:
    """A departure window [start, end] (UTC) at the first control point."""

    start: np.datetime64
    end: np.datetime64
    clipped_start: bool = False
    clipped_end: bool = False

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return float((self.end - self.start) / np.timedelta64(1, "s"))


@dataclass(frozen=True)
class CriticalPoint:
    """The control point with the smallest margin for one departure time."""

    index: int
    chainage_km: float
    passing_time: np.datetime64
    net_ukc_m: float
    required_ukc_m: float
    margin_m: float


@dataclass(frozen=True)
class TransitWindows:
    """Result of a window search over [span_start, span_end]."""

    windows: list[Window]
    per_point: list[list[Window]]
    offsets_s: FloatArray
    span_start: np.datetime64
    span_end: np.datetime64
    warnings: list[str]

    def earliest_start(self, after: np.datetime64, min_duration_s: float = 0.0
                       ) -> np.datetime64 | None:
        """First departure time >= ``after`` inside a window that still lasts
        ``min_duration_s`` from then; None when there is none in the span."""
        a = _ns(after)
        for w in self.windows:
            start = max(w.start, a)
            if (w.end - start) / np.timedelta64(1, "s") >= min_duration_s and w.end >= a:
                return start
        return None


def _ns(t: object) -> np.datetime64:
    """Any datetime64-like scalar as datetime64[ns]."""
    return cast(np.datetime64, np.asarray(t, dtype="datetime64[ns]")[()])


def passing_offsets_s(points: Sequence[RoutePoint]) -> FloatArray:
    """Seconds from the first point to each point; each leg at its start point's speed.

    Raises ValueError for a non-positive speed on a leg of non-zero length.
    """
    offsets = np.zeros(len(points))
    for i in range(1, len(points)):
        dist_m = abs(points[i].chainage_km - points[i - 1].chainage_km) * 1000.0
        v = points[i - 1].speed_kn * KN_TO_M_S
        if dist_m > 0 and v <= 0:
            raise ValueError(f"leg from K{points[i - 1].chainage_km} has speed {v} m/s")
        offsets[i] = offsets[i - 1] + (dist_m / v if dist_m > 0 else 0.0)
    return offsets


def point_margin_m(point: RoutePoint, vessel: Vessel, tide_m: FloatArray, squat_method: str
                   ) -> tuple[FloatArray, FloatArray, list[str]]:
    """(margin, net UKC) in metres at one point for tide levels ``tide_m`` (m above CD)."""
    ship = dataclasses.replace(vessel, speed_kn=point.speed_kn)
    h = point.depth_below_cd_m + tide_m
    sq, warnings = squat_on(ship, h, squat_method, point.channel_width_m)
    net = h - vessel.draught_m - sq - point.allowances_m
    return net - point.rule.required_m(vessel.draught_m), net, warnings


def _intervals(x: FloatArray, margin: FloatArray) -> list[tuple[float, float, bool, bool]]:
    """Runs of margin >= 0 on the sample axis ``x`` (s), ends interpolated linearly at zero.

    Returns (start, end, clipped_start, clipped_end); NaN margins count as closed.
    """
    ok = np.nan_to_num(margin, nan=-np.inf) >= 0
    if not ok.any():
        return []
    edges = np.diff(ok.astype(np.int8))
    starts = [int(i) for i in np.nonzero(edges == 1)[0] + 1]
    ends = [int(i) for i in np.nonzero(edges == -1)[0]]
    if ok[0]:
        starts.insert(0, 0)
    if ok[-1]:
        ends.append(len(ok) - 1)
    out = []
    for s, e in zip(starts, ends, strict=True):
        if s == 0:
            t0, c0 = float(x[0]), True
        else:
            m0, m1 = margin[s - 1], margin[s]
            frac = 0.0 if not np.isfinite(m0) else -m0 / (m1 - m0)
            t0, c0 = float(x[s - 1] + frac * (x[s] - x[s - 1])), False
        if e == len(ok) - 1:
            t1, c1 = float(x[-1]), True
        else:
            m0, m1 = margin[e], margin[e + 1]
            frac = 1.0 if not np.isfinite(m1) else m0 / (m0 - m1)
            t1, c1 = float(x[e] + frac * (x[e + 1] - x[e])), False
        out.append((t0, t1, c0, c1))
    return out


def _intersect(a: list[tuple[float, float, bool, bool]], b: list[tuple[float, float, bool, bool]]
               ) -> list[tuple[float, float, bool, bool]]:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            c0 = a[i][2] if a[i][0] >= b[j][0] else b[j][2]
            c1 = a[i][3] if a[i][1] <= b[j][1] else b[j][3]
            out.append((lo, hi, c0, c1))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def transit_windows(points: Sequence[RoutePoint], vessel: Vessel, tide: TideLevel,
                    start: np.datetime64, end: np.datetime64, *, step_s: float = 60.0,
                    squat_method: str = "barrass-confined") -> TransitWindows:
    """Departure windows at the first point for departures in [start, end].

    ``tide`` gives the level above chart datum at any time (a model, or a sampled series that
    covers [start, end + transit time]). ``step_s`` is the sampling step; crossing times between
    samples are linear interpolations. Raises ValueError for an empty route or span.
    """
    if not points:
        raise ValueError("empty route")
    t0 = _ns(start)
    t1 = _ns(end)
    if t1 <= t0:
        raise ValueError("end must be after start")
    n = int((t1 - t0) / np.timedelta64(1, "s") // step_s) + 1
    x = np.arange(n, dtype=np.float64) * step_s
    offsets = passing_offsets_s(points)
    per_point: list[list[tuple[float, float, bool, bool]]] = []
    warnings: dict[str, str] = {}  # one per kind (text before " = "), counts differ per point
    for point, tau in zip(points, offsets, strict=True):
        when = t0 + ((x + tau) * 1e9).astype("timedelta64[ns]")
        margin, _net, w = point_margin_m(point, vessel, np.asarray(tide.level_m(when)),
                                         squat_method)
        for text in w:
            warnings.setdefault(text.split(" = ")[0], text)
        # intervals live on the departure axis already: sample k is departure t0 + x[k]
        per_point.append(_intervals(x, margin))
    combined = per_point[0]
    for iv in per_point[1:]:
        combined = _intersect(combined, iv)

    def to_windows(ivs: list[tuple[float, float, bool, bool]], shift: float) -> list[Window]:
        return [Window(t0 + np.timedelta64(round((a + shift) * 1e9), "ns"),
                       t0 + np.timedelta64(round((b + shift) * 1e9), "ns"), ca, cb)
                for a, b, ca, cb in ivs]

    return TransitWindows(
        windows=to_windows(combined, 0.0),
        per_point=[to_windows(iv, tau) for iv, tau in zip(per_point, offsets, strict=True)],
        offsets_s=offsets, span_start=t0, span_end=t1,
        warnings=list(warnings.values()))


def critical_point(points: Sequence[RoutePoint], vessel: Vessel, tide: TideLevel,
                   departure: np.datetime64, *, squat_method: str = "barrass-confined"
                   ) -> CriticalPoint:
    """The point with the smallest margin for a departure at ``departure`` (first point)."""
    offsets = passing_offsets_s(points)
    when = _ns(departure) + (offsets * 1e9).astype("timedelta64[ns]")
    levels = np.asarray(tide.level_m(when), dtype=np.float64)
    margins, nets = [], []
    for k, point in enumerate(points):
        m, net, _w = point_margin_m(point, vessel, levels[k:k + 1], squat_method)
        margins.append(float(m[0]))
        nets.append(float(net[0]))
    i = int(np.nanargmin(margins))
    return CriticalPoint(i, points[i].chainage_km, when[i], nets[i],
                         points[i].rule.required_m(vessel.draught_m), margins[i])


def max_sailing_draught_m(points: Sequence[RoutePoint], vessel: Vessel, tide: TideLevel,
                          departure: np.datetime64, *, squat_method: str = "barrass-confined",
                          tolerance_m: float = 0.001) -> float:
    """Largest draught (m) whose margin is >= 0 at every point for this departure.

    Bisection on the draught (the margin falls with draught through the rule, squat and the
    blockage); ``vessel.draught_m`` is ignored. Returns 0.0 when even a zero draught fails.
    """
    offsets = passing_offsets_s(points)
    when = _ns(departure) + (offsets * 1e9).astype("timedelta64[ns]")
    levels = np.asarray(tide.level_m(when), dtype=np.float64)

    def worst(draught: float) -> float:
        ship = dataclasses.replace(vessel, draught_m=draught)
        return min(float(point_margin_m(p, ship, levels[k:k + 1], squat_method)[0][0])
                   for k, p in enumerate(points))

    lo, hi = 0.0, float(max(p.depth_below_cd_m for p in points) + np.nanmax(levels))
    if worst(1e-6) < 0:
        return 0.0
    while hi - lo > tolerance_m:
        mid = 0.5 * (lo + hi)
        if worst(mid) >= 0:
            lo = mid
        else:
            hi = mid
    return lo


def iso_utc(t: np.datetime64) -> str:
    """UTC ISO 8601 to the nearest second (truncation would print 00:59:59 for 3599.9999 s)."""
    rounded = (_ns(t) + np.timedelta64(500, "ms")).astype("datetime64[s]")
    return str(np.datetime_as_string(rounded, unit="s")) + "Z"


def to_s129_plan(result: TransitWindows, points: Sequence[RoutePoint], vessel: Vessel, *,
                 generation_time: np.datetime64, departure: np.datetime64 | None,
                 maximum_draught_m: float | None = None) -> dict[str, object]:
    """A JSON-ready dict shaped after IHO S-129 UnderKeelClearancePlan (FC 1.2.1).

    ``windows`` are departure windows at the first control point; each control point carries
    ``expectedPassingTime`` for ``departure`` (omitted when None) and ``expectedPassingSpeed``
    in m/s as S-129 specifies. ``generation_time`` is passed in (no clock is read).
    """
    control_points = []
    for k, (p, tau) in enumerate(zip(points, result.offsets_s, strict=True)):
        cp: dict[str, object] = {
            "id": p.point_id or f"CP{k:03d}",
            "chainage_km": round(p.chainage_km, 3),
            "expectedPassingSpeed": round(p.speed_kn * KN_TO_M_S, 3),
            "depthBelowChartDatum_m": p.depth_below_cd_m,
            "requiredUkc_m": round(p.rule.required_m(vessel.draught_m), 3),
        }
        if p.lat is not None and p.lon is not None:
            cp["position"] = {"lat": round(p.lat, 6), "lon": round(p.lon, 6)}
        if departure is not None:
            passing = _ns(departure) + np.timedelta64(round(tau * 1e9), "ns")
            cp["expectedPassingTime"] = iso_utc(passing)
        control_points.append(cp)
    return {"UnderKeelClearancePlan": {
        "vesselID": vessel.vessel_id,
        "maximumDraught": maximum_draught_m if maximum_draught_m is not None
        else vessel.draught_m,
        "generationTime": iso_utc(generation_time),
        "fixedTimeRange": {"timeStart": iso_utc(result.span_start),
                           "timeEnd": iso_utc(result.span_end)},
        "underKeelClearanceCalculationRequested": "timeWindow",
        "windows": [{"timeStart": iso_utc(w.start), "timeEnd": iso_utc(w.end),
                     "clippedStart": w.clipped_start, "clippedEnd": w.clipped_end}
                    for w in result.windows],
        "controlPoints": control_points,
    }}
