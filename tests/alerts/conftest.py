"""Fixtures of the alert tests: the bundled port, its bathymetry and tide model (read once), and a
helper to build canonical frames and run them through a real Engine with an AlertEngine attached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import xarray as xr

from feeds.schema import SCHEMAS
from geodata import load_port
from twin.alert_rules import RuleSet, load_rules, parse_rules
from twin.alerts import AlertEngine
from twin.bathymetry import load_bathymetry
from twin.engine import Engine
from twin.port import Port
from twin.tide import TideModel, read_constituents_toml

T0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def port() -> Port:
    return load_port()


@pytest.fixture(scope="session")
def depth(port: Port) -> xr.DataArray:
    return load_bathymetry(port.files["bathymetry"])


@pytest.fixture(scope="session")
def tide(port: Port) -> TideModel:
    return read_constituents_toml(port.files["tide"])


def frame(kind: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A canonical frame of `kind` from row dicts (missing columns null)."""
    cols = SCHEMAS[kind]
    return pl.DataFrame([{c: r.get(c) for c in cols} for r in rows], schema=cols)


def pos(
    t: datetime, mmsi: int, lon: float, lat: float, sog: float = 0.0, cog: float = 0.0, nav: int = 0
) -> dict[str, Any]:
    """One ais_position row."""
    return {
        "ts_utc": t,
        "mmsi": mmsi,
        "lon": lon,
        "lat": lat,
        "sog_kn": sog,
        "cog_deg": cog,
        "heading_deg": cog,
        "nav_status": nav,
        "source": "test",
    }


def static(
    t: datetime,
    mmsi: int,
    ship_type: int,
    length_m: float,
    beam_m: float | None,
    draught_m: float | None,
    name: str = "TEST SHIP",
) -> dict[str, Any]:
    """One ais_static row."""
    return {
        "ts_utc": t,
        "mmsi": mmsi,
        "name": name,
        "ship_type": ship_type,
        "length_m": length_m,
        "beam_m": beam_m,
        "draught_m": draught_m,
    }


class Rig:
    """A real Engine with an AlertEngine attached; `step` applies rows at a time."""

    def __init__(self, port: Port, rules: RuleSet, depth: xr.DataArray, tide: TideModel) -> None:
        self.engine = Engine(port)
        self.alerts = AlertEngine(port, rules, depth_below_cd=depth, tide=tide).attach(self.engine)
        self.deltas: list[dict[str, Any]] = []

    def step(self, now: datetime, **rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply rows (keyword = canonical kind) at `now`; returns the delta message."""
        frames = {k: frame(k, v) for k, v in rows.items() if v}
        msg = self.engine.apply(frames, now).to_message()
        self.deltas.append(msg)
        return msg

    def open(self, rule: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.alerts.alerts() if rule is None or a["rule"] == rule]

    def events(self, alert_id: str) -> list[str]:
        return [t.event for t in self.alerts.history if t.alert_id == alert_id]


@pytest.fixture
def rig(port: Port, depth: xr.DataArray, tide: TideModel) -> Iterator[Any]:
    """rig(rules_text=None) → a Rig with the default rules or with the rules of `rules_text`."""

    def make(rules_text: str | None = None) -> Rig:
        rules = load_rules() if rules_text is None else parse_rules(rules_text, "test.toml")
        return Rig(port, rules, depth, tide)

    yield make


def minutes(m: float) -> timedelta:
    return timedelta(minutes=m)
