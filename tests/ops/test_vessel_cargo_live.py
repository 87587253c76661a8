"""The vessel page's cargo on a real short simulated run: the live twin (simulator → journal →
engine → history store) stores the calls' cargo as `port_call_cargo`, and the call chain the page
shows carries exactly the simulator's ground truth (tonnes, TEU, cargo kind) of each call."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dashboards.ops.store import OpsState
from dashboards.ops.vessel import VesselPage
from dashboards.ops.vessel_chain import call_chain, read_cargo, read_vessel_records
from feeds.store import read_history

pytest.importorskip("feeds.simulate")

START = datetime(2026, 11, 28, tzinfo=UTC)
HOURS = 0.25


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A quarter of a simulated hour of the real live path at ×300, with a history store."""
    from feeds.live import LiveConfig, real_engine_factory, simulator_source, start_twin
    from feeds.simulate import SimConfig, Simulation
    from geodata import load_port

    tmp = tmp_path_factory.mktemp("cargo")
    port = load_port()
    sim = Simulation(SimConfig(seed=7, start_utc=START, hours=HOURS, warmup_h=12.0), port)
    config = LiveConfig(journal_dir=tmp / "journal", make_engine=real_engine_factory(port),
                        history_dir=tmp / "history", ws_port=0, sim_clock=True,
                        sources=[simulator_source(sim, 60.0, 300.0)])  # fmt: skip
    handle = start_twin(config)
    end = START + timedelta(hours=HOURS)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            now_utc = handle.health()["now_utc"]
            if now_utc and datetime.fromisoformat(now_utc) >= end:
                break
            time.sleep(0.5)
        health = handle.health()
    finally:
        handle.stop()  # flushes the history store
    return {"history": tmp / "history", "sim": sim, "port": port, "end": end, "health": health}


def test_the_live_twin_stores_the_calls_cargo_as_the_simulator_planned_it(run: dict[str, Any]) -> None:
    assert run["health"]["counters"]["history_errors"] == 0
    stored = read_cargo(run["history"])
    assert stored is not None
    truth = run["sim"].calls.select("call_id", "mmsi", "tonnes", "teu", "cargo")
    assert stored.height == truth.height > 0  # one flush, one copy
    got = stored.select("call_id", "mmsi", "tonnes", "teu", "cargo").sort("call_id")
    want = truth.with_columns(pl.col("teu").cast(pl.Float64)).sort("call_id")
    assert got.equals(want)
    # stamped with the clock of the batch that reported it (the simulation's start)
    assert stored["ts_utc"].unique().to_list() == [START]
    # read back through the store's own reader, in its schema
    assert read_history(run["history"], "port_call_cargo").collect().equals(stored)


def test_the_vessel_pages_chain_shows_each_calls_tonnes_teu_and_cargo_kind(run: dict[str, Any]) -> None:
    calls = run["sim"].calls
    container = calls.filter(pl.col("teu") > 0).row(0, named=True)
    bulk = calls.filter(pl.col("teu") == 0).row(0, named=True)
    for call in (container, bulk):
        mmsi = int(call["mmsi"])
        records = read_vessel_records(run["history"], mmsi, run["end"])
        links = {link.call_id: link for link in call_chain(records, [], run["end"])}
        link = links[call["call_id"]]
        assert link.linked_by == "cargo_row" and len(link.cargo) == 1
        cargo = link.cargo[0]
        assert (cargo.tonnes, cargo.teu, cargo.cargo) == (call["tonnes"], float(call["teu"]), call["cargo"])

        page = VesselPage(run["port"], run["history"])
        page.load(mmsi, run["end"].isoformat())
        state = OpsState(version=1, ts_utc=run["end"].isoformat(), vessels={mmsi: {"mmsi": mmsi}})
        html = page.chain_html(state, mmsi, "en")
        teu = [f"{call['teu']:,} TEU"] if call["teu"] else []
        shown = " · ".join([f"{call['tonnes']:,.0f} t", *teu, call["cargo"]])
        assert f"Cargo: {shown}<" in html
        assert "not in the history store" not in html


def test_a_store_written_without_cargo_still_says_so(tmp_path: Path) -> None:
    assert read_cargo(tmp_path) is None
