"""The embedded default feed: a deterministic, realistic day of Zhanjiang port traffic.

    sim = Simulation(SimConfig(seed=7, start_utc=datetime(2026, 11, 28, tzinfo=UTC), hours=24.0), port)
    sim.vessels, sim.calls, sim.truth          # polars frames (docs/contracts.md §3, §4)
    for batch in sim.iter_batches(step_s=1.0):  # SimBatch(t_utc, nmea, gate, customs, tide, cargo)
        ...
    sim.write("out/")                           # ais.nmea, gate.csv, customs.csv, tide.csv, *.parquet

How it works and the figures behind it (arrival rates, particulars, rules, reporting intervals,
measured speed): docs/simulator.md; the rate table and its derivation: `feeds.sim.fleet`.
Importing this module does no I/O; building a `Simulation` reads the port's tide constants.
"""

from __future__ import annotations

from feeds.sim.core import SimBatch, SimConfig, Simulation
from feeds.sim.fleet import CLASSES, VesselClass, expected_per_day

__all__ = ["CLASSES", "SimBatch", "SimConfig", "Simulation", "VesselClass", "expected_per_day"]
