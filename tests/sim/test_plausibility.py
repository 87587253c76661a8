"""The simulated traffic is the size of the Port of Zhanjiang, with ships that fit their berths.

Bounds and their sources (reference/zhanjiang.md §6a, both marked there as estimates):
- arrivals: "10,000–20,000 commercial arrivals/yr" = 27–55 per day. The port model lacks the small
  coastal berths, so the rate table aims at ≈ 29/day; one simulated day is a Poisson draw of it,
  three simulated days are accepted at [18, 50] per day (≈ 3 σ of a Poisson mean of 3 days
  below, the top of the reference range above).
- tonnage: city-wide 280–330 Mt/yr = 0.77–0.90 Mt/day. The rate table must imply a figure inside
  that range; three simulated days (a handful of 200–400 kt ships decides each day) are
  accepted at [0.45, 1.2] Mt/day of cargo worked by the ships that berthed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from feeds.sim.fleet import MIDS
from feeds.simulate import SimConfig, Simulation, expected_per_day
from twin.port import Port


def test_rate_table_implies_zhanjiang_volumes() -> None:
    per_day, tonnes = expected_per_day()
    assert 27 <= per_day <= 55
    assert 0.77e6 <= tonnes <= 0.90e6


def test_three_days_have_plausible_arrivals_and_tonnage(port: Port) -> None:
    sim = Simulation(SimConfig(seed=3, start_utc=datetime(2026, 12, 1, tzinfo=UTC), hours=72.0), port)
    truth = sim.truth
    arrivals = truth.filter(pl.col("event") == "port_limit_arrival").height / 3
    assert 18 <= arrivals <= 50
    berthed = truth.filter(pl.col("event") == "all_fast").join(sim.calls, on="call_id")
    assert 0.45e6 <= berthed["tonnes"].sum() / 3 <= 1.2e6
    assert berthed.filter(pl.col("cargo") == "container")["teu"].sum() > 0


def test_the_port_is_busy_from_the_first_minute(sim: Simulation) -> None:
    first = sim.positions.filter(pl.col("ts_utc") < pl.col("ts_utc").min() + pl.duration(minutes=3))
    assert first.filter(pl.col("nav_status") == 5)["mmsi"].n_unique() >= 8
    assert first.filter(pl.col("nav_status") == 1)["mmsi"].n_unique() >= 1
    assert first.filter(pl.col("nav_status") == 0)["mmsi"].n_unique() >= 2


def test_vessels_have_valid_identities(sim: Simulation) -> None:
    ships = sim.vessels.filter(pl.col("imo").is_not_null())
    mids = {m for m, _ in MIDS}
    for row in ships.iter_rows(named=True):
        assert row["mmsi"] // 1_000_000 in mids
        digits = [int(d) for d in str(row["imo"])]
        assert len(digits) == 7
        assert sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == digits[6]
        assert 1 <= len(row["name"]) <= 20 and 1 <= len(row["callsign"]) <= 7
        assert 0.55 <= row["cb"] <= 0.9
    assert sim.vessels["mmsi"].n_unique() == sim.vessels.height


def test_ships_fit_their_berths(sim: Simulation, port: Port) -> None:
    joined = sim.calls.join(sim.vessels, on="mmsi", suffix="_v")
    for row in joined.iter_rows(named=True):
        berth = port.berths[row["berth_id"]]
        assert berth.cargo == row["cargo"]
        assert row["dwt"] <= berth.max_dwt
        assert max(row["draught_in_m"], row["draught_out_m"]) <= berth.design_depth_m


def test_deep_ships_sail_the_channel_only_with_enough_tide(sim: Simulation) -> None:
    """Static UKC of 10 % of draught over the channel's design depth, for every planned ship."""
    planner = sim.planner
    depth = min(s.design_depth_m for s in sim.port.channel.segments)
    deep = [c for c in sim._calls if c.draught_in_m * 1.1 > depth + planner.tide_m.min()]
    assert deep, "no ship in the day needs the tide"
    for call in deep:
        for leg in call.legs:
            if not leg.on_axis or leg.t0 >= (call.event_time("departure_from_berth") or np.inf):
                continue
            i0, i1 = np.searchsorted(planner.tide_t, [leg.t0, leg.t1])
            level = planner.tide_m[max(i0 - 1, 0): i1 + 1].min()
            # the stretch sailed may be deeper than the shallowest segment: check its own depth
            assert planner.min_depth(*_km_span(sim, leg)) + level >= 1.1 * call.draught_in_m - 1e-9


def _km_span(sim: Simulation, leg: object) -> tuple[float, float]:
    xy = leg.path.xy  # type: ignore[attr-defined]
    lon, lat = sim.port.metric.lonlat(xy[[0, -1], 0], xy[[0, -1], 1])
    return (sim.port.channel.chainage_at(lon[0], lat[0])[0], sim.port.channel.chainage_at(lon[1], lat[1])[0])
