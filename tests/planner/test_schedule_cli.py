"""`twin plan schedule`: FCFS vs optimised on a simulated day, JSON out, exit 2 on bad input."""

from __future__ import annotations

import json

import pytest

from twin.cli import main


def test_plan_schedule_compares_fcfs_and_optimised(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "schedule", "--hours", "8", "--rate-scale", "1.0", "--pilots", "6", "--budget", "60",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["day"]["requests"] == len(out["sequence"]) > 0
    assert out["optimised"]["wait_total_h"] <= out["fcfs"]["wait_total_h"] + 1e-9
    assert out["rules"]["one_way_min_dwt"] == 270_000
    row = out["sequence"][0]
    assert {"entry_utc", "exit_utc", "pilot", "wait_h", "reasons_h", "direction"} <= set(row)


def test_plan_schedule_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "schedule", "--hours", "4", "--rate-scale", "1.0", "--budget", "20"]) == 0
    text = capsys.readouterr().out
    assert "wait_total_h" in text and "optimised sequence" in text


def test_plan_schedule_refuses_a_bad_rate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "schedule", "--rate-scale", "0"]) == 2
    assert "--rate-scale" in capsys.readouterr().err


def test_plan_schedule_names_a_bad_start_time(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "schedule", "--from", "yesterday"])
    assert exit_.value.code == 2
    assert "--from: not an ISO 8601 time: 'yesterday'" in capsys.readouterr().err
