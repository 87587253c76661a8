"""The port model shared by the planner tests (loading it is the expensive part)."""

from __future__ import annotations

import pytest

from geodata import load_port
from twin.port import Port


@pytest.fixture(scope="session")
def port() -> Port:
    return load_port()
