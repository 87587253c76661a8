"""Tide prediction, nodal corrections, least-squares fit, surge and the TOML reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.tide import (
    SPEEDS_DEG_PER_H,
    ConstantTide,
    Constituent,
    TideSeries,
    equilibrium_argument_deg,
    fit,
    nodal_corrections,
    predict,
    read_constituents_toml,
    surge,
)

# reference/ukc.md section 4: speeds from the NTSLF short tide list, UTide frequencies (cph)
PUBLISHED_SPEEDS = {"M2": 28.9841042, "S2": 30.0000000, "N2": 28.4397295, "K2": 30.0821373,
                    "K1": 15.0410686, "O1": 13.9430356, "P1": 14.9589314, "Q1": 13.3986609}
UTIDE_CPH = {"M2": 0.080511, "S2": 0.083333, "N2": 0.078999, "K2": 0.083561,
             "K1": 0.041781, "O1": 0.038731, "P1": 0.041553, "Q1": 0.037219}


def test_speeds_equal_the_published_table_exactly() -> None:
    for name, speed in PUBLISHED_SPEEDS.items():
        assert SPEEDS_DEG_PER_H[name] == speed
        assert round(speed / 360.0, 6) == UTIDE_CPH[name]
    assert SPEEDS_DEG_PER_H["M4"] == 2 * PUBLISHED_SPEEDS["M2"]
    assert SPEEDS_DEG_PER_H["MS4"] == PUBLISHED_SPEEDS["M2"] + PUBLISHED_SPEEDS["S2"]


def test_equilibrium_arguments_advance_at_the_published_speeds() -> None:
    # the Doodson numbers and astronomical rates are independent of the speed table: their
    # time derivative must reproduce it
    t0 = np.datetime64("2026-03-01T00:00", "s")
    t1 = t0 + np.timedelta64(1000, "h")
    for name, speed in PUBLISHED_SPEEDS.items():
        dv = (equilibrium_argument_deg(name, t1) - equilibrium_argument_deg(name, t0))[0]
        assert ((dv - speed * 1000.0 + 180.0) % 360.0) - 180.0 == pytest.approx(0.0, abs=1e-3)


def test_s2_phase_is_twice_the_mean_sun_hour_angle() -> None:
    # S2 is purely solar: V = 2T with T = 180 deg at 00:00 UT, so h = H cos(30 deg/h * UT - kappa)
    times = np.array(["2026-11-28T00:00", "2026-11-28T03:00", "2027-05-01T06:00"],
                     dtype="datetime64[s]")
    levels = predict([Constituent("S2", 1.0, 0.0)], times)
    np.testing.assert_allclose(levels, [1.0, 0.0, -1.0], atol=1e-9)


# UTide 0.4.0 (utide.reconstruct, nodal corrections on, lat 21.19; run once outside this
# project's venv, 2026-11-28) for one constituent at a time with these (amplitude m, Greenwich
# phase deg), at the times below. UTide is an independent code base (Codiga's ut_FUV), so this
# pins our equilibrium arguments, phase offsets and nodal corrections to its conventions.
UTIDE_SPEC = {"M2": (1.0, 250.0), "S2": (0.4, 290.0), "N2": (0.2, 225.0), "K2": (0.1, 290.0),
              "K1": (0.5, 95.0), "O1": (0.4, 90.0), "P1": (0.15, 95.0), "Q1": (0.07, 65.0),
              "M4": (0.12, 225.0)}
UTIDE_TIMES = np.array(["2026-11-28T00:00", "2026-11-28T05:10", "2027-03-15T12:00",
                        "2030-07-01T18:30", "2034-12-31T23:00", "2024-05-05T03:20"],
                       dtype="datetime64[s]")
UTIDE_LEVELS = {
    "M2": [0.8688, -0.9675, 0.2604, 0.1626, 0.2507, 0.2753],
    "S2": [0.1375, -0.2837, 0.1376, -0.0356, 0.3056, -0.3948],
    "N2": [0.1486, -0.1925, 0.1752, 0.053, -0.1975, 0.0973],
    "K2": [-0.105, 0.1243, 0.0489, -0.0505, -0.0409, -0.0386],
    "K1": [-0.2189, 0.4448, -0.5418, 0.4588, -0.0897, 0.0327],
    "O1": [-0.4278, 0.0428, -0.4598, 0.2941, -0.0089, -0.0335],
    "P1": [0.0472, 0.1482, 0.1489, 0.1495, -0.0774, -0.1482],
    "Q1": [-0.0641, 0.0222, -0.0563, -0.0284, 0.0564, 0.0127],
    "M4": [0.0954, -0.0054, -0.0668, -0.0488, -0.0703, -0.069],
}


@pytest.mark.parametrize("name", sorted(UTIDE_SPEC))
def test_prediction_matches_utide_reconstruction(name: str) -> None:
    # UTide adds satellite terms to the nodal corrections; the difference stays < 4 mm here,
    # while a 180 deg (diurnal sign) or 2 deg phase error would show as > 10 mm
    ours = predict([Constituent(name, *UTIDE_SPEC[name])], UTIDE_TIMES)
    np.testing.assert_allclose(ours, UTIDE_LEVELS[name], atol=0.004)


def test_nodal_factors_at_the_2025_major_lunar_standstill() -> None:
    # the ascending node passed 0 deg (major standstill) in early 2025: K1 and O1 factors are
    # at their maxima (1.113, 1.183) and M2 at its minimum (0.963) (Schureman; Pugh 1987 T4.3)
    t = np.datetime64("2025-01-01T00:00", "s")
    assert float(nodal_corrections("K1", t)[0][0]) == pytest.approx(1.113, abs=0.003)
    assert float(nodal_corrections("O1", t)[0][0]) == pytest.approx(1.183, abs=0.003)
    assert float(nodal_corrections("M2", t)[0][0]) == pytest.approx(0.963, abs=0.002)
    assert float(nodal_corrections("S2", t)[0][0]) == 1.0


def test_prediction_is_vectorised_and_keeps_shape() -> None:
    times = (np.datetime64("2026-01-01T00:00", "s")
             + np.arange(12).reshape(3, 4) * np.timedelta64(1, "h"))
    cons = [Constituent("M2", 1.0, 100.0), Constituent("K1", 0.5, 200.0)]
    grid = predict(cons, times, z0_m=2.2)
    flat = predict(cons, times.ravel(), z0_m=2.2)
    assert grid.shape == (3, 4)
    np.testing.assert_array_equal(grid.ravel(), flat)


def _synthetic(years: float = 1.0, seed: int = 7) -> tuple[np.ndarray, np.ndarray,
                                                         list[Constituent]]:
    truth = [Constituent("M2", 1.01, 250.0), Constituent("S2", 0.40, 290.0),
             Constituent("N2", 0.19, 225.0), Constituent("K2", 0.11, 290.0),
             Constituent("K1", 0.48, 95.0), Constituent("O1", 0.37, 90.0),
             Constituent("P1", 0.155, 95.0), Constituent("Q1", 0.07, 65.0),
             Constituent("M4", 0.12, 225.0)]
    t = np.datetime64("2025-06-01T00:00", "s") + np.arange(int(years * 8766)) * np.timedelta64(
        1, "h")
    rng = np.random.default_rng(seed)
    y = predict(truth, t, z0_m=2.2) + rng.normal(0.0, 0.05, t.size)
    # gaps: ten outages of 5 days and 3 % random dropouts, as NaN
    for start in rng.integers(0, t.size - 120, 10):
        y[start:start + 120] = np.nan
    y[rng.random(t.size) < 0.03] = np.nan
    return t, y, truth


def test_fit_recovers_amplitudes_and_phases_from_noisy_gappy_data() -> None:
    t, y, truth = _synthetic()
    res = fit(t, y, [c.name for c in truth])
    assert res.warnings == ()
    assert res.model.z0_m == pytest.approx(2.2, abs=0.003)
    assert res.residual_rms_m == pytest.approx(0.05, abs=0.003)
    for c in truth:
        got = next(g for g in res.model.constituents if g.name == c.name)
        assert got.amplitude_m == pytest.approx(c.amplitude_m, abs=0.006)
        # phase error ~ noise / (amplitude * sqrt(n/2)): allow 3 deg for the 7 cm Q1
        assert ((got.phase_deg - c.phase_deg + 180) % 360) - 180 == pytest.approx(
            0.0, abs=3.0 if c.amplitude_m < 0.1 else 0.7)


def test_fit_of_a_hand_built_s2_series() -> None:
    # built without twin.tide: 0.8 cos(30 deg/h * UT - 40 deg) + 1.5 (S2 has no nodal terms)
    t = np.datetime64("2026-01-01T00:00", "s") + np.arange(24 * 30) * np.timedelta64(1, "h")
    ut_hours = np.arange(t.size) % 24
    y = 1.5 + 0.8 * np.cos(np.radians(30.0 * ut_hours - 40.0))
    res = fit(t, y, ["S2"])
    (s2,) = res.model.constituents
    assert s2.amplitude_m == pytest.approx(0.8, abs=1e-9)
    assert s2.phase_deg == pytest.approx(40.0, abs=1e-6)
    assert res.model.z0_m == pytest.approx(1.5, abs=1e-9)


def test_fit_warns_when_the_record_cannot_separate_k1_and_p1() -> None:
    t, y, _truth = _synthetic(years=0.1)
    res = fit(t, y, ["M2", "K1", "P1"])
    assert any(w.startswith("K1/P1") for w in res.warnings)
    with pytest.raises(ValueError, match="unknowns"):
        fit(t[:3], y[:3], ["M2", "S2"])


def test_surge_is_observed_minus_predicted() -> None:
    np.testing.assert_allclose(surge([2.5, np.nan, 1.0], [2.0, 1.0, 1.3]), [0.5, np.nan, -0.3])


def test_series_and_constant_tides() -> None:
    t = np.array(["2026-01-01T00:00", "2026-01-01T01:00"], dtype="datetime64[s]")
    s = TideSeries(t, np.array([1.0, 2.0]))
    q = np.array(["2026-01-01T00:30", "2026-01-01T02:00"], dtype="datetime64[s]")
    np.testing.assert_allclose(s.level_m(q), [1.5, np.nan])
    assert ConstantTide(1.25).level_m(q).tolist() == [1.25, 1.25]


def test_toml_reader_refuses_bad_files(tmp_path: Path) -> None:
    good = ('[station]\nname = "X"\nz0_m = 1.0\n\n[[constituent]]\nname = "M2"\n'
            'amplitude_m = 1.0\nphase_deg = 10.0\n')
    (tmp_path / "ok.toml").write_text(good)
    model = read_constituents_toml(tmp_path / "ok.toml")
    assert model.z0_m == 1.0 and model.constituents[0].name == "M2"
    (tmp_path / "dup.toml").write_text(good + good.split("\n\n", 1)[1])
    with pytest.raises(ValueError, match="twice"):
        read_constituents_toml(tmp_path / "dup.toml")
    (tmp_path / "zz.toml").write_text(good.replace('"M2"', '"ZZ9"'))
    with pytest.raises(ValueError, match="unknown constituent"):
        read_constituents_toml(tmp_path / "zz.toml")
    (tmp_path / "local.toml").write_text(good.replace("z0_m = 1.0",
                                                      'z0_m = 1.0\nphase_reference = "UTC+8"'))
    with pytest.raises(ValueError, match="phase_reference"):
        read_constituents_toml(tmp_path / "local.toml")
    (tmp_path / "nokey.toml").write_text(good.replace("z0_m = 1.0\n", ""))
    with pytest.raises(ValueError, match="z0_m"):
        read_constituents_toml(tmp_path / "nokey.toml")
