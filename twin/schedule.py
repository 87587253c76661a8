"""Channel scheduling and pilot assignment: sequence arrivals and departures through the tidal channel.

Model (docs/schedule.md):

- A :class:`MovementRequest` is one transit of the channel axis: inbound from the sea end (or an
  anchorage's chainage) to its berth's chainage, or outbound from the berth to the sea end, not before
  ``earliest_s`` (ETA at the pilot boarding area, or ready to sail at the berth).
- Tide: a transit may only start inside one of its departure windows, found with
  :func:`twin.windows.transit_windows` over the channel's control points between its two chainages, with
  the ship's draught, beam, length and Cb, the port's UKC rule per channel part (default outer 15 % /
  inner 10 % of draught, as `twin ukc window`) and Barrass squat with blockage. Windows are trimmed by
  one search step at each inner edge so that a planned start is never on an interpolated boundary.
- One-way rule: ships of the one-way class (DWT ≥ ``ChannelRules.one_way_dwt(port)``) never sail the
  axis at the same time as another one-way-class ship going the other way, with a margin (20 min).
  Two such ships may not pass even in the passing area (it is designed for a 300 kt and a 150 kt ship,
  reference zhanjiang.md §2), so the whole transit on the axis counts.
- Headway: two movements in the same direction enter the channel at least ``entry_headway_s`` apart
  (default 10 min: about 1.6 nm between ships at 10 kn; an assumption, not a published Zhanjiang
  rule), so a sequence never sends a column of ships into the channel at the same minute.
- Berth: an inbound ship reaches its berth at the end of its transit; the berth must be free then
  (the previous occupant gone for ``turnover_s``). An outbound request frees its berth when it enters
  the channel; an inbound with ``stay_h`` frees it after that stay; occupants outside the request set
  are given by ``berth_busy_until``.
- Pilots: each transit needs one pilot from ``board_h`` before entry to ``release_h`` after exit.
  Jobs separated by less than ``min_rest_h`` form one shift, which lasts at most ``max_shift_h``
  from first boarding to last release (PilotRules).

Strategies (one small Protocol, chosen with ``method=``): ``"fcfs"`` commits movements in order of
their earliest start, each at its earliest feasible time given those before it (the simulator's rule);
``"optimised"`` searches the commit order — priority rules as starting orders, then insertion moves
(local search) — minimising total weighted waiting; the FCFS order is among the candidates, so its
total is never worse than FCFS's.

Times are float UNIX seconds (UTC); nothing reads a clock; importing reads no file.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from twin.port import Port
from twin.tide import TideLevel, TideSeries
from twin.ukc import UkcRule, Vessel
from twin.windows import RoutePoint, point_margin_m, transit_windows

Direction = Literal["in", "out"]
REASONS: tuple[str, ...] = ("tide", "berth", "one_way", "headway", "pilot")
KN_M_S = 1852.0 / 3600.0
INF = math.inf


# -- inputs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MovementRequest:
    """One transit of the channel axis wanted by one ship.

    ``earliest_s``: UNIX s, the ETA at the pilot boarding area (in) or ready to sail at the berth (out);
    ``estimated`` says it is an estimate (ops: ships at berth). ``berth_id`` None: unknown berth, the
    transit then runs to the channel's inner end and no berth is checked. ``from_km``: where an
    inbound transit starts (an anchorage's chainage; default the channel's sea end). ``stay_h``: an
    inbound ship's expected stay, which frees the berth for a later inbound ship. ``weight`` scales its
    waiting in the optimiser's objective.
    """

    mmsi: int
    name: str
    dwt: float
    draught_m: float
    length_m: float
    beam_m: float
    direction: Direction
    earliest_s: float
    berth_id: str | None = None
    cb: float = 0.82
    weight: float = 1.0
    stay_h: float | None = None
    from_km: float | None = None
    estimated: bool = False
    call_id: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("in", "out"):
            raise ValueError(f"{self.mmsi}: direction must be 'in' or 'out', got {self.direction!r}")
        if not (self.draught_m > 0 and self.length_m > 0 and self.beam_m > 0):
            raise ValueError(f"{self.mmsi}: draught, length and beam must be positive")


@dataclass(frozen=True)
class PilotRules:
    """The pilot pool: how many, and their duty limits (hours).

    Defaults are estimates (the Zhanjiang pilot station's roster is not public): ``min_rest_h`` 10 is
    the STCW A-VIII/1 minimum rest in any 24 h; a shift of at most 12 h keeps a 12 h shift plus 10 h
    rest inside a day; boarding/transfer 30 min either side of the transit.
    """

    count: int = 40
    max_shift_h: float = 12.0
    min_rest_h: float = 10.0
    board_h: float = 0.5
    release_h: float = 0.5

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("pilots.count must be at least 1")
        if self.max_shift_h <= 0 or self.min_rest_h < 0 or self.board_h < 0 or self.release_h < 0:
            raise ValueError("pilot duty hours must be positive (rest and overheads ≥ 0)")


def _default_ukc() -> dict[str, UkcRule]:
    return {"outer": UkcRule(0.15), "inner": UkcRule(0.10)}


@dataclass(frozen=True)
class ChannelRules:
    """The port's traffic rules as the scheduler applies them.

    ``ukc``: rule per channel part (default 15 % outer / 10 % inner, `twin ukc window`'s Zhanjiang
    default). ``one_way_min_dwt`` None: 90 % of the segments' ``one_way_min_dwt`` (the "300,000 t
    class", ≥ 270 kt; docs/schedule.md says why). ``horizon_h``: how far past a request's earliest
    start the scheduler looks for a slot.
    """

    ukc: Mapping[str, UkcRule] = field(default_factory=_default_ukc)
    one_way_min_dwt: float | None = None
    one_way_margin_s: float = 1200.0
    entry_headway_s: float = 600.0
    turnover_s: float = 1800.0
    squat_method: str = "barrass-blockage"
    step_km: float = 0.5
    step_s: float = 60.0
    horizon_h: float = 72.0

    def one_way_dwt(self, port: Port) -> float:
        """DWT from which the one-way rule applies."""
        if self.one_way_min_dwt is not None:
            return float(self.one_way_min_dwt)
        stated = [s.one_way_min_dwt for s in port.channel.segments if s.one_way and s.one_way_min_dwt]
        return 0.9 * min(stated) if stated else INF


def channel_speed_kn(dwt: float, one_way_class: bool) -> float:
    """Speed along the channel (kn), as the simulator sails it: 9 for the one-way class, 10 above
    60 kt DWT, 11 otherwise."""
    return 9.0 if one_way_class else 10.0 if dwt > 60_000 else 11.0


def berth_chainage_km(port: Port, berth_id: str) -> float:
    """Chainage (km) of the berth pocket's centre projected on the axis (at most the channel end)."""
    c = port.berths[berth_id].pocket.centroid
    return min(port.channel.chainage_at(c.x, c.y)[0], port.channel.axis_chainage_km[-1])


# -- transits -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transit:
    """A request's fixed facts: its route, speed, duration and departure windows (UNIX s)."""

    from_km: float
    to_km: float
    speed_kn: float
    duration_s: float
    one_way: bool
    windows: tuple[tuple[float, float], ...]
    points: tuple[RoutePoint, ...]

    def next_open(self, t: float) -> float | None:
        """The first start ≥ t inside a window, None when there is none."""
        for a, b in self.windows:
            if b >= t:
                return max(a, t)
        return None


def route_points(port: Port, from_km: float, to_km: float, rules: ChannelRules, speed_kn: float
                 ) -> list[RoutePoint]:
    """Control points of the axis between two chainages, in passing order (design depths, rule per
    part, channel width)."""
    lo, hi = sorted((from_km, to_km))
    ch = port.channel
    marks = [cp for cp in ch.control_points(rules.step_km) if lo + 1e-9 < cp.chainage_km < hi - 1e-9]
    pts = []
    for km in (lo, hi):
        seg = ch.segment_at(km)
        pts.append(RoutePoint(km, float(seg.design_depth_m), rules.ukc[seg.part], speed_kn,
                              channel_width_m=seg.width_m, zone=seg.part))
    pts[1:1] = [RoutePoint(cp.chainage_km, float(cp.design_depth_m), rules.ukc[cp.part], speed_kn,
                           channel_width_m=cp.width_m, zone=cp.part) for cp in marks]
    return pts if to_km >= from_km else pts[::-1]


def ukc_vessel(req: MovementRequest, speed_kn: float) -> Vessel:
    """The request as twin.ukc's Vessel."""
    return Vessel(draught_m=req.draught_m, speed_kn=speed_kn, cb=req.cb, beam_m=req.beam_m,
                  length_m=req.length_m, vessel_id=str(req.mmsi))


def _dt64(t_s: float) -> np.datetime64:
    return np.datetime64(round(t_s * 1e6), "us")


def sampled_tide(tide: TideLevel, t0_s: float, t1_s: float, step_s: float = 60.0) -> TideSeries:
    """The tide sampled every ``step_s`` over [t0, t1] (linear between samples: error ~1e-5 m at
    1 min for this tide), so that many window searches share one harmonic evaluation."""
    n = math.ceil((t1_s - t0_s) / step_s) + 1
    times = (np.datetime64(round(t0_s), "s") + np.arange(n) * np.timedelta64(round(step_s), "s"))
    return TideSeries(times, np.asarray(tide.level_m(times), dtype=np.float64))


def prepare_transits(port: Port, requests: Sequence[MovementRequest], tide: TideLevel,
                     rules: ChannelRules) -> list[Transit]:
    """Route, speed, duration and departure windows of every request (the expensive part: window
    searches for the ships the tide can hold; the others are open at any tide of the span)."""
    if not requests:
        return []
    big_dwt = rules.one_way_dwt(port)
    end_km, sea_km = port.channel.axis_chainage_km[-1], port.channel.axis_chainage_km[0]
    span0 = min(r.earliest_s for r in requests) - 3600.0
    span1 = max(r.earliest_s for r in requests) + rules.horizon_h * 3600.0 + 12 * 3600.0
    series = sampled_tide(tide, span0, span1, rules.step_s)
    low = float(np.nanmin(series.levels_m)) - 0.02
    out = []
    for r in requests:
        big = r.dwt >= big_dwt
        v = channel_speed_kn(r.dwt, big)
        k_berth = berth_chainage_km(port, r.berth_id) if r.berth_id else end_km
        k0, k1 = ((r.from_km if r.from_km is not None else sea_km), k_berth) if r.direction == "in" \
            else (k_berth, sea_km)
        pts = route_points(port, k0, k1, rules, v)
        dur = abs(k1 - k0) * 1000.0 / (v * KN_M_S)
        ship = ukc_vessel(r, v)
        worst = min(float(point_margin_m(p, ship, np.array([low]), rules.squat_method)[0][0]) for p in pts)
        if worst >= 0:
            windows: tuple[tuple[float, float], ...] = ((-INF, INF),)
        else:
            res = transit_windows(pts, ship, series, _dt64(r.earliest_s),
                                  _dt64(r.earliest_s + rules.horizon_h * 3600.0), step_s=rules.step_s,
                                  squat_method=rules.squat_method)
            wins = []
            for w in res.windows:
                a = float((w.start - np.datetime64(0, "s")) / np.timedelta64(1, "us")) / 1e6
                b = float((w.end - np.datetime64(0, "s")) / np.timedelta64(1, "us")) / 1e6
                a = a if w.clipped_start else a + rules.step_s
                b = b - rules.step_s  # the search span's end is not the window's: trim it too
                if b >= a:
                    wins.append((a, b))
            windows = tuple(wins)
        out.append(Transit(k0, k1, v, dur, big, windows, tuple(pts)))
    return out


# -- the plan ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedMovement:
    """One request as planned: channel entry/exit (UNIX s), pilot, waiting and why.

    ``entry_s`` None: no slot within the horizon (``reasons`` says which rule blocked it last).
    ``reasons``: seconds of waiting caused by each rule (tide, berth, one_way, headway, pilot), in the order
    the rules pushed the start.
    """

    request: MovementRequest
    transit: Transit
    entry_s: float | None
    pilot: int | None
    wait_s: float
    reasons: dict[str, float]

    @property
    def exit_s(self) -> float | None:
        return None if self.entry_s is None else self.entry_s + self.transit.duration_s

    @property
    def reason(self) -> str:
        """The rule that caused most of the wait ("" for none)."""
        if not self.reasons:
            return ""
        return max(self.reasons.items(), key=lambda kv: kv[1])[0]


@dataclass(frozen=True)
class SchedulePlan:
    """The planned movements in order of channel entry, then the unscheduled ones."""

    method: str
    movements: tuple[PlannedMovement, ...]
    pilots: PilotRules
    cost: float

    @property
    def scheduled(self) -> list[PlannedMovement]:
        return [m for m in self.movements if m.entry_s is not None]

    @property
    def unscheduled(self) -> list[PlannedMovement]:
        return [m for m in self.movements if m.entry_s is None]

    def summary(self) -> dict[str, Any]:
        """Waiting (h: total, mean, max), transits per day over the planned span, channel occupancy
        hours (sum of transit durations), one-way-class hours, pilot hours (boarding to release)."""
        done = self.scheduled
        waits = [m.wait_s / 3600.0 for m in done]
        if done:
            t0 = min(m.request.earliest_s for m in done)
            t1 = max(m.exit_s or 0.0 for m in done)
            days = max((t1 - t0) / 86400.0, 1.0)
        else:
            days = 1.0
        p = self.pilots
        return {
            "method": self.method,
            "movements": len(self.movements),
            "scheduled": len(done),
            "unscheduled": len(self.movements) - len(done),
            "wait_total_h": round(sum(waits), 3),
            "wait_mean_h": round(sum(waits) / len(waits), 3) if waits else 0.0,
            "wait_max_h": round(max(waits), 3) if waits else 0.0,
            "waited": sum(1 for w in waits if w > 1e-6),
            "transits_per_day": round(len(done) / days, 2),
            "channel_occupancy_h": round(sum(m.transit.duration_s for m in done) / 3600.0, 2),
            "one_way_class_h": round(sum(m.transit.duration_s for m in done if m.transit.one_way) / 3600.0,
                                     2),
            "pilot_h": round(sum(m.transit.duration_s / 3600.0 + p.board_h + p.release_h for m in done), 2),
            "pilots_used": len({m.pilot for m in done}),
        }


# -- the state a decoder commits into -------------------------------------------------------------------
class PilotPool:
    """Pilot jobs [start, end] (UNIX s) per pilot, with the shift and rest rules of PilotRules.

    Commits can be undone in reverse order (``mark()``/``undo(mark)``) so that a search can try orders.
    """

    def __init__(self, rules: PilotRules) -> None:
        self.rules = rules
        self.jobs: list[list[tuple[float, float]]] = [[] for _ in range(rules.count)]
        self.log: list[tuple[int, tuple[float, float]]] = []
        self._rest = rules.min_rest_h * 3600.0
        self._shift = rules.max_shift_h * 3600.0

    def job(self, entry_s: float, duration_s: float) -> tuple[float, float]:
        """The pilot's time for a transit: boarding before entry to release after exit."""
        return (entry_s - self.rules.board_h * 3600.0, entry_s + duration_s + self.rules.release_h * 3600.0)

    def fits(self, pilot: int, a: float, b: float) -> bool:
        """Pilot ``pilot`` can take the job [a, b]: no overlap, its shift within the limit."""
        if b - a > self._shift:
            return False
        jobs = self.jobs[pilot]
        i = bisect.bisect_left(jobs, (a, b))
        if i > 0 and jobs[i - 1][1] > a:
            return False
        if i < len(jobs) and jobs[i][0] < b:
            return False
        lo, hi = a, b
        k = i - 1
        while k >= 0 and lo - jobs[k][1] < self._rest:
            lo = jobs[k][0]
            k -= 1
        k = i
        while k < len(jobs) and jobs[k][0] - hi < self._rest:
            hi = jobs[k][1]
            k += 1
        return hi - lo <= self._shift

    def pick(self, a: float, b: float) -> int | None:
        """A pilot for [a, b]: one already on shift (fewest idle minutes before the job), else the one
        with the fewest hours so far; None when nobody fits."""
        best: tuple[float, float, int] | None = None
        for p in range(self.rules.count):
            if not self.fits(p, a, b):
                continue
            jobs = self.jobs[p]
            i = bisect.bisect_left(jobs, (a, b))
            gap = a - jobs[i - 1][1] if i > 0 else INF
            on_shift = gap < self._rest
            hours = sum(e - s for s, e in jobs)
            key = (gap if on_shift else INF, hours, p)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    def next_change(self, a: float) -> float | None:
        """The next job start after ``a`` at which a pilot's availability can change (a job end, or a
        rest completed), or None when no pilot has a later job end."""
        cands = [e + extra for jobs in self.jobs for _s, e in jobs for extra in (0.0, self._rest)
                 if e + extra > a + 1e-6]
        return min(cands) if cands else None

    def book(self, pilot: int, a: float, b: float) -> None:
        bisect.insort(self.jobs[pilot], (a, b))
        self.log.append((pilot, (a, b)))

    def mark(self) -> int:
        return len(self.log)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            p, job = self.log.pop()
            self.jobs[p].remove(job)


class Problem:
    """A scheduling problem with its fixed transits; ``decode(order)`` plans it in a commit order."""

    def __init__(self, port: Port, requests: Sequence[MovementRequest], tide: TideLevel, *,
                 rules: ChannelRules | None = None, pilots: PilotRules | None = None,
                 berth_busy_until: Mapping[str, float] | None = None,
                 transits: Sequence[Transit] | None = None) -> None:
        self.port = port
        self.requests = list(requests)
        self.rules = rules or ChannelRules()
        self.pilots = pilots or PilotRules()
        self.transits = list(transits) if transits is not None else \
            prepare_transits(port, self.requests, tide, self.rules)
        self.berth_busy_until = dict(berth_busy_until or {})
        # an outbound request occupies its berth until it leaves: an inbound ship for that berth waits
        self.leaving = {r.berth_id: i for i, r in enumerate(self.requests)
                        if r.direction == "out" and r.berth_id}

    def fcfs_order(self) -> list[int]:
        """Commit order by earliest start (then MMSI, then outbound first)."""
        return sorted(range(len(self.requests)),
                      key=lambda i: (self.requests[i].earliest_s, self.requests[i].mmsi,
                                     self.requests[i].direction != "out"))

    def decode(self, order: Sequence[int]) -> tuple[list[PlannedMovement], float]:
        """Commit the movements in ``order``, each at its earliest feasible start given those before;
        an inbound ship whose berth is held by a not-yet-committed outbound request waits for it.
        Returns the planned movements (indexed as the requests) and the cost: total weighted waiting
        (s) plus, per unscheduled movement, twice the horizon."""
        n = len(self.requests)
        planned: list[PlannedMovement | None] = [None] * n
        one_way: list[tuple[float, float, int]] = []
        entries: dict[int, list[float]] = {1: [], -1: []}  # committed entry times per direction, sorted
        berth: dict[str, list[tuple[float, float]]] = {
            b: [(-INF, t)] for b, t in self.berth_busy_until.items()}
        for b in self.leaving:
            berth.setdefault(b, []).append((-INF, INF))  # replaced when the outbound is committed
        pool = PilotPool(self.pilots)
        pending = list(order)
        while pending:
            pick = next((i for i in pending if not self._blocked(i, planned)), pending[0])
            pending.remove(pick)
            planned[pick] = self._commit(pick, one_way, entries, berth, pool)
        out = [p for p in planned if p is not None]
        horizon = self.rules.horizon_h * 3600.0
        cost = sum(m.request.weight * (m.wait_s if m.entry_s is not None else 2 * horizon) for m in out)
        return out, cost

    def _blocked(self, i: int, planned: Sequence[PlannedMovement | None]) -> bool:
        r = self.requests[i]
        j = self.leaving.get(r.berth_id or "") if r.direction == "in" else None
        return j is not None and planned[j] is None

    def _commit(self, i: int, one_way: list[tuple[float, float, int]], entries: dict[int, list[float]],
                berth: dict[str, list[tuple[float, float]]], pool: PilotPool) -> PlannedMovement:
        r, tr = self.requests[i], self.transits[i]
        rules = self.rules
        dur = tr.duration_s
        sign = 1 if r.direction == "in" else -1
        reasons: dict[str, float] = {}
        limit = r.earliest_s + rules.horizon_h * 3600.0
        stay = INF if r.stay_h is None else r.stay_h * 3600.0
        t = r.earliest_s
        last = "tide"

        def push(reason: str, t_new: float | None) -> float:
            nonlocal last
            last = reason
            if t_new is None:
                return INF
            reasons[reason] = reasons.get(reason, 0.0) + (t_new - t)
            return t_new

        pilot: int | None = None
        while t <= limit:
            t_open = tr.next_open(t)
            if t_open is None or t_open > t:
                t = push("tide", t_open)
                continue
            if r.direction == "in" and r.berth_id:
                arrive = t + dur
                clash = [f for a, f in berth.get(r.berth_id, [])
                         if not (f + rules.turnover_s <= arrive or a >= arrive + stay + rules.turnover_s)]
                if clash:
                    f = max(clash)
                    t = push("berth", None if f == INF else max(f + rules.turnover_s - dur, t + 1.0))
                    continue
            if tr.one_way:
                m = rules.one_way_margin_s
                clash = [b1 for a1, b1, d in one_way if d != sign and a1 - m < t + dur and t < b1 + m]
                if clash:
                    t = push("one_way", max(clash) + m)
                    continue
            h = rules.entry_headway_s
            same = entries[sign]
            k = bisect.bisect_right(same, t - h)  # an entry exactly one headway before is allowed
            if k < len(same) and same[k] < t + h:
                t = push("headway", same[k] + h)
                continue
            a, b = pool.job(t, dur)
            pilot = pool.pick(a, b)
            if pilot is None:
                nxt = pool.next_change(a)
                t = push("pilot", None if nxt is None else nxt + pool.rules.board_h * 3600.0)
                continue
            break
        if t > limit or pilot is None:
            return PlannedMovement(r, tr, None, None, INF, {last: INF})
        pool.book(pilot, *pool.job(t, dur))
        bisect.insort(entries[sign], t)
        if tr.one_way:
            one_way.append((t, t + dur, sign))
        if r.berth_id:
            slots = berth.setdefault(r.berth_id, [])
            if r.direction == "out":
                if (-INF, INF) in slots:
                    slots.remove((-INF, INF))
                slots.append((-INF, t))
            else:
                slots.append((t + dur, t + dur + stay))
        return PlannedMovement(r, tr, t, pilot, t - r.earliest_s, {k: v for k, v in reasons.items() if v > 0})

    def plan(self, order: Sequence[int], method: str) -> SchedulePlan:
        movements, cost = self.decode(order)
        movements.sort(key=lambda m: (m.entry_s if m.entry_s is not None else INF, m.request.mmsi))
        return SchedulePlan(method, tuple(movements), self.pilots, cost)


# -- strategies --------------------------------------------------------------------------------------
class Sequencer(Protocol):
    """A way to choose the commit order of a problem's movements."""

    @property
    def name(self) -> str: ...

    def order(self, problem: Problem) -> list[int]: ...


@dataclass(frozen=True)
class FirstComeFirstServed:
    """The baseline: commit in order of earliest start."""

    name: str = "fcfs"

    def order(self, problem: Problem) -> list[int]:
        return problem.fcfs_order()


def improve_order(order: Sequence[int], cost: Callable[[Sequence[int]], float], *, radius: int = 6,
                  budget: int = 2000) -> tuple[list[int], float]:
    """Local search on a commit order: move one item up to ``radius`` places earlier or later, keep a
    move when it lowers the cost, sweep until a sweep finds nothing or ``budget`` evaluations are
    spent (a count, not a time: the result is deterministic). Returns (order, cost)."""
    best = list(order)
    best_cost = cost(best)
    used = 1
    improved = True
    while improved and used < budget:
        improved = False
        for pos in range(len(best)):
            for new in [p for d in range(1, radius + 1) for p in (pos - d, pos + d)]:
                if not 0 <= new < len(best) or used >= budget:
                    continue
                trial = best[:]
                trial.insert(new, trial.pop(pos))
                c = cost(trial)
                used += 1
                if c < best_cost - 1e-6:
                    best, best_cost, improved = trial, c, True
                    break
    return best, best_cost


@dataclass(frozen=True)
class Optimised:
    """Priority rules, then local search on the commit order (minimising total weighted waiting).

    Starting orders: FCFS; by the first tide-feasible start; by weight-per-transit-hour (short and
    important first) among ships ready at the same time. The best is improved by :func:`improve_order`.
    """

    name: str = "optimised"
    radius: int = 6
    budget: int = 1500

    def order(self, problem: Problem) -> list[int]:
        reqs, trs = problem.requests, problem.transits
        fcfs = problem.fcfs_order()

        def ready(i: int) -> float:
            t = trs[i].next_open(reqs[i].earliest_s)
            return INF if t is None else t

        starts = [fcfs,
                  sorted(fcfs, key=lambda i: (ready(i), reqs[i].mmsi)),
                  sorted(fcfs, key=lambda i: (math.floor(min(ready(i), 1e15) / 3600.0),
                                              -reqs[i].weight / trs[i].duration_s, reqs[i].mmsi))]

        def cost(o: Sequence[int]) -> float:
            return problem.decode(o)[1]

        best = min(starts, key=cost)
        return improve_order(best, cost, radius=self.radius, budget=self.budget)[0]


SEQUENCERS: dict[str, Callable[[], Sequencer]] = {"fcfs": FirstComeFirstServed, "optimised": Optimised}


def schedule(port: Port, requests: Sequence[MovementRequest], tide: TideLevel, *, method: str = "optimised",
             rules: ChannelRules | None = None, pilots: PilotRules | None = None,
             berth_busy_until: Mapping[str, float] | None = None,
             transits: Sequence[Transit] | None = None) -> SchedulePlan:
    """Plan the requests' channel movements and pilots with ``method`` ("fcfs" or "optimised").

    ``tide``: level above chart datum (m) at UTC times. ``berth_busy_until``: berth id -> UNIX s when
    a ship not in the requests leaves it (inf: not within the horizon). ``transits``: precomputed by
    :func:`prepare_transits` (to share them between methods). Raises ValueError for an unknown method,
    KeyError for an unknown berth.
    """
    if method not in SEQUENCERS:
        raise ValueError(f"unknown scheduling method {method!r}; known: {sorted(SEQUENCERS)}")
    problem = Problem(port, requests, tide, rules=rules, pilots=pilots, berth_busy_until=berth_busy_until,
                      transits=transits)
    return problem.plan(SEQUENCERS[method]().order(problem), method)


def compare(port: Port, requests: Sequence[MovementRequest], tide: TideLevel, **kw: object
            ) -> dict[str, dict[str, Any]]:
    """FCFS and the optimiser on the same requests (transits computed once): their summaries."""
    rules = kw.pop("rules", None) or ChannelRules()
    assert isinstance(rules, ChannelRules)
    transits = prepare_transits(port, requests, tide, rules)
    return {m: schedule(port, requests, tide, method=m, rules=rules, transits=transits,
                        **kw).summary()  # type: ignore[arg-type]  # the remaining keywords of schedule()
            for m in ("fcfs", "optimised")}


__all__ = ["REASONS", "ChannelRules", "FirstComeFirstServed", "MovementRequest", "Optimised", "PilotPool",
           "PilotRules", "PlannedMovement", "Problem", "SchedulePlan", "Sequencer", "Transit",
           "berth_chainage_km", "channel_speed_kn", "compare", "improve_order", "prepare_transits",
           "route_points", "sampled_tide", "schedule"]
