"""Squat formulas against the published worked examples of reference/ukc.md section 2.5."""

from __future__ import annotations

import json

import numpy as np
import pytest

from twin.cli import main
from twin.squat import depth_froude_number, squat


@pytest.mark.parametrize(("speed_kn", "published_m"),
                         [(4, 0.144), (8, 0.576), (12, 1.296), (16, 2.304), (20, 3.600)])
def test_barrass_open_matches_tstarmet_e1(speed_kn: float, published_m: float) -> None:
    # E1, tstarmet.com/squat: Cb 0.9, Cb V^2 / 100
    res = squat("barrass-open", cb=0.9, speed_kn=speed_kn, draught_m=10.0, depth_m=12.0)
    assert float(res.squat_m) == pytest.approx(published_m, abs=5e-4)


def test_barrass_open_and_confined_match_squat_form_e2() -> None:
    # E2, scribd 705635834 "Squat & UKC form": Cb = 1841.27 / (65.50 * 14.03 * 5.50), 8 kn
    cb = 1841.27 / (65.50 * 14.03 * 5.50)
    assert cb == pytest.approx(0.3642, abs=1e-4)  # form prints 0.3642 for 0.36430 (truncated)
    open_ = squat("barrass-open", cb=cb, speed_kn=8, draught_m=5.5, depth_m=20.5)
    confined = squat("barrass-confined", cb=cb, speed_kn=8, draught_m=5.5, depth_m=20.5)
    assert round(float(open_.squat_m), 2) == 0.23
    assert round(float(confined.squat_m), 2) == 0.47


@pytest.mark.parametrize(("speed_kn", "confined_m", "open_m"), [
    (4, 0.14, 0.11), (8, 0.58, 0.47), (9, 0.74, 0.60), (10, 0.92, 0.75), (12, 1.34, 1.09),
    (15, 2.13, 1.74)])
def test_barrass_1979_blockage_matches_eagle_sheet_e4(speed_kn: float, confined_m: float,
                                                      open_m: float) -> None:
    # E4/E4b, Eagle VN-03-A (scribd 523158420): Cb 0.78, Cw 0.9057, B 32.26, T 11.90, h 14.0,
    # channel W 200 m; open water uses the width of influence 7.7 + 45 (1 - Cw)^2
    common = {"cb": 0.78, "speed_kn": speed_kn, "draught_m": 11.90, "depth_m": 14.0,
              "beam_m": 32.26}
    confined = squat("barrass-1979", channel_width_m=200.0, **common)
    open_ = squat("barrass-1979", waterplane_coefficient=0.9057, **common)
    assert round(float(confined.squat_m), 2) == confined_m
    assert round(float(open_.squat_m), 2) == open_m
    assert confined.details["blockage"] == pytest.approx(0.137105, abs=1e-6)
    assert open_.details["blockage"] == pytest.approx(0.10493, abs=1e-5)
    # the sheet prints Cw to 4 decimals: +-5e-5 in Cw moves Wi by +-4.2e-4
    assert open_.details["width_m"] / 32.26 == pytest.approx(8.1004, abs=5e-4)


def test_barrass_blockage_uses_channel_width_when_narrower_than_influence() -> None:
    # S = B T / (W h) with the E4 geometry gives E4's published S = 0.137105
    res = squat("barrass-blockage", cb=0.78, speed_kn=9, draught_m=11.90, depth_m=14.0,
                beam_m=32.26, channel_width_m=200.0)
    assert res.details["blockage"] == pytest.approx(0.137105, abs=1e-6)
    assert float(res.squat_m) == pytest.approx(0.78 * 0.137105**0.81 * 9**2.08 / 20, rel=1e-5)


def test_barrass_blockage_open_water_width_of_influence() -> None:
    # W = (7.7 + 20 (1 - Cb)^2) B (scribd 311106883 NB.315): Cb 0.8 -> 8.5 B
    res = squat("barrass-blockage", cb=0.8, speed_kn=10, draught_m=10.0, depth_m=12.0,
                beam_m=40.0)
    assert res.details["blockage"] == pytest.approx(40 * 10 / (8.5 * 40 * 12), rel=1e-12)


def test_squat_of_kinavis_doc_test_e5() -> None:
    # E5, KINAVIS clearance.rs doc-test: T 12, Cb 0.85, 12 kn -> squat 1.22 (open)
    res = squat("barrass-open", cb=0.85, speed_kn=12, draught_m=12.0, depth_m=15.5)
    assert round(float(res.squat_m), 2) == 1.22


def test_huuska_channel_matches_dvk_regression_r2() -> None:
    # R2, finnishtransportagency/dvk squat calculations.test.tsx: 3.05 m, Ks 3.630, Fnh 0.5808
    res = squat("huuska", cb=0.75, speed_kn=15, draught_m=15.0, depth_m=18.0, beam_m=15.0,
                length_m=200.0, channel_width_m=30.0, channel_bank_n=10.0)
    assert round(float(res.squat_m), 2) == 3.05
    assert round(res.details["ks"], 3) == 3.630
    assert round(res.details["fnh"], 4) == 0.5808
    # R2's ship is outside the Huuska ranges (B/T 1, L/B 13.3): both must be reported
    assert any(w.startswith("B/T") for w in res.warnings)
    assert any(w.startswith("L/B") for w in res.warnings)


def test_dvk_barrass_variant_and_froude_match_regression_r3() -> None:
    # R3, DVK calculations.test.tsx: T 20, Cb 0.75, h 26, 15 kn -> 1.30 m; Fnh(15 kn, 20 m) 0.551
    res = squat("barrass-dvk", cb=0.75, speed_kn=15, draught_m=20.0, depth_m=26.0)
    assert round(float(res.squat_m), 2) == 1.30
    assert round(float(depth_froude_number(15, 20)), 3) == 0.551


def test_icorels_is_huuska_with_ks_one() -> None:
    kw = {"cb": 0.7, "speed_kn": 10.0, "draught_m": 10.0, "depth_m": 13.0, "beam_m": 28.0,
          "length_m": 190.0}
    icorels = squat("icorels", channel_width_m=60.0, **kw)  # channel ignored: Ks = 1
    huuska_open = squat("huuska", **kw)
    fnh = 10 * 1852 / 3600 / np.sqrt(9.80665 * 13.0)
    expected = 2.4 * 0.7 * 28 * 10 / 190 * fnh**2 / np.sqrt(1 - fnh**2)
    assert float(icorels.squat_m) == pytest.approx(expected, rel=1e-12)
    assert float(huuska_open.squat_m) == pytest.approx(expected, rel=1e-12)
    assert icorels.warnings == []


def test_huuska_supercritical_speed_gives_nan_and_warning() -> None:
    res = squat("huuska", cb=0.7, speed_kn=25.0, draught_m=5.0, depth_m=6.0, beam_m=15.0,
                length_m=100.0)
    assert np.isnan(res.squat_m)
    assert any("Fnh >= 1" in w for w in res.warnings)


def test_barrass_warns_outside_h_over_t_range() -> None:
    inside = squat("barrass-open", cb=0.8, speed_kn=10, draught_m=10.0, depth_m=12.0)
    outside = squat("barrass-open", cb=0.8, speed_kn=10, draught_m=10.0, depth_m=20.0)
    assert inside.warnings == []
    assert outside.warnings and outside.warnings[0].startswith("h/T = 2")


def test_blockage_method_without_beam_is_refused() -> None:
    with pytest.raises(ValueError, match="beam_m"):
        squat("barrass-blockage", cb=0.8, speed_kn=10, draught_m=10.0, depth_m=12.0)
    with pytest.raises(ValueError, match="unknown squat method"):
        squat("tuck", cb=0.8, speed_kn=10, draught_m=10.0, depth_m=12.0)


def test_squat_is_vectorised_over_depth() -> None:
    depths = np.array([[12.0, 13.0], [14.0, 15.0]])
    res = squat("huuska", cb=0.7, speed_kn=10.0, draught_m=10.0, depth_m=depths, beam_m=28.0,
                length_m=190.0)
    assert res.squat_m.shape == (2, 2)
    single = squat("huuska", cb=0.7, speed_kn=10.0, draught_m=10.0, depth_m=14.0, beam_m=28.0,
                   length_m=190.0)
    assert res.squat_m[1, 0] == float(single.squat_m)


def test_cli_squat_json_reproduces_e5(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ukc", "squat", "--method", "barrass-confined", "--cb", "0.85", "--speed-kn",
                 "12", "--draught-m", "12", "--depth-m", "15.5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["method"] == "barrass-confined"
    assert out["squat_m"] == pytest.approx(2.448)  # E5 channel case: 2 x 1.224
    assert isinstance(out["warnings"], list)


def test_cli_squat_huuska_r2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ukc", "squat", "--method", "huuska", "--cb", "0.75", "--speed-kn", "15",
                 "--draught-m", "15", "--depth-m", "18", "--beam-m", "15", "--length-m", "200",
                 "--channel-width-m", "30", "--channel-bank-n", "10", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and round(out["squat_m"], 2) == 3.05
    assert len(out["warnings"]) == 2
