"""Channel scheduler runtime for a busy 24 h: the optimiser against the FCFS baseline in the same run.

Run: `python -m bench schedule`. Figures are recorded in `bench/schedule.md`.

Demand: the simulator's plan (seed 1, 2026-11-28, arrivals x1.5 and x2.0) turned into the next 24 h of
channel movements (`twin.schedule_demand.requests_from_simulation`): inbound ships arriving or at anchor,
outbound ships alongside due to sail. Pilots: 20, 12 h shifts, 10 h rest. Three parts are timed, each
the best of 3 runs (the machine is shared):

1. windows: `prepare_transits` (route, speed and tidal windows of every movement; shared by both methods);
2. FCFS: one decode in arrival order (the baseline);
3. optimised: priority orders + local search (budget 1500 decodes).

Both plans' total waiting is printed too, so the runtime is read next to what it buys.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from feeds.simulate import SimConfig, Simulation
from geodata import load_port
from twin.port import Port
from twin.schedule import ChannelRules, Optimised, PilotRules, Problem, prepare_transits
from twin.schedule_demand import requests_from_simulation
from twin.tide import TideModel, read_constituents_toml

START = datetime(2026, 11, 28, tzinfo=UTC)
T = TypeVar("T")


def _best_of(fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """Smallest wall time of ``repeat`` runs and the last result."""
    best = math.inf
    result: T | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    return best, result


def bench_day(port: Port, tide: TideModel, rate_scale: float) -> None:
    sim = Simulation(SimConfig(seed=1, start_utc=START, hours=24.0, rate_scale=rate_scale, per_call_rng=True,
                               landside=False), port)
    reqs, busy = requests_from_simulation(sim, START.timestamp(), 24.0)
    rules, pilots = ChannelRules(), PilotRules(count=20)
    t_win, transits = _best_of(lambda: prepare_transits(port, reqs, tide, rules))
    problem = Problem(port, reqs, tide, rules=rules, pilots=pilots, berth_busy_until=busy, transits=transits)
    t_fcfs, fcfs = _best_of(lambda: problem.decode(problem.fcfs_order()))
    t_opt, order = _best_of(lambda: Optimised(budget=1500).order(problem))
    opt = problem.decode(order)
    held = sum(1 for tr in transits if tr.windows != ((-math.inf, math.inf),))
    print(f"arrivals x{rate_scale:g}: {len(reqs)} movements ({held} tide-limited), {len(busy)} berths held")
    print(f"  windows (shared)    {t_win * 1000:9.1f} ms")
    print(f"  FCFS decode         {t_fcfs * 1000:9.1f} ms   total wait {fcfs[1] / 3600:8.1f} h")
    print(f"  optimised           {t_opt * 1000:9.1f} ms   total wait {opt[1] / 3600:8.1f} h")
    print(f"  optimised / FCFS    {t_opt / t_fcfs:9.0f} x (sequencing only); "
          f"{(t_win + t_opt) / (t_win + t_fcfs):.1f} x with the windows")


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    port = load_port()
    tide = read_constituents_toml(port.files["tide"])
    for scale in (1.5, 2.0):
        bench_day(port, tide, scale)


if __name__ == "__main__":
    main()
