"""One simulated day shared by the simulator tests (building it is the expensive part)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.simulate import SimConfig, Simulation
from geodata import load_port
from twin.port import Port

START = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.fixture(scope="session")
def port() -> Port:
    return load_port()


@pytest.fixture(scope="session")
def sim(port: Port) -> Simulation:
    return Simulation(SimConfig(seed=7, start_utc=START, hours=24.0), port)
