"""Planner screen fixtures: the port and its depth grid, a scenarios folder with one good and one bad
file, Debian's Chromium via Playwright, and a planner server on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from twin.port import Port
from twin.scenario import bundled, design_vessel, load_scenario, window_hours_per_day
from twin.schedule import berth_chainage_km
from twin.tide import read_constituents_toml
from twin.ukc import UkcRule

GOOD_TOML = """version = 1
name = "dredge a pocket off Xiashan"
description = "A small polygon dredged to 22 m."

[[dredge]]
polygon = [[110.40, 21.10], [110.46, 21.10], [110.46, 21.15], [110.40, 21.15]]
depth_m = 22.0
"""
# line 5 breaks the rule the error text must name: to_km must be greater than from_km
BAD_TOML = """version = 1
name = "bad stretch"
[[dredge]]
from_km = 10.0
to_km = 5.0
deepen_m = 1.0
"""


@pytest.fixture(scope="session")
def port() -> Port:
    from geodata import load_port

    return load_port()


@pytest.fixture(scope="session")
def depth(port: Port) -> xr.DataArray:
    with xr.open_dataset(port.files["bathymetry"]) as ds:
        return ds["depth"].load()


@pytest.fixture(scope="session")
def scenarios_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "pocket.toml").write_text(GOOD_TOML, encoding="utf-8")
    (folder / "bad.toml").write_text(BAD_TOML, encoding="utf-8")
    (folder / "notes.txt").write_text("not a scenario", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def planner(port: Port, depth: xr.DataArray, scenarios_dir: Path) -> Iterator[Any]:
    """The planner alone (it needs no bus) on a free port."""
    from dashboards.planner.server import start_planner_server

    running = start_planner_server(port, depth, http_port=0, scenarios_dir=scenarios_dir)
    yield running
    running.stop()


def windows_called_directly(port: Port, name: str, days: int) -> list[dict[str, Any]]:
    """`window_hours_per_day` for the bundled scenario `name` from 2026-11-28 00:00 UTC, called the
    way `twin plan windows` does (K0 to XS-ORE-400K, outer 15 %, inner 10 %): what the planner must match."""
    scen = load_scenario(bundled(name))
    return window_hours_per_day(
        port,
        scen,
        design_vessel(scen),
        read_constituents_toml(port.files["tide"]),
        np.datetime64("2026-11-28T00:00", "ns"),
        days,
        to_km=berth_chainage_km(port, "XS-ORE-400K"),
        rules={"outer": UkcRule(0.15), "inner": UkcRule(0.10)},
    )
