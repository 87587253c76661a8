"""`twin plan` on the bundled scenarios: JSON out, exit code 2 with the file, line and key on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twin.cli import main


def test_plan_windows_prints_hours_per_day(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "windows", "dredge_outer_1m", "--days", "1", "--step-km", "5", "--step-s", "900",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["vessel"]["draught_m"] == 23.0 and out["route"]["to_km"] == pytest.approx(61.19, abs=0.05)
    assert len(out["days"]) == 1 and out["days"][0]["gain_h"] >= 0.0


def test_plan_compare_prints_a_paired_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "compare", "close_xs_ore_400k", "--days", "1", "--seeds", "2", "--no-progress",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["seeds"] == [1, 2] and len(out["runs"]) == 2
    assert set(out["summary"]["wait_total_h"]) >= {"baseline", "scenario", "difference", "ci95"}


def test_plan_names_the_line_and_key_of_a_bad_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n\n[ukc]\nouter = 15\n", encoding="utf-8")
    assert main(["plan", "compare", str(bad), "--days", "1", "--seeds", "1"]) == 2
    assert f"{bad}, line 4: ukc.outer:" in capsys.readouterr().err
