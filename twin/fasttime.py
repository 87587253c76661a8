"""Fast-time what-if runs: the simulator's plan for N days, baseline against a scenario.

Each run builds `feeds.simulate.Simulation` and reads its planned port-call events (`sim.truth`, the
simulator's ground truth) straight into twin.kpi; neither the AIS encoding nor the engine runs (the
planning is what a scenario changes, and it takes ≈ 0.6 s per simulated day here, where encoding and
detection would multiply that). Gate and customs events are skipped too (`SimConfig.landside`).

Common random numbers: baseline and scenario share the seed, hence the arrivals (time, class,
particulars); each arrival is planned with its own generator (`SimConfig.per_call_rng`), so a closed
berth changes the calls it touches and the queue behind them, not every later stay. Demand growth adds
or thins arrivals from a separate stream, leaving the shared ones in place.

Traffic rules: a scenario's [traffic] table (twin.scenario.Traffic: scheduling, pilots, one-way
threshold) applies to both runs of a pair except ``scheduling``, which is "fcfs" in the baseline: the
difference is then what the sequencing itself changes (docs/schedule.md).

Results: per run the KPIs of docs/kpi.md over the window (anchorage waiting time median/p90/mean,
pre-berthing time, berth occupancy, throughput, calls), the paired difference scenario − baseline per
seed, and over seeds the mean difference with a 95 % Student-t interval. Nothing reads a clock: the
start is an argument. `feeds` is imported inside the functions (twin does not depend on it at import).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from twin.kpi import (
    KpiInputs,
    Window,
    anchorage_wait_h,
    berth_occupancy_pct,
    pre_berthing_h,
    throughput_t,
    vessel_calls,
)
from twin.kpi.sources import berths_frame
from twin.port import Port
from twin.scenario import Scenario, Traffic, apply_to_port, apply_to_tide

DEEP_DRAUGHT_M = 20.0  # above it the 10-15 % UKC rules need tide over the 23-23.6 m channel at some point

# KPI figures of one run, in the order they are reported: (key, unit, what it is)
METRICS: tuple[tuple[str, str, str], ...] = (
    ("calls_arrived", "calls", "port-limit arrivals in the window"),
    ("calls_refused", "calls", "arrivals the planner found no berth for within 5 days (left unserved)"),
    ("waiting_calls", "calls", "calls that waited at an anchorage (stay ended in the window)"),
    ("waiting_share_pct", "%", "share of berthed calls that waited at an anchorage"),
    ("wait_median_h", "h", "anchorage waiting time, median over the calls that waited"),
    ("wait_p90_h", "h", "anchorage waiting time, 90th percentile over the calls that waited"),
    ("wait_mean_h", "h", "anchorage waiting time, mean over the calls that waited"),
    ("wait_total_h", "h", "anchorage waiting time, sum over all calls"),
    ("pre_berthing_median_h", "h", "port-limit arrival → all fast, median over all calls"),
    ("pre_berthing_p90_h", "h", "port-limit arrival → all fast, 90th percentile over all calls"),
    ("deep_calls", "calls", "berthed calls arriving at ≥ 20 m draught (the ones a tide rule can hold)"),
    ("deep_wait_mean_h", "h", "anchorage wait per deep-draught call, mean (no wait counts 0)"),
    ("deep_pre_berthing_mean_h", "h", "port-limit arrival → all fast, mean over the deep-draught calls"),
    ("berth_occupancy_pct", "%", "berth occupancy over the operational berths"),
    ("throughput_t", "t", "tonnes of the calls that left their berth in the window"),
)


@dataclass(frozen=True)
class RunResult:
    """One simulated window: its KPI figures (see METRICS), the seed, and how long it took: wall and
    CPU seconds (on a shared machine the wall time mostly measures the other jobs)."""

    seed: int
    kpis: dict[str, float]
    calls: int
    seconds: float
    cpu_seconds: float = 0.0


def _num(frame: pl.DataFrame, column: str) -> float:
    if frame.height == 0 or column not in frame.columns:
        return 0.0
    value = frame[column][0]
    return float(value) if value is not None else 0.0


def baseline_traffic(scenario: Scenario | None) -> Traffic | None:
    """The traffic rules of a scenario's baseline run: its [traffic] with FCFS sequencing."""
    if scenario is None or scenario.traffic is None:
        return None
    return dataclasses.replace(scenario.traffic, scheduling="fcfs")


def _traffic_config(traffic: Traffic | None) -> dict[str, Any]:
    if traffic is None:
        return {}
    return {"scheduling": traffic.scheduling, "one_way_min_dwt": traffic.one_way_min_dwt,
            "pilots": tuple(sorted((traffic.pilots or {}).items()))}


def run_once(port: Port, seed: int, start_utc: datetime, days: float, scenario: Scenario | None = None,
             ukc_fraction: Mapping[str, float] | None = None, traffic: Traffic | None = None) -> RunResult:
    """Plan `days` of traffic from `start_utc` with `seed` (under `scenario` when given); KPI figures.

    The window's KPIs cover [start, start + days); the simulator's warm-up fills berths and anchorages
    before the start. `ukc_fraction` (channel part -> fraction of draught) sets the planner's UKC rule
    for baseline and scenario alike; the scenario's own [ukc] table overrides it. `traffic` sets the
    sequencing and pilots (default: the scenario's [traffic], else the simulator's own rule). Raises
    ScenarioFileError when the scenario names ids the port lacks.
    """
    import time

    from feeds.simulate import SimConfig, Simulation
    from twin.tide import read_constituents_toml

    t_begin = time.perf_counter()  # durations only, for the report: not a clock the model reads
    cpu_begin = time.process_time()
    used = port if scenario is None else apply_to_port(port, scenario)
    tide = None
    if scenario is not None and (scenario.tide_offset_m or scenario.surge_times is not None):
        tide = apply_to_tide(read_constituents_toml(port.files["tide"]), scenario)
    config = SimConfig(seed=seed, start_utc=start_utc, hours=24.0 * days, per_call_rng=True, landside=False,
                       demand=tuple(sorted(scenario.demand.items())) if scenario else (),
                       ukc_fraction=tuple(sorted({**(ukc_fraction or {}),
                                                  **(scenario.ukc_fraction if scenario else {})}.items())),
                       **_traffic_config(traffic or (scenario.traffic if scenario else None)))
    sim = Simulation(config, used, tide=tide)
    window = Window.custom(start_utc, start_utc + timedelta(days=days))
    calls = sim.calls
    cargo = calls.select("call_id", "tonnes", pl.col("teu").cast(pl.Float64), "cargo")
    inputs = KpiInputs(events=sim.truth, cargo=cargo, berths=berths_frame(used))
    wait = anchorage_wait_h(inputs, window)
    pre = pre_berthing_h(inputs, window)
    occ = berth_occupancy_pct(inputs, window)
    thr = throughput_t(inputs, window)
    arrived = vessel_calls(inputs, window)
    waits = wait.items["hours"]
    n_pre = int(_num(pre.table, "n"))
    deep = calls.filter(pl.col("draught_in_m") >= DEEP_DRAUGHT_M).select("call_id")
    deep_pre = pre.items.join(deep, on="call_id", how="inner")
    deep_wait = wait.items.join(deep_pre.select("call_id"), on="call_id", how="inner")
    n_deep = deep_pre.height
    refused = sum(1 for t in sim.unplanned_at if sim.t0 <= t < sim.t1)
    kpis = {
        "calls_arrived": _num(arrived.table, "value"),
        "calls_refused": float(refused),
        "waiting_calls": float(len(waits)),
        "waiting_share_pct": 100.0 * len(waits) / n_pre if n_pre else 0.0,
        "wait_median_h": _num(wait.table, "median"),
        "wait_p90_h": _num(wait.table, "p90"),
        "wait_mean_h": _num(wait.table, "mean"),
        "wait_total_h": float(waits.sum()) if len(waits) else 0.0,
        "pre_berthing_median_h": _num(pre.table, "median"),
        "pre_berthing_p90_h": _num(pre.table, "p90"),
        "deep_calls": float(n_deep),
        "deep_wait_mean_h": float(deep_wait["hours"].sum()) / n_deep if n_deep else 0.0,
        "deep_pre_berthing_mean_h": float(deep_pre["hours"].mean()) if n_deep else 0.0,  # type: ignore[arg-type]
        "berth_occupancy_pct": _num(occ.table, "value"),
        "throughput_t": _num(thr.table, "value"),
    }
    return RunResult(seed, kpis, calls.height, time.perf_counter() - t_begin, time.process_time() - cpu_begin)


# two-sided 95 % Student t quantiles by degrees of freedom (1..30); beyond, the normal 1.96
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None]:
    """(mean, half-width of the 95 % t interval); the half-width is None for fewer than 2 values."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return math.nan, None
    if x.size < 2:
        return float(x[0]), None
    t = _T95[x.size - 2] if x.size - 1 <= len(_T95) else 1.96
    return float(x.mean()), float(t * x.std(ddof=1) / math.sqrt(x.size))


def compare(port: Port, scenario: Scenario, *, days: float, seeds: Sequence[int], start_utc: datetime,
            progress: bool = True, on_run: Callable[[str, int, RunResult], None] | None = None,
            ukc_fraction: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Baseline and scenario over the same seeds; a JSON-ready dict.

    ``runs``: per seed the baseline and scenario KPI figures and their difference (scenario −
    baseline); ``summary``: per KPI the mean baseline, mean scenario, mean difference and its 95 %
    interval over the seeds (paired: the seeds are common random numbers). A tqdm bar on stderr
    when ``progress``. Raises ValueError for no seeds or non-positive days.
    """
    if not seeds or days <= 0:
        raise ValueError("compare needs at least one seed and a positive number of days")
    from tqdm import tqdm

    runs = []
    bar = tqdm(total=2 * len(seeds), desc=f"fast-time {days:g} d", unit="run", disable=not progress)
    for seed in seeds:
        pair = {}
        for label, scen in (("baseline", None), ("scenario", scenario)):
            res = run_once(port, seed, start_utc, days, scen, ukc_fraction,
                           traffic=baseline_traffic(scenario) if scen is None else None)
            pair[label] = res
            if on_run is not None:
                on_run(label, seed, res)
            bar.update(1)
        runs.append(pair)
    bar.close()
    summary = {}
    for key, unit, text in METRICS:
        base = [r["baseline"].kpis[key] for r in runs]
        what_if = [r["scenario"].kpis[key] for r in runs]
        diff, half = mean_ci95([s - b for s, b in zip(what_if, base, strict=True)])
        summary[key] = {"unit": unit, "what": text, "baseline": round(float(np.mean(base)), 3),
                        "scenario": round(float(np.mean(what_if)), 3), "difference": round(diff, 3),
                        "ci95": None if half is None else round(half, 3)}
    simulated_days = 2 * len(seeds) * days
    wall_s = sum(r[k].seconds for r in runs for k in r)
    cpu_s = sum(r[k].cpu_seconds for r in runs for k in r)
    return {
        "scenario": scenario.name, "days": days, "seeds": list(seeds),
        "start_utc": start_utc.isoformat().replace("+00:00", "Z"),
        "ukc_fraction": dict(ukc_fraction or {}),
        "traffic": None if scenario.traffic is None else {
            "scheduling": scenario.traffic.scheduling, "baseline_scheduling": "fcfs",
            "one_way_min_dwt": scenario.traffic.one_way_min_dwt,
            "pilots": dict(scenario.traffic.pilots or {})},
        "method": "simulator plan (sim.truth, its ground truth) → twin.kpi; no AIS encoding, no engine",
        "summary": summary,
        "runs": [{"seed": r["baseline"].seed,
                  "baseline": r["baseline"].kpis, "scenario": r["scenario"].kpis,
                  "difference": {k: r["scenario"].kpis[k] - r["baseline"].kpis[k] for k, _u, _t in METRICS},
                  "seconds": {k: round(r[k].seconds, 1) for k in r},
                  "cpu_seconds": {k: round(r[k].cpu_seconds, 1) for k in r}} for r in runs],
        "speed": {"wall_s": round(wall_s, 1), "cpu_s": round(cpu_s, 1),
                  "simulated_days_per_cpu_minute": round(60.0 * simulated_days / cpu_s, 1) if cpu_s else None,
                  "simulated_days_per_wall_minute":
                      round(60.0 * simulated_days / wall_s, 1) if wall_s else None},
    }
