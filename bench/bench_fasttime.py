"""Fast-time simulation speed: simulated days per wall-clock minute (and per CPU minute).

Run: `python -m bench fasttime`. Figures are recorded in `bench/fasttime.md`.

Baseline: real time, 1 simulated day per 1,440 wall minutes (0.000694 days per minute). Measured:

1. `twin.fasttime.run_once`, 10 days (seed 1, from 2026-11-01): the simulator's plan → twin.kpi, no AIS,
   no engine (what `twin plan compare` runs), with the simulator's own FCFS commit;
2. the same with `[traffic]` scheduling = "optimised" and 20 pilots (bundled `optimised_schedule`);
3. the full simulator for 1 day: plan + gate/customs + every AIS sentence encoded (`sim.nmea`), the
   feed the live demo replays — what a fast-time run would cost if it went through the sensors
   (the engine, ≈ 100 s per day in docs/simulator.md, would come on top).

One run each (minutes-long runs on a shared machine: wall and CPU seconds are both printed).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from feeds.simulate import SimConfig, Simulation
from geodata import load_port
from twin.fasttime import run_once
from twin.scenario import bundled, load_scenario

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 10.0


def _report(label: str, days: float, wall_s: float, cpu_s: float) -> None:
    print(f"  {label:44s} {days:5g} d  wall {wall_s:7.1f} s  cpu {cpu_s:7.1f} s  "
          f"{60 * days / wall_s:8.1f} d/wall-min  {60 * days / cpu_s:8.1f} d/cpu-min  "
          f"x{86400 * days / wall_s:,.0f} real time")


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; real time = "
          f"{1 / 1440:.6f} simulated days per wall minute")
    port = load_port()
    run_once(port, 1, START, 0.5)  # warm the routing cache, as every later run in a process finds it
    res = run_once(port, 1, START, DAYS)
    _report("fast-time, simulator FCFS (run_once)", DAYS, res.seconds, res.cpu_seconds)
    scen = load_scenario(bundled("optimised_schedule"))
    res = run_once(port, 1, START, DAYS, scen)
    _report("fast-time, optimised sequencing + 20 pilots", DAYS, res.seconds, res.cpu_seconds)
    t0, c0 = time.perf_counter(), time.process_time()
    sim = Simulation(SimConfig(seed=1, start_utc=START, hours=24.0), port)
    lines = len(sim.nmea)
    _report(f"full simulator + AIS encoding ({lines:,} lines)", 1.0, time.perf_counter() - t0,
            time.process_time() - c0)


if __name__ == "__main__":
    main()
