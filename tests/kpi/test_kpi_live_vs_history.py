"""The KPIs computed live equal the KPIs `twin kpi --history` computes after a replay of the same inputs.

A short simulated run (1.5 h) is fed to a live engine batch by batch (60 s, AIS parsed per batch as the
live process does) while its inputs are kept; those inputs are written to a history store with
feeds.store; then the CLI replays the store through a fresh engine and prints JSON. Both must agree
on every figure, item count and definition.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from feeds.ais import parse_nmea_lines
from feeds.simulate import SimConfig, Simulation
from feeds.store import write_frame
from geodata import load_port
from twin.cli import main
from twin.engine import Engine
from twin.kpi import (
    KpiInputs,
    Window,
    compact_feed_counts,
    compute_all,
    feed_counts_of,
    inputs_from_engine,
    report,
)

START = datetime(2026, 11, 28, tzinfo=UTC)
HOURS = 1.5
END = START + timedelta(hours=HOURS)


def live_run(store: Path) -> tuple[KpiInputs, Engine]:
    """Feed the live engine; keep the inputs; write them to the history store at `store`."""
    port = load_port()
    sim = Simulation(SimConfig(seed=5, start_utc=START, hours=HOURS), port)
    cargo = sim.calls.select("call_id", "mmsi", "tonnes", "teu", "cargo")
    eng = Engine(port)
    eng.apply({"port_call_cargo": cargo}, START)
    kept: dict[str, list[pl.DataFrame]] = defaultdict(list)
    counts = []
    for batch in sim.iter_batches(step_s=60.0):
        parsed = parse_nmea_lines(batch.nmea, "ZJSIM", batch.t_utc)
        frames = {**parsed.frames, "gate_event": batch.gate, "customs_event": batch.customs,
                  "tide_obs": batch.tide}
        eng.apply(frames, batch.t_utc)
        counts.append(feed_counts_of(frames, batch.t_utc, {"ais": parsed.rejected.height}))
        for kind, frame in frames.items():
            kept[kind].append(frame)
    rows = {kind: pl.concat(parts) for kind, parts in kept.items()}
    for kind, frame in rows.items():
        write_frame(store, kind, frame)
    cargo.write_parquet(store.parent / "cargo.parquet")
    inputs = inputs_from_engine(eng, gate=rows["gate_event"], static=rows["ais_static"],
                                feed_counts=compact_feed_counts(pl.concat(counts)),
                                customs=rows["customs_event"])
    return inputs, eng


@pytest.mark.slow
def test_kpis_live_equal_kpis_over_the_replayed_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    store = tmp_path / "store"
    live, eng = live_run(store)
    window = Window.custom(START, END)
    expected = report(compute_all(live, window))
    assert eng.events.height > 10  # a run where things happen
    assert expected["time_at_berth_h"]["items"] > 0
    assert expected["gate_tx_per_hour"]["values"][0]["transactions"] > 0

    code = main(["kpi", "--history", str(store), "--cargo", str(tmp_path / "cargo.parquet"),
                 "--from", START.isoformat(), "--to", END.isoformat(), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replay"]["events"] == eng.events.height
    assert doc["kpis"].keys() == expected.keys()
    for kpi_id, result in expected.items():
        assert doc["kpis"][kpi_id] == result, kpi_id
