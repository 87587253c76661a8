"""`twin alerts --history DIR --json`: a stored history replayed through a fresh engine and the rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds.store import write_frame
from tests.alerts.conftest import T0, frame, minutes, pos, static
from twin.cli import main
from twin.port import Port


def test_the_alerts_of_a_stored_history_as_json(
    tmp_path: Path, port: Port, capsys: pytest.CaptureFixture[str]
) -> None:
    # a ship at 14 kn in the outer channel for 5 min (limit 12.5 kn), then 10 kn: one speed alert,
    # evaluated at the end of each 1-min window on the latest report: first seen over at 00:00:50
    # (window ending 00:01), still over 60 s later → raised at 00:02; 10 kn from 00:05 → cleared at 00:06
    rows, km = [], 10.0
    for k in range(60):
        sog = 14.0 if k < 30 else 10.0
        km += sog * 10 / 3600 * 1.852
        rows.append(pos(T0 + k * minutes(1 / 6), 412000200, *port.channel.position_at(km), sog, 70.0))
    write_frame(tmp_path, "ais_position", frame("ais_position", rows))
    write_frame(tmp_path, "ais_static", frame("ais_static", [static(T0, 412000200, 70, 200.0, 32.0, 10.0)]))
    assert main(["alerts", "--history", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    speed = [t for t in out["history"] if t["rule"] == "channel_speed"]
    assert [(t["event"], t["ts_utc"]) for t in speed if t["event"] != "update"] == [
        ("raise", "2026-11-28T00:02:00Z"),
        ("clear", "2026-11-28T00:06:00Z"),
    ]
    assert speed[0]["mmsi"] == 412000200 and speed[0]["value"] == 14.0
    assert out["windows"] == 10  # 00:00–00:10, one window a minute
    assert {a["id"]: a["state"] for a in out["alerts"]}["channel_speed:412000200"] == "cleared"


def test_a_bad_rules_file_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text('[rules.x]\nkind = "dark"\npriority = "loud"\n')
    assert main(["alerts", "--history", str(tmp_path), "--rules", str(rules), "--json"]) == 2
    assert f"{rules}, line 3: key 'rules.x.priority'" in capsys.readouterr().err
