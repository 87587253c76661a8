"""`twin kpi --history` on a small hand-built store (gate and customs rows only, no AIS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kpi_history import T0, at, customs, gate

from feeds.store import write_frame
from twin.cli import main


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    write_frame(root, "gate_event", gate())
    write_frame(root, "customs_event", customs())
    return root


def test_cli_groups_by_gate_and_prints_json_with_definitions(store: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # Window [T0, T0 + 24 h): G-IN passes v1, v2, v3, v4 in = 4 (÷ 24 h), G-OUT v1, v2, v3 out = 3
    # (v4 leaves at 24:20, after the window). Only the KPIs that group by gate are printed.
    code = main(["kpi", "--history", str(store), "--from", T0.isoformat(), "--to", at(24).isoformat(),
                 "--by", "gate", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    tx = doc["kpis"]["gate_tx_per_hour"]
    assert tx["values"] == [{"gate_id": "G-IN", "value": pytest.approx(4 / 24, abs=1e-6), "transactions": 4},
                            {"gate_id": "G-OUT", "value": pytest.approx(3 / 24, abs=1e-6), "transactions": 3}]
    assert tx["unit"] == "tx/h" and tx["definition"]["formula"]
    assert set(doc["kpis"]) == {"gate_tx_per_hour", "truck_turn_min", "gate_boxes"}
    assert doc["replay"]["events"] == 0  # no AIS stored: no port-call events


def test_cli_customs_release_over_the_stored_rows(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # As test_customs_release_time_by_channel_and_mode: green D1 2 h and D3 1 h, red D2 6 h.
    assert main(["kpi", "--history", str(store), "--from", T0.isoformat(), "--to", at(24).isoformat(),
                 "--by", "channel", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)["kpis"]["customs_release_h"]["values"]
    assert [(v["channel"], v["median"]) for v in values] == [("green", 1.5), ("red", 6.0)]


def test_cli_text_output_and_an_empty_store(store: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpi", "--history", str(store), "--to", at(24).isoformat(), "--window", "24h"]) == 0
    out = capsys.readouterr().out
    assert "gate_tx_per_hour [tx/h]" in out and "WCO Time Release Study" in out
    (tmp_path / "empty").mkdir()
    assert main(["kpi", "--history", str(tmp_path / "empty")]) == 2
