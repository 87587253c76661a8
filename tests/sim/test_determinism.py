"""The same seed gives byte-identical output; another seed gives another day."""

from __future__ import annotations

from datetime import UTC, datetime

from feeds.simulate import SimConfig, Simulation
from twin.port import Port


def _run(port: Port, seed: int) -> Simulation:
    start = datetime(2026, 11, 28, 5, tzinfo=UTC)
    return Simulation(SimConfig(seed=seed, start_utc=start, hours=4.0, warmup_h=36.0), port)


def test_same_seed_gives_identical_nmea_truth_and_feeds(port: Port) -> None:
    a, b = _run(port, 11), _run(port, 11)
    assert "\n".join(a.nmea).encode() == "\n".join(b.nmea).encode()
    assert a.truth.equals(b.truth)
    assert a.vessels.equals(b.vessels)
    assert a.calls.equals(b.calls)
    assert a.gate.equals(b.gate) and a.customs.equals(b.customs) and a.tide.equals(b.tide)


def test_different_seed_gives_a_different_day(port: Port) -> None:
    a, b = _run(port, 11), _run(port, 12)
    assert a.nmea != b.nmea
    assert not a.truth.equals(b.truth)
    assert set(a.vessels["mmsi"]) != set(b.vessels["mmsi"])
