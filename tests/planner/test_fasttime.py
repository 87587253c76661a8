"""Fast-time runs: determinism, common random numbers, and a closed berth making ships wait longer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.simulate import SimConfig, Simulation
from twin.fasttime import compare, mean_ci95, run_once
from twin.port import Port
from twin.scenario import apply_to_port, parse_scenario

START = datetime(2026, 11, 1, tzinfo=UTC)
CLOSE_GENERAL = "version = 1\n[berths]\nclose = ['XS-GEN-1', 'XS-GEN-2', 'XS-GEN-3']\n"


def _config(**kw: object) -> SimConfig:
    return SimConfig(seed=3, start_utc=START, hours=36.0, warmup_h=24.0, per_call_rng=True, landside=False,
                     **kw)  # type: ignore[arg-type]


def test_same_seed_gives_identical_baseline_runs(port: Port) -> None:
    a = run_once(port, 5, START, 1.5)
    b = run_once(port, 5, START, 1.5)
    assert a.kpis == b.kpis and a.calls == b.calls
    assert Simulation(_config(), port).truth.equals(Simulation(_config(), port).truth)


def test_scenario_runs_share_the_baseline_arrivals(port: Port) -> None:
    """Common random numbers: the same ships arrive, whatever the scenario changes downstream."""
    base = Simulation(_config(), port)
    closed = Simulation(_config(), apply_to_port(port, parse_scenario(CLOSE_GENERAL)))
    more = Simulation(_config(demand=(("general", 1.5),)), port)

    def ships(sim: Simulation) -> set[int]:
        return {c.ship.mmsi for c in sim._calls} | {s.mmsi for s in sim.unplanned}

    arrivals = {(c.ship.mmsi, c.ship.dwt) for c in base._calls}
    assert ships(base) == ships(closed)
    assert ships(base) < ships(more)  # growth adds ships, keeps every baseline one
    assert arrivals <= {(c.ship.mmsi, c.ship.dwt) for c in more._calls}


def test_closing_berths_increases_waiting(port: Port) -> None:
    out = compare(port, parse_scenario(CLOSE_GENERAL, "close_general.toml"), days=3, seeds=[1],
                  start_utc=START, progress=False)
    s = out["summary"]
    assert s["wait_total_h"]["scenario"] > s["wait_total_h"]["baseline"]
    assert s["wait_total_h"]["difference"] > 0
    assert s["calls_refused"]["difference"] >= 0  # fewer general berths never admit more ships


def test_mean_ci95_matches_a_hand_computed_t_interval() -> None:
    mean, half = mean_ci95([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half == pytest.approx(4.303 * 1.0 / 3 ** 0.5)
    assert mean_ci95([4.0]) == (4.0, None)
