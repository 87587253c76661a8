"""`Simulation`: a deterministic day (or more) of Zhanjiang traffic from a seed.

The constructor plans everything up front (arrivals, every vessel's timeline, service craft,
gates, customs, tide); the AIS sentences are encoded once, on first use, for the whole window;
`iter_batches` then only slices sorted arrays, so it is cheap enough for a live pace.

Contract (docs/contracts.md §4): `vessels`, `calls`, `truth` frames; `iter_batches(step_s)`
yields `SimBatch(t_utc, nmea, gate, customs, tide, cargo)` in time order, each batch holding what
happened in `[t_utc - step_s, t_utc)`; `write(dir)` stores the feeds as files. Extra:
`positions`, the true position of every AIS position report (canonical `ais_position` frame,
unquantised), for tests and for checking decoders.

Randomness: one `numpy.random.Generator` per concern, seeded from `(seed, k)`, so a change in
one concern (e.g. more gate traffic) does not reshuffle the ships. Nothing reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath

import numpy as np
import polars as pl

from feeds.schema import UTC_US
from feeds.sim.fleet import CLASSES, SERVICE_CRAFT, Particulars, draw_particulars
from feeds.sim.landside import customs_events, gate_events, tide_readings
from feeds.sim.plan import KN, BookingMark, Call, Leg, Planner
from feeds.sim.routes import Path, router_for
from twin.port import Port
from twin.schedule import PilotRules, improve_order
from twin.tide import TideLevel

SCHEDULE_BATCH_H = 3.0  # rolling horizon of the scheduled modes: arrivals sequenced together
SCHEDULE_BUDGET = 8  # orders tried per batch by the local search (more found no more on 3-day runs)

TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "ts_utc": UTC_US, "mmsi": pl.UInt32(), "call_id": pl.String(), "event": pl.String(),
    "location_id": pl.String(),
}
EVENTS = ("port_limit_arrival", "anchorage_arrival", "anchorage_departure", "pilot_on_board", "all_fast",
          "departure_from_berth", "port_limit_departure")


@dataclass(frozen=True)
class SimConfig:
    """What to simulate.

    seed: any int; the same seed and config give byte-identical output.
    start_utc: tz-aware start of the window; hours: its length.
    warmup_h: traffic planned before the window so that ships are already at berths and
    anchorages at `start_utc` (nothing before the window is emitted).
    rate_scale: multiplies every class's arrival rate (1.0 = the table in `feeds.sim.fleet`).
    tugs / pilot_boats: service craft counts (class B, no port calls).
    demand: (class name, factor) pairs multiplying that class's arrival rate on top of the table; the
    baseline arrivals stay as they are (a factor above 1 adds arrivals from their own stream, below 1
    thins them with their own stream), so a what-if run shares its arrivals with the baseline.
    ukc_fraction: (channel part, fraction of draught) pairs replacing the planner's 10 % static UKC.
    per_call_rng: plan each arrival with its own generator seeded from (seed, arrival), so that a change
    to one call (a closed berth, a deeper channel) does not reshuffle the stays of all later calls.
    landside: False skips gate and customs events (fast-time planning runs need only the calls).
    scheduling: "" (default: each arrival committed in arrival order, as always), "fcfs" or "optimised":
    arrivals are taken in rolling batches of `SCHEDULE_BATCH_H` hours and committed in the order
    twin.schedule's local search finds least waiting ("optimised") or in arrival order ("fcfs"); either
    plans each arrival with its own generator (as `per_call_rng`).
    pilots: (key, value) pairs of twin.schedule.PilotRules (count, max_shift_h, min_rest_h, board_h,
    release_h): every channel transit then needs a pilot within those duty limits; () = no pilot limit.
    one_way_min_dwt: DWT from which the one-way rule applies (None: 90 % of the segments' figure).
    """

    seed: int = 0
    start_utc: datetime = datetime(2026, 11, 28, tzinfo=UTC)
    hours: float = 24.0
    warmup_h: float = 72.0
    rate_scale: float = 1.0
    tugs: int = SERVICE_CRAFT["tug"][0]
    pilot_boats: int = SERVICE_CRAFT["pilot"][0]
    demand: tuple[tuple[str, float], ...] = ()
    ukc_fraction: tuple[tuple[str, float], ...] = ()
    per_call_rng: bool = False
    landside: bool = True
    scheduling: str = ""
    pilots: tuple[tuple[str, float], ...] = ()
    one_way_min_dwt: float | None = None

    def __post_init__(self) -> None:
        if self.start_utc.tzinfo is None:
            raise ValueError("SimConfig.start_utc must be timezone-aware (UTC)")
        if self.hours <= 0:
            raise ValueError("SimConfig.hours must be positive")
        if self.scheduling not in ("", "fcfs", "optimised"):
            raise ValueError(f"SimConfig.scheduling: unknown method {self.scheduling!r} (fcfs, optimised)")

    def pilot_rules(self) -> PilotRules | None:
        """The pilot pool's rules, or None for no pilot limit."""
        if not self.pilots:
            return None
        kw = {k: float(v) for k, v in self.pilots}
        return PilotRules(count=int(kw.pop("count", PilotRules.count)), **kw)


@dataclass(frozen=True)
class SimBatch:
    """What the simulated sensors produced in `[t_utc - step, t_utc)`."""

    t_utc: datetime
    nmea: list[str]
    gate: pl.DataFrame
    customs: pl.DataFrame
    tide: pl.DataFrame
    cargo: pl.DataFrame  # the engine's `port_call_cargo` rows: what each call loads or discharges


@dataclass
class Craft:
    """A tug or pilot boat: class B transponder, its legs, no port calls."""

    mmsi: int
    name: str
    callsign: str
    kind: str
    ship_type: int
    length_m: float
    beam_m: float
    base: tuple[float, float]
    legs: list[Leg] = field(default_factory=list)
    free_at: float = -math.inf


def _tide_function(port: Port) -> Callable[[np.ndarray], np.ndarray]:
    """Level above chart datum (m) at UNIX seconds, from twin.tide and the port's constituents.

    Fallback when that model is not available: M2 1.01 m, K1 0.48, S2 0.40, O1 0.37 on MSL 2.20 m
    (the estimates of reference zhanjiang.md §4, zero phases), good enough for traffic rules.
    """
    try:
        from twin.tide import read_constituents_toml

        model = read_constituents_toml(port.files["tide"])

        def level(t: np.ndarray) -> np.ndarray:
            times = (np.asarray(t, float) * 1e6).astype(np.int64).astype("datetime64[us]")
            return np.asarray(model.level_m(times), float)

        return level
    except (ImportError, KeyError, OSError, ValueError):
        speeds = {"M2": 28.9841042, "K1": 15.0410686, "S2": 30.0, "O1": 13.9430356}
        amps = {"M2": 1.01, "K1": 0.48, "S2": 0.40, "O1": 0.37}

        def fallback(t: np.ndarray) -> np.ndarray:
            h = np.asarray(t, float) / 3600.0
            level = np.full(h.shape, 2.20)
            for k, a in amps.items():
                level += a * np.cos(np.radians(speeds[k] * h))
            return level

        return fallback


def _level_of(tide: TideLevel) -> Callable[[np.ndarray], np.ndarray]:
    """A TideLevel as a function of UNIX seconds (m above chart datum)."""

    def level(t: np.ndarray) -> np.ndarray:
        times = (np.asarray(t, float) * 1e6).astype(np.int64).astype("datetime64[us]")
        return np.asarray(tide.level_m(times), float)

    return level


class Simulation:
    """A planned simulation of port traffic; see the module docstring for the contract."""

    def __init__(self, config: SimConfig, port: Port, tide: TideLevel | None = None) -> None:
        """Plan the window; `tide` (m above chart datum) replaces the port's tide model when given
        (a what-if tide offset or surge)."""
        self.config = config
        self.port = port
        self.t0 = config.start_utc.timestamp()
        self.t1 = self.t0 + config.hours * 3600.0
        self._rng = {k: np.random.default_rng([config.seed, i]) for i, k in
                     enumerate(("arrivals", "plan", "craft", "ais", "gate", "customs", "tide", "demand"))}
        self._level = _tide_function(port) if tide is None else _level_of(tide)
        t_plan0 = self.t0 - config.warmup_h * 3600.0
        grid = np.arange(t_plan0 - 86400.0, self.t1 + 12 * 86400.0, 300.0)
        self.router = router_for(port)
        self.planner = Planner(port, self.router, grid, self._level(grid), self._rng["plan"],
                               ukc_fraction=dict(config.ukc_fraction), pilots=config.pilot_rules(),
                               one_way_min_dwt=config.one_way_min_dwt)
        self._calls = self._plan_calls(t_plan0)
        self._craft = self._plan_craft()
        self._ais: tuple[np.ndarray, list[str], pl.DataFrame] | None = None
        t_land = self.t1 if config.landside else self.t0  # an empty window gives empty frames
        self.gate = gate_events(self._calls, port, self._rng["gate"], self.t0, t_land)
        self.customs = customs_events(self._calls, self._rng["customs"], self.t0, t_land)
        self.tide = tide_readings(self._level, self._rng["tide"], self.t0, self.t1)
        self.cargo = self._cargo_reports()

    def _cargo_reports(self) -> pl.DataFrame:
        """The cargo of each call as the terminal reports it when the ship is all fast (its manifest):
        ts_utc, call_id (the simulator's), mmsi, tonnes, teu, cargo. A call already alongside when the
        window opens reports at the start, so throughput is known for every call leaving its berth."""
        rows = []
        for call in self._calls:
            fast, left = call.event_time("all_fast"), call.event_time("departure_from_berth")
            if fast is None or (left is not None and left < self.t0) or fast >= self.t1:
                continue
            rows.append((int(max(fast, self.t0) * 1e6), call.call_id, call.ship.mmsi, float(call.tonnes),
                         float(call.teu), call.cargo))
        rows.sort()
        schema = {"ts_utc": pl.Int64, "call_id": pl.String, "mmsi": pl.UInt32, "tonnes": pl.Float64,
                  "teu": pl.Float64, "cargo": pl.String}
        frame = pl.DataFrame(rows, schema=schema, orient="row")
        return frame.with_columns(pl.col("ts_utc").cast(pl.Datetime("us", "UTC")))

    # -- planning ----------------------------------------------------------------------
    def _plan_calls(self, t_plan0: float) -> list[Call]:
        rng = self._rng["arrivals"]
        arrivals: list[tuple[float, int]] = []
        for ci, cls in enumerate(CLASSES):
            rate_s = cls.per_day * self.config.rate_scale / 86400.0
            t = t_plan0
            while rate_s > 0:
                t += float(rng.exponential(1.0 / rate_s))
                if t >= self.t1:
                    break
                arrivals.append((t, ci))
        arrivals.sort()
        taken: set[int] = set()
        calls = []
        self.unplanned: list[Particulars] = []  # no berth for them within MAX_WAIT_S
        self.unplanned_at: list[float] = []  # their arrival times (UNIX s), warm-up included
        ships = [(t, k, draw_particulars(CLASSES[ci], rng, taken)) for k, (t, ci) in enumerate(arrivals)]
        if self.config.demand:
            ships = self._demand_changed(ships, t_plan0, taken)
        if self.config.scheduling:
            return self._plan_scheduled(ships)
        for t, k, ship in ships:
            if self.config.per_call_rng:
                self.planner.rng = self._call_rng(k)
            call = self.planner.plan(ship, t, 1)
            if call is None:
                self.unplanned.append(ship)
                self.unplanned_at.append(t)
            elif call.t_end > self.t0 and call.t_start < self.t1:
                calls.append(call)
        return calls

    def _call_rng(self, k: int) -> np.random.Generator:
        """The plan stream of arrival `k` alone (per_call_rng and the scheduled modes share it, so the
        two plan a call alike)."""
        return np.random.default_rng([self.config.seed, 100, k])

    def _plan_scheduled(self, ships: list[tuple[float, int, Particulars]]) -> list[Call]:
        """Arrivals in rolling batches of SCHEDULE_BATCH_H hours, each batch committed in the order of
        the scheduler's choice (twin.schedule.improve_order over the batch's commit order, cost = hours
        from appearing to all fast + departure delays past the end of the work; an unplanned call costs
        5 days), or in arrival order for "fcfs"."""
        planner = self.planner
        calls: list[Call] = []

        def plan(item: tuple[float, int, Particulars]) -> Call | None:
            t, k, ship = item
            planner.rng = self._call_rng(k)
            return planner.plan(ship, t, 1)

        def wait_s(item: tuple[float, int, Particulars], call: Call | None) -> float:
            if call is None:
                return 5 * 86400.0
            fast, dep = call.event_time("all_fast"), call.event_time("departure_from_berth")
            assert fast is not None and dep is not None
            return (fast - item[0]) + (dep - call.ready_s)

        def waited(item: tuple[float, int, Particulars], call: Call | None) -> bool:
            if call is None:
                return True
            dep = call.event_time("departure_from_berth")
            assert dep is not None
            return call.t_start > item[0] + 1.0 or call.anchorage_id is not None or dep > call.ready_s + 1.0

        i = 0
        while i < len(ships):
            j = i
            while j < len(ships) and ships[j][0] < ships[i][0] + SCHEDULE_BATCH_H * 3600.0:
                j += 1
            batch, i = ships[i:j], j
            order = list(range(len(batch)))
            if self.config.scheduling == "optimised" and len(batch) > 1:
                mark = planner.checkpoint()
                # arrival order first: when nobody in the batch waits there is nothing to gain
                contended = any(waited(batch[k], plan(batch[k])) for k in order)
                planner.restore(mark)

                def cost(o: Sequence[int], batch: list[tuple[float, int, Particulars]] = batch,
                         mark: BookingMark = mark) -> float:
                    planner.restore(mark)
                    return sum(wait_s(batch[k], plan(batch[k])) for k in o)

                if contended:
                    order, _ = improve_order(order, cost, radius=2, budget=SCHEDULE_BUDGET)
                    planner.restore(mark)
            for k in order:
                call = plan(batch[k])
                if call is None:
                    self.unplanned.append(batch[k][2])
                    self.unplanned_at.append(batch[k][0])
                elif call.t_end > self.t0 and call.t_start < self.t1:
                    calls.append(call)
        calls.sort(key=lambda c: (c.t_start, c.ship.mmsi))
        return calls

    def _demand_changed(self, ships: list[tuple[float, int, Particulars]], t_plan0: float, taken: set[int]
                        ) -> list[tuple[float, int, Particulars]]:
        """The baseline arrivals thinned or topped up per class by `config.demand`, from their own stream.

        Every baseline arrival draws one uniform whatever its class, so the thinning of one class does
        not depend on another's factor; extra arrivals get keys from 10**6 up (their own plan streams).
        """
        rng = self._rng["demand"]
        factor = dict(self.config.demand)
        keep_u = rng.uniform(size=len(ships))
        out = [s for s, u in zip(ships, keep_u, strict=True)
               if u < factor.get(s[2].ship_class, 1.0)]
        extra: list[tuple[float, int]] = []
        for ci, cls in enumerate(CLASSES):
            extra_factor = max(factor.get(cls.name, 1.0) - 1.0, 0.0)
            rate_s = cls.per_day * self.config.rate_scale * extra_factor / 86400.0
            t = t_plan0
            while rate_s > 0:
                t += float(rng.exponential(1.0 / rate_s))
                if t >= self.t1:
                    break
                extra.append((t, ci))
        extra.sort()
        out += [(t, 10**6 + j, draw_particulars(CLASSES[ci], rng, taken)) for j, (t, ci) in enumerate(extra)]
        return sorted(out, key=lambda s: (s[0], s[1]))

    def _plan_craft(self) -> list[Craft]:
        rng = self._rng["craft"]
        pl_ = self.planner
        crafts: list[Craft] = []
        taken = {c.ship.mmsi for c in self._calls}
        tug_base = pl_.axis_point(pl_.k_end - 0.3)
        self._tug_station = tug_base
        for kind, count in (("tug", self.config.tugs), ("pilot", self.config.pilot_boats)):
            _, ship_type, length, beam = SERVICE_CRAFT[kind]
            for i in range(count):
                mmsi = 413_000_000 + int(rng.integers(100_000, 999_999))
                while mmsi in taken:
                    mmsi += 1
                taken.add(mmsi)
                if kind == "tug":
                    base = (tug_base[0] + 40.0 * i, tug_base[1])
                    name = f"ZHANGANG TUO {i + 1}"
                else:
                    base = pl_.random_point_in(pl_.pilot_m, 400.0)
                    name = f"YIN HANG {i + 1}"
                crafts.append(Craft(mmsi, name, f"BZJ{i + 1}{'T' if kind == 'tug' else 'P'}", kind, ship_type,
                                    length, beam, base))
        tugs = [c for c in crafts if c.kind == "tug"]
        boats = [c for c in crafts if c.kind == "pilot"]
        lo, hi = self.t0 - 3 * 3600.0, self.t1
        jobs: list[tuple[float, str, Call]] = []
        for call in self._calls:
            for t, ev, _ in call.events:
                if lo <= t < hi and ((ev in ("all_fast", "departure_from_berth") and call.ship.dwt >= 10_000)
                                     or ev == "pilot_on_board"):
                    jobs.append((t, ev, call))
        jobs.sort(key=lambda j: (j[0], j[2].ship.mmsi))
        for t, ev, call in jobs:
            if ev == "pilot_on_board":
                leg0 = call.legs[0]
                assert leg0.path is not None
                self._job(boats, 1, tuple(leg0.path.xy[-1]), t, 15.0, 600.0, direct=True)
            else:
                need = 3 if call.ship.dwt >= 150_000 else 2
                spot = pl_._berth_pt[call.berth_id]
                self._job(tugs, need, spot, t, 10.0, 900.0, direct=False)
        for c in crafts:
            c.legs.sort(key=lambda leg: leg.t0)
            filled: list[Leg] = []
            t = lo - 3600.0
            for leg in c.legs:
                if leg.t0 > t:
                    filled.append(Leg(t, leg.t0, "idle", point=c.base))
                filled.append(leg)
                t = leg.t1
            filled.append(Leg(t, max(t, self.t1) + 1.0, "idle", point=c.base))
            c.legs = filled
        return crafts

    def _job(self, crafts: list[Craft], need: int, spot: tuple[float, float], t: float, speed_kn: float,
             stay_s: float, direct: bool) -> None:
        """Send `need` free craft from their base to `spot`, arriving at `t`, and back."""
        sent = 0
        for k, c in enumerate(crafts):
            if sent == need:
                return
            target = (spot[0] + 30.0 * k, spot[1] + 30.0 * k)
            if direct:
                out = Path.of(np.array([c.base, target]))
            else:  # tugs share one route from the tug station (searching it once), then fan out
                out = Path.of(np.vstack([[c.base], self.router.path(self._tug_station, spot).xy]))
            dur = out.length_m / (speed_kn * KN)
            if c.free_at > t - dur - 60.0:
                continue
            back = out.reversed()
            t_leave = t - dur
            c.legs.append(Leg(t_leave, t, "move", path=out))
            c.legs.append(Leg(t, t + stay_s, "idle", point=tuple(out.xy[-1])))
            t_back = t + stay_s + dur
            c.legs.append(Leg(t + stay_s, t_back, "move", path=back))
            c.free_at = t_back
            sent += 1

    # -- public frames ------------------------------------------------------------------
    @property
    def calls(self) -> pl.DataFrame:
        """One row per call active in the window: call_id, mmsi, berth_id, cargo, tonnes, teu, direction."""
        c = self._calls
        return pl.DataFrame({
            "call_id": [x.call_id for x in c], "mmsi": pl.Series([x.ship.mmsi for x in c], dtype=pl.UInt32),
            "berth_id": [x.berth_id for x in c], "cargo": [x.cargo for x in c],
            "tonnes": [float(x.tonnes) for x in c], "teu": pl.Series([x.teu for x in c], dtype=pl.UInt32),
            "direction": [x.direction for x in c], "anchorage_id": [x.anchorage_id for x in c],
            "draught_in_m": [x.draught_in_m for x in c], "draught_out_m": [x.draught_out_m for x in c],
        }, schema_overrides={"anchorage_id": pl.String})

    @property
    def vessels(self) -> pl.DataFrame:
        """Every vessel that shows in the window, service craft included (imo/dwt null for them)."""
        ships: list[Particulars] = [x.ship for x in self._calls]
        draught = {x.ship.mmsi: x.draught_in_m for x in self._calls}
        rows: list[tuple[object, ...]] = [
            (s.mmsi, s.imo, s.name, s.callsign, s.ship_class, s.ship_type, s.dwt, s.length_m, s.beam_m,
             draught[s.mmsi], s.cb, s.cargo) for s in ships]
        rows += [(c.mmsi, None, c.name, c.callsign, c.kind, c.ship_type, None, c.length_m, c.beam_m, 3.0 if
                  c.kind == "tug" else 1.5, None, None) for c in self._craft]
        schema = {"mmsi": pl.UInt32, "imo": pl.UInt32, "name": pl.String, "callsign": pl.String,
                  "ship_class": pl.String, "ship_type": pl.UInt8, "dwt": pl.Float64, "length_m": pl.Float64,
                  "beam_m": pl.Float64, "draught_m": pl.Float64, "cb": pl.Float64, "cargo": pl.String}
        return pl.DataFrame(rows, schema=schema, orient="row")

    @property
    def truth(self) -> pl.DataFrame:
        """Port-call events (contracts §3) that happened inside the window, time-ordered."""
        rows = [(t, c.ship.mmsi, c.call_id, ev, loc) for c in self._calls for t, ev, loc in c.events
                if self.t0 <= t < self.t1]
        rows.sort(key=lambda r: (r[0], r[1], EVENTS.index(r[3])))
        frame = pl.DataFrame({
            "ts_utc": pl.Series([round(r[0] * 1e6) for r in rows], dtype=pl.Int64).cast(UTC_US),
            "mmsi": pl.Series([r[1] for r in rows], dtype=pl.UInt32),
            "call_id": [r[2] for r in rows], "event": [r[3] for r in rows],
            "location_id": [r[4] for r in rows],
        }, schema_overrides={"location_id": pl.String, "call_id": pl.String, "event": pl.String})
        return frame

    @property
    def positions(self) -> pl.DataFrame:
        """The true (unquantised) position behind every AIS position report, in report order."""
        return self._encoded()[2]

    @property
    def nmea(self) -> list[str]:
        """All AIS lines of the window, time-ordered."""
        return self._encoded()[1]

    # -- AIS ----------------------------------------------------------------------------
    def _encoded(self) -> tuple[np.ndarray, list[str], pl.DataFrame]:
        if self._ais is None:
            from feeds.sim.ais import encode_all

            self._ais = encode_all(self)
        return self._ais

    # -- batches ------------------------------------------------------------------------
    def iter_batches(self, step_s: float = 1.0, from_utc: datetime | None = None) -> Iterator[SimBatch]:
        """Batches of `step_s` seconds from `from_utc` (default the start) to the end, in time order.

        Each batch holds the lines and rows stamped in `[t_utc - step_s, t_utc)`; the last batch
        ends at the end of the window. Raises ValueError for a non-positive step.
        """
        if step_s <= 0:
            raise ValueError("step_s must be positive")
        t_line, lines, _ = self._encoded()
        frames = [(f, f["ts_utc"].dt.epoch("us").to_numpy())
                  for f in (self.gate, self.customs, self.tide, self.cargo)]
        t = self.t0 if from_utc is None else max(self.t0, from_utc.timestamp())
        while t < self.t1:
            t_next = min(t + step_s, self.t1)
            a, b = np.searchsorted(t_line, [t, t_next], side="left")
            parts = []
            for frame, us in frames:
                i, j = np.searchsorted(us, [t * 1e6, t_next * 1e6], side="left")
                parts.append(frame.slice(int(i), int(j - i)))
            yield SimBatch(datetime.fromtimestamp(t_next, UTC), lines[a:b], *parts)
            t = t_next

    def write(self, directory: str | FsPath) -> dict[str, FsPath]:
        """Write ais.nmea, gate.csv, customs.csv, tide.csv, truth/vessels/calls/positions .parquet.

        Returns the paths by name. CSVs follow docs/formats (times ISO 8601 UTC with `Z`,
        container ids `;`-separated) so `twin ingest` reads them back.
        """
        out = FsPath(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = {k: out / k for k in ("ais.nmea", "gate.csv", "customs.csv", "tide.csv", "truth.parquet",
                                      "vessels.parquet", "calls.parquet", "positions.parquet")}
        paths["ais.nmea"].write_text("\n".join(self.nmea) + "\n", encoding="ascii")
        iso = pl.col("ts_utc").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        self.gate.with_columns(iso.alias("ts"), pl.col("container_ids").list.join(";")).select(
            "ts", "gate_id", "lane", "direction", "visit_id", "truck_id", "container_ids", "outcome",
            "processing_s").write_csv(paths["gate.csv"])
        self.customs.with_columns(iso.alias("ts")).select(
            "ts", "declaration_id", "call_id", "mode", "stage", "channel").write_csv(paths["customs.csv"])
        self.tide.with_columns(iso.alias("ts_utc")).write_csv(paths["tide.csv"])
        self.truth.write_parquet(paths["truth.parquet"])
        self.vessels.write_parquet(paths["vessels.parquet"])
        self.calls.write_parquet(paths["calls.parquet"])
        self.positions.write_parquet(paths["positions.parquet"])
        return paths


def window_utc(sim: Simulation) -> tuple[datetime, datetime]:
    """(start, end) of the simulated window."""
    return sim.config.start_utc, sim.config.start_utc + timedelta(hours=sim.config.hours)


__all__ = ["SimBatch", "SimConfig", "Simulation", "window_utc"]
