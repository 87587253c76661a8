"""The voyage planner: every simulated vessel's whole timeline, decided up front.

Times are float UNIX seconds (UTC); geometry is in the port's local metres. The planner takes
arrivals in order and commits each call completely before the next one, so every constraint is
checked against everything already decided:

- berth: a compatible berth (cargo kind, `max_dwt`, laden draught ≤ design depth) free from the
  ship's arrival at the berth until its departure plus a 30 min turnover;
- tide: static under-keel clearance of 10 % of draught over the shallowest design depth of the
  channel stretch the ship sails, `depth_cd + tide(t) ≥ 1.10 × draught` for the whole transit
  (the rule of thumb of PIANC WG 121 for sheltered channels; a simplification of twin.ukc);
- one-way channel: ships of the 300,000 t class (from 90 % of the segments' `one_way_min_dwt`,
  i.e. 270,000 DWT: VLCCs and Valemax ore carriers; or `one_way_min_dwt` when given) never use the
  channel axis at the same time as another such ship sailing the other way (with a 20 min margin);
- pilots (only with `pilots`, twin.schedule.PilotRules): every transit of the axis needs a pilot free
  from `board_h` before to `release_h` after it, within the pool's shift and rest limits.

A ship that cannot proceed to its berth on arrival waits at an anchorage for its size and cargo:
tankers at the dangerous-goods anchorage, other ships above 100,000 DWT at the large-ship
anchorage, the rest at the inner anchorages (ANC-IN-1, ANC-IN-2, ANC-QP). If even the first
stretch (pilot boarding area to the anchorage) would break the tide or one-way rule, its arrival
is shifted later (arrivals are random anyway).

Event order of one call: port_limit_arrival → pilot_on_board → [anchorage_arrival →
anchorage_departure] → all_fast → departure_from_berth → port_limit_departure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from feeds.sim.fleet import CLASS_BY_NAME, TEU_TONNES, Particulars
from feeds.sim.routes import Path, Router
from twin.port import Berth, Port
from twin.schedule import PilotPool, PilotRules

KN = 1852.0 / 3600.0  # m/s per knot
STEP_S = 600.0  # search step of the planner
# booking list sizes per berth, one-way list size, sizes per anchorage, pilot log mark (Planner.checkpoint)
BookingMark = tuple[dict[str, int], int, dict[str, int], int]
TURNOVER_S = 1800.0
ONE_WAY_MARGIN_S = 1200.0
UKC_FRACTION = 0.10
MAX_WAIT_S = 5 * 86400.0
PILOT_JOIN_KM = 5.0  # where a ship from the pilot boarding area joins the channel axis
FINAL_APPROACH_M = 600.0
ONE_WAY_CLASS_FRACTION = 0.9


@dataclass(frozen=True)
class Leg:
    """One piece of a timeline: a move along `path` at constant speed, or a stay at `point`.

    kind: "move" | "anchor" | "moored" | "idle" (service craft waiting, no nav status).
    `heading_deg` is the moored heading or the mean heading at anchor.
    """

    t0: float
    t1: float
    kind: str
    path: Path | None = None
    point: tuple[float, float] | None = None
    heading_deg: float = 0.0
    location_id: str | None = None
    on_axis: bool = False  # a move along the channel axis (where the tide and one-way rules apply)


@dataclass
class Call:
    """One vessel's planned port call, with its legs and port-call events."""

    ship: Particulars
    call_id: str
    berth_id: str
    cargo: str
    tonnes: float
    teu: int
    direction: str
    draught_in_m: float
    draught_out_m: float
    legs: list[Leg] = field(default_factory=list)
    events: list[tuple[float, str, str | None]] = field(default_factory=list)
    anchorage_id: str | None = None
    ready_s: float = 0.0  # end of the work at the berth: departure from then is no wait

    @property
    def t_start(self) -> float:
        return self.legs[0].t0

    @property
    def t_end(self) -> float:
        return self.legs[-1].t1

    def event_time(self, name: str) -> float | None:
        return next((t for t, e, _ in self.events if e == name), None)


class Planner:
    """Commits calls one by one against berth, tide and one-way-channel bookings."""

    def __init__(self, port: Port, router: Router, tide_t: np.ndarray, tide_m: np.ndarray,
                 rng: np.random.Generator, ukc_fraction: dict[str, float] | None = None,
                 pilots: PilotRules | None = None, one_way_min_dwt: float | None = None) -> None:
        self.port = port
        self.pilots = None if pilots is None else PilotPool(pilots)
        # required static UKC as a fraction of draught per channel part (outer/inner); 10 % otherwise
        self.ukc_fraction = dict(ukc_fraction or {})
        self.router = router
        self.rng = rng
        self.tide_t = tide_t  # regular grid of UNIX seconds
        self.tide_m = tide_m
        self.berth_busy: dict[str, list[tuple[float, float]]] = {b: [] for b in port.berths}
        self.one_way: list[tuple[float, float, int]] = []  # (t0, t1, +1 inbound / -1 outbound)
        ch = port.channel
        self.k_end = ch.axis_chainage_km[-1]
        # The rule is published for the "300,000 t class" (30万吨级); the VLCCs of that class are
        # 270–320 kt, so it applies from 90 % of the stated tonnage (a conservative reading).
        self.one_way_dwt = one_way_min_dwt if one_way_min_dwt is not None else ONE_WAY_CLASS_FRACTION * min(
            (s.one_way_min_dwt for s in ch.segments if s.one_way_min_dwt), default=10**9)
        m = port.metric
        self._axis_xy = np.column_stack(m.xy(*np.asarray(ch.axis.coords).T))
        self._axis_km = np.asarray(ch.axis_chainage_km)
        limit = port.zones["Z-PORT-LIMIT"].area
        self.limit_m = m.to_m(limit)
        pilot = port.anchorages["ANC-PILOT"].area
        self.pilot_m = m.to_m(pilot)
        self.berths = {b.id: b for b in port.berths.values() if b.status in ("operational", "commissioning")}
        self._berth_pt = {b.id: self._xy(b.pocket.centroid) for b in port.berths.values()}
        self._berth_km = {bid: self._km(pt) for bid, pt in self._berth_pt.items()}
        self._anchor_area = {a.id: m.to_m(a.area) for a in port.anchorages.values()}
        # (x, y, from, to) of every committed anchoring, per anchorage, to spread the ships out
        self.anchor_points: dict[str, list[tuple[float, float, float, float]]] = {
            a: [] for a in port.anchorages}

    # -- geometry helpers -------------------------------------------------------------
    def _xy(self, p: shapely.Point) -> tuple[float, float]:
        x, y = self.port.metric.xy(np.array([p.x]), np.array([p.y]))
        return float(x[0]), float(y[0])

    def _km(self, xy: tuple[float, float]) -> float:
        lon, lat = self.port.metric.lonlat(np.array([xy[0]]), np.array([xy[1]]))
        km, _ = self.port.channel.chainage_at(float(lon[0]), float(lat[0]))
        return float(np.clip(km, PILOT_JOIN_KM, self.k_end))

    def axis_point(self, km: float) -> tuple[float, float]:
        return (float(np.interp(km, self._axis_km, self._axis_xy[:, 0])),
                float(np.interp(km, self._axis_km, self._axis_xy[:, 1])))

    def axis_path(self, k0: float, k1: float) -> Path:
        """The channel axis from chainage k0 to k1 (either direction)."""
        lo, hi = sorted((k0, k1))
        inner = (self._axis_km > lo) & (self._axis_km < hi)
        kms = np.concatenate([[lo], self._axis_km[inner], [hi]])
        xy = np.array([self.axis_point(k) for k in kms])
        return Path.of(xy if k1 >= k0 else xy[::-1])

    def random_point_in(self, area: shapely.Geometry, inset_m: float) -> tuple[float, float]:
        inner = area.buffer(-inset_m)
        x0, y0, x1, y1 = inner.bounds
        for _ in range(1000):
            x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if inner.contains(shapely.Point(x, y)):
                return float(x), float(y)
        raise ValueError("anchorage polygon too small for the inset")

    def _anchor_spot(self, anchorage: str, inset_m: float, t: float) -> tuple[float, float]:
        """The best of 30 random spots: farthest from the ships anchored there at or after `t`."""
        area = self._anchor_area[anchorage]
        spots = [self.random_point_in(area, inset_m) for _ in range(30)]
        busy = np.array([(x, y) for x, y, _, t1 in self.anchor_points[anchorage] if t1 > t]).reshape(-1, 2)
        if busy.size == 0:
            return spots[0]
        gaps = [float(np.min(np.hypot(busy[:, 0] - x, busy[:, 1] - y))) for x, y in spots]
        return spots[int(np.argmax(gaps))]

    # -- constraint checks -----------------------------------------------------------------
    def min_depth(self, k0: float, k1: float) -> float:
        lo, hi = sorted((k0, k1))
        return min(s.design_depth_m for s in self.port.channel.segments
                   if s.chainage_to_km > lo and s.chainage_from_km < hi)

    def need_m(self, k0: float, k1: float, draught_m: float) -> float:
        """Tide (m above CD) the stretch k0–k1 needs: max over its segments of (1 + UKC) x draught - depth."""
        lo, hi = sorted((k0, k1))
        return max((1.0 + self.ukc_fraction.get(s.part, UKC_FRACTION)) * draught_m - s.design_depth_m
                   for s in self.port.channel.segments if s.chainage_to_km > lo and s.chainage_from_km < hi)

    def tide_ok(self, t0: float, t1: float, draught_m: float, depth_m: float | None = None,
                need_m: float | None = None) -> bool:
        """The tide stays at or above the need over [t0, t1]: `need_m` (m above CD) when given, else
        the 10 % rule over `depth_m`."""
        need = need_m if need_m is not None else (1.0 + UKC_FRACTION) * draught_m - float(depth_m or 0.0)
        if need <= float(self.tide_m.min()):
            return True
        i0 = int(np.searchsorted(self.tide_t, t0)) - 1
        i1 = int(np.searchsorted(self.tide_t, t1)) + 1
        if i0 < 0 or i1 > len(self.tide_t):
            return False
        return bool(self.tide_m[i0:i1].min() >= need)

    def channel_free(self, t0: float, t1: float, direction: int) -> bool:
        return all(d == direction or b + ONE_WAY_MARGIN_S <= t0 or a - ONE_WAY_MARGIN_S >= t1
                   for a, b, d in self.one_way)

    def pilot_free(self, t0: float, t1: float) -> bool:
        """A pilot can take a transit of the axis over [t0, t1] (always, without a pilot pool)."""
        if self.pilots is None:
            return True
        return self.pilots.pick(*self.pilots.job(t0, t1 - t0)) is not None

    def book_pilot(self, t0: float, t1: float) -> None:
        """Book a pilot for the axis transit [t0, t1]; RuntimeError if none fits (a planner bug:
        every booking follows a `pilot_free` check on the same bookings)."""
        if self.pilots is None:
            return
        a, b = self.pilots.job(t0, t1 - t0)
        p = self.pilots.pick(a + 1e-3, b - 1e-3)  # the check may have seen these times 1 µs apart
        if p is None:
            raise RuntimeError(f"no pilot for the transit {t0:.0f}-{t1:.0f} that was checked free")
        self.pilots.book(p, a, b)

    def checkpoint(self) -> BookingMark:
        """The sizes of every booking list: `restore` undoes the calls planned since (they only append)."""
        return ({b: len(v) for b, v in self.berth_busy.items()}, len(self.one_way),
                {a: len(v) for a, v in self.anchor_points.items()}, self.pilots.mark() if self.pilots else 0)

    def restore(self, mark: BookingMark) -> None:
        """Forget every booking made after `checkpoint()` returned `mark`."""
        berths, one_way, anchors, pilots = mark
        for b, n in berths.items():
            del self.berth_busy[b][n:]
        del self.one_way[one_way:]
        for a, n in anchors.items():
            del self.anchor_points[a][n:]
        if self.pilots is not None:
            self.pilots.undo(pilots)

    def berth_free(self, berth_id: str, t0: float, t1: float) -> bool:
        return all(b + TURNOVER_S <= t0 or a >= t1 + TURNOVER_S for a, b in self.berth_busy[berth_id])

    def compatible(self, ship: Particulars) -> list[Berth]:
        """Berths that take this ship, smallest first (a big berth is kept for big ships)."""
        fits = [b for b in self.berths.values()
                if b.cargo == ship.cargo and ship.dwt <= b.max_dwt
                and ship.draught_laden_m <= b.design_depth_m]
        return sorted(fits, key=lambda b: (b.max_dwt, b.id))

    def anchorage_for(self, ship: Particulars) -> str:
        cls = CLASS_BY_NAME[ship.ship_class]
        if cls.tanker:
            return "ANC-DG"
        if ship.dwt > 100_000:
            return "ANC-OUT-LS"
        return str(self.rng.choice(["ANC-IN-1", "ANC-IN-2", "ANC-QP"]))

    # -- the plan of one call -----------------------------------------------------------
    def cargo_of(self, ship: Particulars) -> tuple[float, int, str, float, float]:
        """(tonnes, teu, direction, arrival draught, departure draught) of the call."""
        rng = self.rng
        laden, ballast = ship.draught_laden_m, ship.draught_ballast_m
        if ship.ship_class == "container":
            teu = round(ship.dwt / 13.0 * float(rng.uniform(0.35, 0.65)))
            d = round((laden + ballast) / 2 + rng.uniform(0, 0.2) * (laden - ballast), 1)
            return teu * TEU_TONNES, teu, "import", d, d
        tonnes = round(ship.dwt * float(rng.uniform(0.88, 0.97)), -2)
        if ship.ship_class in ("general", "product", "ro_ro"):
            direction = "import" if rng.random() < 0.55 else "export"
            if ship.ship_class != "product":
                tonnes = round(tonnes * float(rng.uniform(0.5, 0.9)), -1)
        else:
            direction = "import"
        if direction == "import":
            return tonnes, 0, direction, laden, ballast
        return tonnes, 0, direction, ballast, laden

    def plan(self, ship: Particulars, t_spawn: float, call_no: int) -> Call | None:
        """The whole call of `ship` appearing at `t_spawn`, committed; None if no berth within 5 days."""
        berths = self.compatible(ship)
        if not berths:
            return None
        tonnes, teu, direction, d_in, d_out = self.cargo_of(ship)
        cls = CLASS_BY_NAME[ship.ship_class]
        big = ship.dwt >= self.one_way_dwt
        rate = cls.handling_tph
        work_h = (teu if teu else tonnes) / rate
        stay_s = (work_h * float(self.rng.uniform(0.9, 1.3)) + float(self.rng.uniform(2.0, 4.0))) * 3600.0
        v_app = (12.0 if ship.dwt > 100_000 else 13.5) * KN
        v_ch = (9.0 if big else 10.0 if ship.dwt > 60_000 else 11.0) * KN
        v_conn = 6.0 * KN
        v_final = 2.5 * KN
        call = Call(ship, f"{ship.mmsi}-{call_no:04d}", "", ship.cargo, tonnes, teu, direction, d_in, d_out)

        # Approach: outside the port limit → pilot boarding point → channel axis at PILOT_JOIN_KM.
        rng = self.rng
        pilot_pt = self.random_point_in(self.pilot_m, 300.0)
        bearing = np.radians(rng.uniform(80.0, 190.0))
        spawn = (pilot_pt[0] + 17_000 * np.sin(bearing), pilot_pt[1] + 17_000 * np.cos(bearing))
        approach = Path.of(np.array([spawn, pilot_pt]))
        join = Path.of(np.array([pilot_pt, self.axis_point(PILOT_JOIN_KM)]))
        t_join = t_spawn + approach.length_m / v_app + join.length_m / (7.0 * KN)

        # Earliest feasible departure from the join point straight to a berth, or a wait.
        cache: dict[tuple[str, float], tuple[Path, Path, float]] = {}

        def transit(berth_id: str, k_from: float) -> tuple[Path, Path, float]:
            if (berth_id, k_from) not in cache:
                cache[berth_id, k_from] = _transit(berth_id, k_from)
            return cache[berth_id, k_from]

        def _transit(berth_id: str, k_from: float) -> tuple[Path, Path, float]:
            k_b = self._berth_km[berth_id]
            axis = self.axis_path(k_from, k_b)
            conn = self.router.path(self.axis_point(k_b), self._berth_pt[berth_id])
            dur = axis.length_m / v_ch + max(conn.length_m - FINAL_APPROACH_M, 0) / v_conn \
                + min(conn.length_m, FINAL_APPROACH_M) / v_final
            return axis, conn, dur

        def inbound_ok(t0: float, berth_id: str, k_from: float) -> tuple[bool, float, float]:
            axis, _, dur = transit(berth_id, k_from)
            t_axis_end = t0 + axis.length_m / v_ch
            t_fast = t0 + dur
            need = self.need_m(k_from, self._berth_km[berth_id], d_in)
            # Big ships may wait for the one-way channel after their work: keep the berth longer.
            ok = self.berth_free(berth_id, t_fast, t_fast + stay_s + (6 * 3600.0 if big else 0.0)) \
                and self.tide_ok(t0, t_axis_end, d_in, need_m=need) \
                and (not big or self.channel_free(t0, t_axis_end, +1)) \
                and self.pilot_free(t0, t_axis_end)
            return ok, t_fast, t_axis_end

        chosen: tuple[str, float] | None = None
        pilot_mark = self.pilots.mark() if self.pilots else 0
        for b in berths:
            ok, _, _ = inbound_ok(t_join, b.id, PILOT_JOIN_KM)
            if ok:
                chosen = (b.id, t_join)
                break

        anchorage = None
        if chosen is None:
            anchorage = self.anchorage_for(ship)
            swing = min(100.0 + 0.3 * ship.length_m, 200.0)
            q = self._anchor_spot(anchorage, swing + 150.0, t_join)
            k_a = self._km(q)
            to_anc_axis = self.axis_path(PILOT_JOIN_KM, k_a)
            conn_a = self.router.path(self.axis_point(k_a), q)
            # The first stretch must itself respect tide and one-way rules: shift arrival if not.
            need_a = self.need_m(PILOT_JOIN_KM, k_a, d_in)
            shift = 0.0
            while True:
                t0 = t_join + shift
                t1 = t0 + to_anc_axis.length_m / v_ch
                if self.tide_ok(t0, t1, d_in, need_m=need_a) and (not big or self.channel_free(t0, t1, +1)) \
                        and self.pilot_free(t0, t1):
                    break
                shift += STEP_S
                if shift > MAX_WAIT_S:
                    return None
            self.book_pilot(t0, t1)  # before the berth search, which must see this pilot busy
            t_spawn += shift
            t_join += shift
            t_anc = t_join + to_anc_axis.length_m / v_ch + conn_a.length_m / v_conn
            back = conn_a.reversed()
            t = t_anc + 1800.0
            while chosen is None and t < t_anc + MAX_WAIT_S:
                for b in berths:
                    ok, _, _ = inbound_ok(t + back.length_m / v_conn, b.id, k_a)
                    if ok:
                        chosen = (b.id, t)
                        break
                t += STEP_S
            if chosen is None:
                if self.pilots is not None:
                    self.pilots.undo(pilot_mark)
                return None
        berth_id, t_go = chosen
        call.berth_id = berth_id

        legs: list[Leg] = []
        events: list[tuple[float, str, str | None]] = []
        t = t_spawn
        t = self._move(legs, t, approach, v_app)
        events.append((t, "pilot_on_board", None))
        t = self._move(legs, t, join, 7.0 * KN)
        if anchorage is not None:
            t_axis0 = t
            t = self._move(legs, t, to_anc_axis, v_ch, on_axis=True)
            if big:
                self.one_way.append((t_axis0, t, +1))
            t = self._move(legs, t, conn_a, v_conn)
            events.append((t, "anchorage_arrival", anchorage))
            self.anchor_points[anchorage].append((q[0], q[1], t, t_go))
            legs.append(Leg(t, t_go, "anchor", point=q, heading_deg=float(rng.uniform(0, 360)),
                            location_id=anchorage))
            events.append((t_go, "anchorage_departure", anchorage))
            t = self._move(legs, t_go, back, v_conn)
            k_from = k_a
            call.anchorage_id = anchorage
        else:
            t = t_go
            k_from = PILOT_JOIN_KM
        axis, conn, _ = transit(berth_id, k_from)
        t_axis0 = t
        t = self._move(legs, t, axis, v_ch, on_axis=True)
        if big:
            self.one_way.append((t_axis0, t, +1))
        self.book_pilot(t_axis0, t)
        t = self._move_final(legs, t, conn, v_conn, v_final)
        t_fast = t
        events.append((t_fast, "all_fast", berth_id))

        # Departure: after the work, when the one-way channel is clear for a big ship.
        out_conn = conn.reversed()
        k_b = self._berth_km[berth_id]
        out_axis = self.axis_path(k_b, 0.0)
        t_dep = t_fast + stay_s
        need_out = self.need_m(0.0, k_b, d_out)
        while True:
            t_ax0 = t_dep + out_conn.length_m / v_conn
            t_ax1 = t_ax0 + out_axis.length_m / v_ch
            tide_ok = self.tide_ok(t_ax0, t_ax1, d_out, need_m=need_out)
            if tide_ok and (not big or self.channel_free(t_ax0, t_ax1, -1)) and self.pilot_free(t_ax0, t_ax1):
                break
            t_dep += STEP_S
        quay = np.asarray(self.port.metric.to_m(self.berths[berth_id].quay).coords)
        qdx, qdy = quay[-1] - quay[0]
        heading = float(np.degrees(np.arctan2(qdx, qdy)) % 360.0 + (180.0 if ship.mmsi % 2 else 0.0)) % 360.0
        legs.append(Leg(t_fast, t_dep, "moored", point=self._berth_pt[berth_id], heading_deg=heading,
                        location_id=berth_id))
        self.berth_busy[berth_id].append((t_fast, t_dep))
        events.append((t_dep, "departure_from_berth", berth_id))
        t = self._move(legs, t_dep, out_conn, v_conn)
        t_ax0 = t
        t = self._move(legs, t, out_axis, v_ch, on_axis=True)
        if big:
            self.one_way.append((t_ax0, t, -1))
        self.book_pilot(t_ax0, t)
        call.ready_s = t_fast + stay_s
        bearing = np.radians(rng.uniform(90.0, 160.0))
        k0 = self.axis_point(0.0)
        exit_pt = (k0[0] + 15_000 * np.sin(bearing), k0[1] + 15_000 * np.cos(bearing))
        t = self._move(legs, t, Path.of(np.array([k0, exit_pt])), v_app)

        call.legs = legs
        call.events = sorted(events + self._limit_events(legs), key=lambda e: e[0])
        return call

    def _move(self, legs: list[Leg], t: float, path: Path, speed_ms: float, on_axis: bool = False) -> float:
        if path.length_m <= 0.5:
            return t
        t1 = t + path.length_m / speed_ms
        legs.append(Leg(t, t1, "move", path=path, on_axis=on_axis))
        return t1

    def _move_final(self, legs: list[Leg], t: float, path: Path, v: float, v_final: float) -> float:
        """A connector sailed at `v`, its last FINAL_APPROACH_M at `v_final` (berthing)."""
        split = max(path.length_m - FINAL_APPROACH_M, 0.0)
        if split > 0.5:
            x, y, _ = path.at(np.array([split]))
            keep = path.dist_m < split
            first = Path.of(np.vstack([path.xy[keep], [[x[0], y[0]]]]))
            rest = Path.of(np.vstack([[[x[0], y[0]]], path.xy[~keep]]))
            t = self._move(legs, t, first, v)
            return self._move(legs, t, rest, v_final)
        return self._move(legs, t, path, v_final)

    def _limit_events(self, legs: list[Leg]) -> list[tuple[float, str, str | None]]:
        """port_limit_arrival/departure where the first/last move crosses Z-PORT-LIMIT."""
        out: list[tuple[float, str, str | None]] = []
        boundary = self.limit_m.exterior
        for leg, name in ((legs[0], "port_limit_arrival"), (legs[-1], "port_limit_departure")):
            assert leg.path is not None
            line = shapely.LineString(leg.path.xy)
            hit = line.intersection(boundary)
            pts = list(getattr(hit, "geoms", [hit]))
            if not pts or hit.is_empty:
                raise ValueError("approach leg does not cross the port limit")
            d = min(line.project(p) for p in pts)
            out.append((leg.t0 + (leg.t1 - leg.t0) * d / leg.path.length_m, name, None))
        return out
