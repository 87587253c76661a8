"""The simulator under a [traffic] scenario: scheduled sequencing and a pilot pool change waiting."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from feeds.simulate import SimConfig, Simulation
from twin.fasttime import baseline_traffic, run_once
from twin.port import Port
from twin.scenario import bundled, load_scenario

START = datetime(2026, 11, 1, tzinfo=UTC)


def _sim(port: Port, **kw: object) -> Simulation:
    return Simulation(SimConfig(seed=3, start_utc=START, hours=36.0, warmup_h=24.0, per_call_rng=True,
                                landside=False, **kw), port)  # type: ignore[arg-type]


def test_fcfs_scheduling_without_pilots_is_the_simulators_own_plan(port: Port) -> None:
    assert _sim(port, scheduling="fcfs").truth.equals(_sim(port).truth)


def test_the_pilot_pool_keeps_its_duty_limits(port: Port) -> None:
    rules = (("count", 8), ("max_shift_h", 10.0), ("min_rest_h", 8.0))
    sim = _sim(port, scheduling="optimised", pilots=rules)
    pool = sim.planner.pilots
    assert pool is not None and sum(len(j) for j in pool.jobs) > 0
    for jobs in pool.jobs:
        start = jobs[0][0] if jobs else 0.0
        for (_a0, a1), (b0, b1) in itertools.pairwise(jobs):
            assert b0 >= a1 - 1e-3
            if b0 - a1 >= 8 * 3600:
                start = b0
            assert b1 - start <= 10 * 3600 + 1e-3


def test_the_bundled_scheduling_scenario_changes_waiting_in_the_fast_time_run(port: Port) -> None:
    scenario = load_scenario(bundled("optimised_schedule"))
    assert scenario.traffic is not None and scenario.traffic.scheduling == "optimised"
    base = run_once(port, 2, START, 2.0, None, traffic=baseline_traffic(scenario))
    opt = run_once(port, 2, START, 2.0, scenario)
    assert base.kpis["wait_total_h"] != opt.kpis["wait_total_h"]
    assert base.kpis["calls_arrived"] > 0 and opt.kpis["calls_arrived"] > 0
