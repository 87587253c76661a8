"""Fixtures of the engine tests: the bundled Zhanjiang port model and one engine index per session."""

from __future__ import annotations

import pytest

from geodata import load_port
from twin.port import Port


@pytest.fixture(scope="session")
def port() -> Port:
    return load_port()
