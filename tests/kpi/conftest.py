"""Fixtures of the KPI tests: the hand-built history of kpi_history.py and its day window."""

from __future__ import annotations

import pytest
from kpi_history import T0, at, inputs

from twin.kpi import KpiInputs, Window


@pytest.fixture
def kin() -> KpiInputs:
    return inputs()


@pytest.fixture
def day() -> Window:
    """[T0, T0 + 24 h)."""
    return Window.custom(T0, at(24))
