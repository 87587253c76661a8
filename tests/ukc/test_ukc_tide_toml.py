"""The bundled Zhanjiang constituents reproduce the published gauge statistics (zhanjiang.md §4).

Sources of the targets: S11 (EIA report, 湛江港验潮站): MSL 2.20 m above chart datum, mean range
2.17 m, lowest observed -0.64 m, mean flood 6 h 55 min / ebb 5 h 30 min; S13 (Cheng et al. 2017):
irregular semidiurnal, main constituents in the order M2, K1, S2, O1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.tide import TideModel, high_low_waters, mean_range_m, read_constituents_toml

TOML = Path(__file__).resolve().parents[2] / "geodata" / "zhanjiang" / "tide.toml"
TEN_MIN = np.timedelta64(10, "m")


@pytest.fixture(scope="module")
def model() -> TideModel:
    return read_constituents_toml(TOML)


@pytest.fixture(scope="module")
def year(model: TideModel) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(np.datetime64("2026-01-01"), np.datetime64("2027-01-01"), TEN_MIN)
    return t, model.predict(t)


def test_station_and_datum(model: TideModel) -> None:
    assert model.station == "Zhanjiang"
    assert model.datum == "chart datum"
    assert model.z0_m == 2.20
    assert all(c.confidence == "estimate" and c.source for c in model.constituents)


def test_mean_level_is_msl_above_cd(year: tuple[np.ndarray, np.ndarray]) -> None:
    assert float(year[1].mean()) == pytest.approx(2.20, abs=0.01)


def test_mean_range_is_the_published_2_17_m(year: tuple[np.ndarray, np.ndarray]) -> None:
    _t, levels, is_high = high_low_waters(*year)
    assert mean_range_m(levels, is_high) == pytest.approx(2.17, abs=0.05)


def test_irregular_semidiurnal_and_constituent_order(model: TideModel) -> None:
    a = model.amplitude
    form = (a("K1") + a("O1")) / a("M2")
    assert 0.5 < form <= 2.0
    assert a("M2") > a("K1") > a("S2") > a("O1")


def test_flood_lasts_longer_than_ebb(year: tuple[np.ndarray, np.ndarray]) -> None:
    t, _levels, is_high = high_low_waters(*year)
    dt_h = np.diff(t).astype("timedelta64[s]").astype(float) / 3600.0
    alternate = is_high[1:] != is_high[:-1]
    rise = dt_h[alternate & ~is_high[:-1]].mean()
    fall = dt_h[alternate & is_high[:-1]].mean()
    assert rise == pytest.approx(6 + 55 / 60, abs=0.25)
    assert fall == pytest.approx(5.5, abs=0.25)


def test_lowest_astronomical_tide_is_near_chart_datum(model: TideModel) -> None:
    # chart datum is the theoretical lowest tide (≈ LAT): over a full nodal cycle the
    # prediction should just reach it, and stay well above the lowest observed -0.64 m (surge)
    t = np.arange(np.datetime64("2020-01-01"), np.datetime64("2038-09-01"), TEN_MIN)
    lowest = float(model.predict(t).min())
    assert -0.15 <= lowest <= 0.15
