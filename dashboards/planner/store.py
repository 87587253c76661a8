"""The planner's data: scenario files, both sides' depth and UKC cells, windows, fast-time results.

One `PlannerStore` per server, shared by every browser session. It holds no business rules: every
number comes from `twin.scenario` (dredging, UKC difference, tidal windows) and `twin.fasttime`
(KPI comparison); the store picks the arguments, runs the slow parts on background threads and caches
the results by scenario file (path and modification time), days and seeds, so two sessions asking for
the same comparison share one run. Nothing happens at import; threads start on the first job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import shapely
import xarray as xr

from twin.port import Port
from twin.scenario import (
    Scenario,
    ScenarioFileError,
    apply_to_depth,
    apply_to_port,
    apply_to_tide,
    design_vessel,
    load_scenario,
    ukc_difference,
    window_hours_per_day,
)
from twin.schedule import berth_chainage_km
from twin.tide import TideLevel
from twin.ukc import UkcRule, Vessel, ukc_grid

DEFAULT_START = datetime(2026, 11, 28, tzinfo=UTC)  # as `twin plan` (no clock is read)
DEFAULT_RULE = {"outer": 0.15, "inner": 0.10}  # as `twin ukc window` / `twin plan windows`
DEFAULT_BERTH = "XS-ORE-400K"  # the windows' route ends at this berth's chainage, as `twin plan windows`
DEFAULT_KEY = "bundled:dredge_outer_1m"  # the scenario a session opens with
DEFAULT_DAYS = 3.0
DEFAULT_SEEDS = 2
WINDOW_DAYS = 7
CORRIDOR_M = 1500.0  # UKC cells are drawn within this distance of the channel (where ships sail)
SQUAT_METHOD = "barrass-confined"  # the default of twin.scenario.ukc_difference
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "twin" / "scenarios"


@dataclass(frozen=True)
class Entry:
    """A scenario file the picker offers: `key` is stable across sessions (bundled:NAME / file:NAME)."""

    key: str
    name: str
    path: Path
    bundled: bool


@dataclass(frozen=True)
class Loaded:
    """A valid scenario applied to the port: its port model and depth grid, and its design vessel."""

    entry: Entry
    mtime_ns: int
    scenario: Scenario
    port: Port
    depth: xr.DataArray
    tide: TideLevel
    vessel: Vessel
    to_km: float


@dataclass(frozen=True)
class JobStatus:
    """A background job as a session sees it: state queued | running | done | failed."""

    state: str
    done: int
    total: int
    result: Any = None
    error: str | None = None


class Job:
    """A background computation with a progress count; thread-safe reads via `status()`."""

    def __init__(self, total: int) -> None:
        self._lock = threading.Lock()
        self._status = JobStatus("queued", 0, total)

    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def _set(self, **changes: Any) -> None:
        with self._lock:
            s = self._status
            self._status = JobStatus(**{**s.__dict__, **changes})

    def step(self) -> None:
        """One unit of work done (e.g. one simulation run)."""
        with self._lock:
            s = self._status
            self._status = JobStatus("running", s.done + 1, s.total, s.result, s.error)

    def run(self, work: Callable[[Job], Any]) -> None:
        """Run `work(self)`; its return value becomes the result, an exception the error text."""
        self._set(state="running")
        try:
            result = work(self)
        except (ScenarioFileError, ValueError, KeyError, RuntimeError, OSError) as exc:
            self._set(state="failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._set(state="done", result=result, done=self.status().total)


def _utc64(when: datetime) -> np.datetime64:
    return np.datetime64(when.astimezone(UTC).replace(tzinfo=None), "ns")


class PlannerStore:
    """Scenarios, grids, windows and comparisons for every session of one planner server."""

    def __init__(
        self,
        port: Port,
        depth: xr.DataArray,
        tide: TideLevel,
        *,
        scenarios_dir: Path | None = None,
        start_utc: datetime = DEFAULT_START,
        rule: Mapping[str, float] | None = None,
        window_days: int = WINDOW_DAYS,
        bundled_dir: Path = BUNDLED_DIR,
    ) -> None:
        self.port = port
        self.depth = depth.transpose("lat", "lon")
        self.tide = tide
        self.scenarios_dir = scenarios_dir
        self.bundled_dir = bundled_dir
        self.start_utc = start_utc
        self.rule = dict(rule or DEFAULT_RULE)
        self.window_days = window_days
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, int], Loaded | ScenarioFileError] = {}
        self._jobs: dict[tuple[Any, ...], Job] = {}
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._zones: xr.DataArray | None = None
        self._telling: dict[tuple[str, int], datetime] = {}

    # -- scenario files -----------------------------------------------------------------------
    def catalogue(self) -> list[Entry]:
        """Bundled scenarios, then the `.toml` files of the scenarios folder, each sorted by name."""
        out = [Entry(f"bundled:{p.stem}", p.stem, p, True) for p in sorted(self.bundled_dir.glob("*.toml"))]
        if self.scenarios_dir is not None and self.scenarios_dir.is_dir():
            out += [
                Entry(f"file:{p.name}", p.name, p, False) for p in sorted(self.scenarios_dir.glob("*.toml"))
            ]
        return out

    def entry(self, key: str) -> Entry:
        """The catalogue entry of `key`; KeyError when no such file is offered."""
        for e in self.catalogue():
            if e.key == key:
                return e
        raise KeyError(key)

    def load(self, key: str) -> Loaded:
        """The scenario of `key` applied to the port (cached until the file changes).

        Raises ScenarioFileError (file, line, key) for a bad file or ids the port lacks.
        """
        entry = self.entry(key)
        mtime = entry.path.stat().st_mtime_ns
        with self._lock:
            cached = self._loaded.get((key, mtime))
        if cached is None:
            try:
                cached = self._apply(entry, mtime)
            except ScenarioFileError as exc:
                cached = exc
            with self._lock:
                self._loaded[(key, mtime)] = cached
        if isinstance(cached, ScenarioFileError):
            raise cached
        return cached

    def _apply(self, entry: Entry, mtime: int) -> Loaded:
        scenario = load_scenario(entry.path)
        port = apply_to_port(self.port, scenario)
        depth = apply_to_depth(self.depth, scenario, self.port.channel)
        return Loaded(
            entry,
            mtime,
            scenario,
            port,
            depth,
            apply_to_tide(self.tide, scenario),
            design_vessel(scenario),
            berth_chainage_km(self.port, DEFAULT_BERTH),
        )

    def warm(self, default_key: str = DEFAULT_KEY) -> None:
        """Do the first session's one-off work ahead of it: validate every file, the corridor, the
        default scenario's hour (for a server to call on a thread right after it starts)."""
        self.corridor_zones()
        for e in self.catalogue():
            try:
                loaded = self.load(e.key)
            except ScenarioFileError:
                continue
            if e.key == default_key:
                self.telling_hour(loaded)

    # -- map cells ----------------------------------------------------------------------------
    def ukc_times(self) -> list[datetime]:
        """The hours the map's UKC can be shown at: every hour of the windows' days (UTC)."""
        return [
            datetime.fromtimestamp(self.start_utc.timestamp() + 3600 * h, UTC)
            for h in range(24 * self.window_days)
        ]

    def high_water(self) -> datetime:
        """The hour of the highest baseline tide on the first day (the default UKC time)."""
        hours = self.ukc_times()[:24]
        levels = np.asarray(self.tide.level_m(np.array([_utc64(h) for h in hours])), dtype=float)
        return hours[int(np.argmax(levels))]

    def telling_hour(self, loaded: Loaded) -> datetime:
        """The default UKC time for a scenario: the hour of the first day at which it changes the class
        of the most corridor cells (ties: the earliest); high water when it changes none. Cached."""
        key = (loaded.entry.key, loaded.mtime_ns)
        with self._lock:
            known = self._telling.get(key)
        if known is not None:
            return known
        best, when = 0, self.high_water()
        for hour in self.ukc_times()[:24]:
            base = self.baseline_cells(loaded, hour)["ukc_class"].to_numpy()
            scen = self.scenario_cells(loaded, hour)["ukc_class"].to_numpy()
            changed = int(np.sum(base != scen))
            if changed > best:
                best, when = changed, hour
        with self._lock:
            self._telling[key] = when
        return when

    def rules(self, scenario: Scenario | None = None) -> dict[str, UkcRule]:
        """UKC rule per channel part: the store's, with a scenario's [ukc] table on top."""
        fractions = {**self.rule, **(scenario.ukc_fraction if scenario is not None else {})}
        return {part: UkcRule(f) for part, f in fractions.items()}

    def corridor_zones(self) -> xr.DataArray:
        """Channel part ("outer"/"inner") of each cell within CORRIDOR_M of the channel, "" elsewhere."""
        if self._zones is None:
            metric = self.port.channel.metric
            lon, lat = np.meshgrid(self.depth["lon"].values, self.depth["lat"].values)
            labels = np.full(lon.shape, "", dtype=object)
            best = np.full(lon.shape, np.inf)
            points = shapely.points(lon, lat)
            for seg in self.port.channel.segments:
                area = metric.to_lonlat(metric.to_m(seg.area).buffer(CORRIDOR_M))
                inside = shapely.contains_xy(area, lon, lat)
                dist = np.where(inside, shapely.distance(seg.area, points), np.inf)
                closer = dist < best
                labels[closer] = seg.part
                best[closer] = dist[closer]
            self._zones = xr.DataArray(
                labels.astype(str),
                dims=("lat", "lon"),
                coords={"lat": self.depth["lat"], "lon": self.depth["lon"]},
            )
        return self._zones

    def ukc_cells(
        self,
        depth: xr.DataArray,
        vessel: Vessel,
        tide: TideLevel,
        when: datetime,
        scenario: Scenario | None = None,
    ) -> pl.DataFrame:
        """Net UKC (m) and class code (twin.ukc UKC_CLASS) of `vessel` at `when` on the corridor's water
        cells, under the rule of each cell's channel part: columns lon, lat, net_ukc_m, ukc_class."""
        zones = self.corridor_zones()
        keep = (zones.values != "") & np.isfinite(depth.values)
        rules = self.rules(scenario)
        labels = np.where(keep, zones.values, next(iter(rules)))
        grid = ukc_grid(
            depth,
            vessel,
            np.asarray([_utc64(when)]),
            tide,
            rule=rules,
            zone=xr.DataArray(labels, dims=("lat", "lon")),
            squat_method=SQUAT_METHOD,
        )
        lon, lat = np.meshgrid(depth["lon"].values, depth["lat"].values)
        net = grid["net_ukc_m"].isel(time=0).values
        cls = grid["ukc_class"].isel(time=0).values
        return pl.DataFrame(
            {
                "lon": lon[keep],
                "lat": lat[keep],
                "net_ukc_m": net[keep],
                "ukc_class": cls[keep].astype(np.int64),
            }
        )

    def baseline_cells(self, loaded: Loaded, when: datetime) -> pl.DataFrame:
        """The baseline side's UKC cells for the scenario's design vessel."""
        return self.ukc_cells(self.depth, loaded.vessel, self.tide, when)

    def scenario_cells(self, loaded: Loaded, when: datetime) -> pl.DataFrame:
        """The scenario side's UKC cells: its depth, its tide, its [ukc] rule."""
        return self.ukc_cells(loaded.depth, loaded.vessel, loaded.tide, when, loaded.scenario)

    def difference_cells(self, loaded: Loaded, when: datetime) -> pl.DataFrame:
        """Cells where the net UKC changes (twin.scenario.ukc_difference, scenario tide): lon, lat, gain_m.

        Every other cell's difference is exactly 0 and is left out.
        """
        diff = ukc_difference(
            self.depth, loaded.depth, loaded.vessel, _utc64(when), loaded.tide, squat_method=SQUAT_METHOD
        ).transpose("lat", "lon")
        values = diff.values
        keep = np.isfinite(values) & (values != 0.0)
        lon, lat = np.meshgrid(diff["lon"].values, diff["lat"].values)
        return pl.DataFrame({"lon": lon[keep], "lat": lat[keep], "gain_m": values[keep]})

    # -- background jobs ----------------------------------------------------------------------
    def _submit(self, pool: str, key: tuple[Any, ...], total: int, work: Callable[[Job], Any]) -> Job:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.status().state != "failed":
                return job
            job = Job(total)
            self._jobs[key] = job
            if pool not in self._pools:
                self._pools[pool] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"planner-{pool}")
            self._pools[pool].submit(job.run, work)
        return job

    def windows_job(self, loaded: Loaded) -> Job:
        """Tidal-window hours per day for the design vessel, K0 → the ore berth, baseline vs scenario
        (twin.scenario.window_hours_per_day with the store's rule); one list of day rows as result."""
        start = _utc64(self.start_utc)

        def work(_job: Job) -> list[dict[str, Any]]:
            return window_hours_per_day(
                self.port,
                loaded.scenario,
                loaded.vessel,
                self.tide,
                start,
                self.window_days,
                rules=self.rules(),
                to_km=loaded.to_km,
            )

        return self._submit("windows", ("windows", loaded.entry.key, loaded.mtime_ns), 1, work)

    def compare_args(self, days: float, seeds: int) -> dict[str, Any]:
        """The keyword arguments the screen passes to twin.fasttime.compare (besides port, scenario)."""
        return {
            "days": float(days),
            "seeds": list(range(1, int(seeds) + 1)),
            "start_utc": self.start_utc,
            "ukc_fraction": dict(self.rule),
        }

    def compare_job(self, loaded: Loaded, days: float = DEFAULT_DAYS, seeds: int = DEFAULT_SEEDS) -> Job:
        """Fast-time comparison (twin.fasttime.compare) in the background; progress per simulation run."""
        from twin.fasttime import compare

        args = self.compare_args(days, seeds)

        def work(job: Job) -> dict[str, Any]:
            return compare(
                self.port,
                loaded.scenario,
                progress=False,
                on_run=lambda _label, _seed, _res: job.step(),
                **args,
            )

        key = ("compare", loaded.entry.key, loaded.mtime_ns, args["days"], len(args["seeds"]))
        return self._submit("compare", key, 2 * len(args["seeds"]), work)

    def stop(self) -> None:
        """Let running jobs finish in the background; accept no new ones."""
        with self._lock:
            for pool in self._pools.values():
                pool.shutdown(wait=False, cancel_futures=True)
            self._pools.clear()
