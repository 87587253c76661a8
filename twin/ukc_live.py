"""Live UKC of one AIS vessel row at a time t, under the port's choices: the one computation both
the `ukc` alert rule (`twin.alert_rules.check_ukc`) and the ops desk's vessel page make, so they
cannot drift apart.

The port's choices (`UkcSettings`, the `ukc` rule's parameters of the alert rules file):
- required net UKC: `outer_pct` / `inner_pct` of the draught by the rule part where the ship is,
  at least `minimum_m` (`twin.ukc.UkcRule`);
- squat: `squat_method` (`twin.squat`), the channel segment's width where the ship is in one;
- the ship: AIS carries neither a block coefficient nor always a beam, so Cb and a missing beam
  come from `cb_by_class` and `length_beam_ratio_by_class` by AIS class (a class without an
  entry takes `default`; Cb 0.8 without one);
- the water: the port's bathymetry grid at the nearest cell; where that cell has no depth (the
  quay alongside a berth), a depth the caller knows (the berth's design depth); the harmonic tide
  prediction plus the tide gauge's observed surge (`observed_surge_m`) when `use_observed_tide`
  and the tide feed is fresh.

The vessel row has the columns of the engine's vessel table (`twin.engine.VESSEL_COLUMNS`: mmsi,
ship_class, lon, lat, sog_kn, length_m, beam_m, draught_m, …). Its numbers are taken at the
table's precision (speed 0.1 kn, lengths and draught 0.01 m), so the alert, which reads the
engine's own state, and a client of `/stream`, which reads the rounded table, compute the same
figure. Nothing here reads a clock or a file: times, grid and tide are arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr

from twin.tide import TideLevel
from twin.ukc import LiveUkc, UkcRule, Vessel, live_ukc

DEFAULT_CB = 0.8  # a block coefficient when the class table has neither the class nor a default


def by_class(table: Mapping[str, float], cls: str) -> float | None:
    """The class's entry of a per-class table, else its `default` entry, else None."""
    return table.get(cls, table.get("default"))


@dataclass(frozen=True)
class UkcSettings:
    """The port's UKC choices (the `ukc` alert rule's parameters; see the module docstring)."""

    outer_pct: float
    inner_pct: float
    minimum_m: float
    squat_method: str
    cb_by_class: Mapping[str, float]
    length_beam_ratio_by_class: Mapping[str, float]
    use_observed_tide: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> UkcSettings:
        """From a `ukc` rule's parameters (`twin.alert_rules.RuleSpec.params`, defaults filled in)."""
        return cls(
            float(params["outer_pct"]),
            float(params["inner_pct"]),
            float(params["minimum_m"]),
            str(params["squat_method"]),
            dict(params["cb_by_class"]),
            dict(params["length_beam_ratio_by_class"]),
            bool(params.get("use_observed_tide", True)),
        )

    def pct(self, part: str) -> float:
        """Required net UKC in % of draught in the rule part `part` ("outer", else inner)."""
        return self.outer_pct if part == "outer" else self.inner_pct

    def rule(self, part: str) -> UkcRule:
        """The port's UKC rule in the rule part `part` ("outer" or "inner")."""
        return UkcRule(fraction_of_draught=self.pct(part) / 100.0, minimum_m=self.minimum_m)


@lru_cache(maxsize=1)
def bundled_settings() -> UkcSettings:
    """The first enabled `ukc` rule of the bundled alert rules file (read on first call);
    ValueError when it has none."""
    from twin.alert_rules import load_rules  # the rules file is read here, never at import

    for rule in load_rules().rules:
        if rule.kind == "ukc" and rule.enabled:
            return UkcSettings.from_params(rule.params)
    raise ValueError("the bundled alert rules have no enabled ukc rule")


def _r(x: Any, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)


def vessel_of(row: Mapping[str, Any], settings: UkcSettings, speed_kn: float | None = None) -> Vessel | None:
    """The UKC's `Vessel` of a vessel row: the draught as reported, speed the SOG (≥ 0; `speed_kn`
    replaces it), Cb and a missing beam by class. None without a positive draught."""
    draught = _r(row.get("draught_m"), 2)
    if draught is None or not draught > 0:
        return None
    cls = str(row.get("ship_class") or "unknown")
    cb = by_class(settings.cb_by_class, cls) or DEFAULT_CB
    ratio = by_class(settings.length_beam_ratio_by_class, cls)
    length = _r(row.get("length_m"), 2)
    beam = _r(row.get("beam_m"), 2) or (length / ratio if length and ratio else None)
    sog = max(_r(row.get("sog_kn"), 1) or 0.0, 0.0) if speed_kn is None else speed_kn
    return Vessel(
        draught_m=draught,
        speed_kn=sog,
        cb=float(cb),
        beam_m=beam,
        length_m=length,
        vessel_id=str(row.get("mmsi") or ""),
    )


def tide_at_us(tide: TideLevel, t_us: int) -> float:
    """The tide model's level (m above CD) at `t_us` (µs since the epoch, UTC)."""
    return float(np.asarray(tide.level_m(np.array([np.datetime64(t_us, "us")])))[0])


def observed_surge_m(
    settings: UkcSettings,
    level_m: float | None,
    level_us: int | None,
    stale: bool,
    tide_at: Callable[[int], float],
) -> float:
    """The tide gauge's residual (m): its latest level minus the prediction at the time of the
    tide feed's latest row (`level_us`), kept until the feed goes stale; 0 when the settings do not
    use the observed tide, nothing was observed, or the feed is stale."""
    if not settings.use_observed_tide or level_m is None or level_us is None or stale:
        return 0.0
    return level_m - tide_at(level_us)


@dataclass(frozen=True)
class RowUkc:
    """The UKC of one vessel row: the ship and rule used, the result, and where the depth came
    from ("bathymetry", or "fallback": the caller's depth where the grid has none)."""

    vessel: Vessel
    rule: UkcRule
    ukc: LiveUkc
    depth_source: str


def live_ukc_of(
    row: Mapping[str, Any],
    t_us: int,
    depth: xr.DataArray,
    tide_at: Callable[[int], float],
    *,
    settings: UkcSettings,
    part: str,
    channel_width_m: float | None = None,
    surge_m: float = 0.0,
    fallback_depth_m: float | None = None,
) -> RowUkc | None:
    """Net UKC of the vessel `row` at `t_us` (µs, UTC) at its position, under `settings`' rule for
    the rule part `part` ("outer"/"inner").

    `depth` is the bathymetry grid (m below CD, lat/lon), `tide_at` the prediction (µs → m above
    CD, e.g. `lambda us: tide_at_us(model, us)`), `surge_m` the observed residual added to it
    (`observed_surge_m`), `channel_width_m` the width of the channel segment the ship is in (None
    outside one), `fallback_depth_m` a depth (m below CD) used where the grid's cell has none.
    None when the row has no positive draught or no position. Never raises for missing data: a
    depth that is still unknown gives a NaN net UKC with status "no-data".
    """
    ship = vessel_of(row, settings)
    if ship is None or row.get("lat") is None or row.get("lon") is None:
        return None
    lat, lon = float(row["lat"]), float(row["lon"])
    rule = settings.rule(part)
    tide_m = tide_at(t_us)
    t = np.datetime64(t_us, "us")
    kw: dict[str, Any] = {"rule": rule, "squat_method": settings.squat_method, "surge_m": surge_m}
    res = live_ukc(ship, lat, lon, t, depth, tide_m, channel_width_m=channel_width_m, **kw)
    if math.isnan(res.depth_below_cd_m) and fallback_depth_m is not None:
        cell = xr.DataArray([[fallback_depth_m]], coords={"lat": [lat], "lon": [lon]}, dims=("lat", "lon"))
        return RowUkc(ship, rule, live_ukc(ship, lat, lon, t, cell, tide_m, **kw), "fallback")
    return RowUkc(ship, rule, res, "bathymetry")
