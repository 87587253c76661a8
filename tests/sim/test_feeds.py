"""Batches, files and the real adapters: the simulator's output goes the same way as real feeds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from feeds.ais import parse_nmea_lines
from feeds.customs import read_customs
from feeds.gate import read_gate
from feeds.schema import CUSTOMS_EVENT, GATE_EVENT, TIDE_OBS
from feeds.simulate import Simulation
from feeds.tide_gauge import read_tide


def test_batches_are_time_ordered_and_add_up_to_the_whole_day(sim: Simulation) -> None:
    lines: list[str] = []
    gate = customs = tide = 0
    last = None
    for b in sim.iter_batches(step_s=60.0):
        assert last is None or b.t_utc > last
        last = b.t_utc
        end_s = int(b.t_utc.timestamp())
        assert all(end_s - 60 <= int(x[11:21]) < end_s for x in b.nmea)
        for frame in (b.gate, b.customs, b.tide):
            if frame.height:
                assert frame["ts_utc"].max() < b.t_utc
        lines += b.nmea
        gate += b.gate.height
        customs += b.customs.height
        tide += b.tide.height
    assert lines == sim.nmea
    assert (gate, customs, tide) == (sim.gate.height, sim.customs.height, sim.tide.height)
    assert last == datetime(2026, 11, 29, tzinfo=UTC)


def test_batches_are_cheap_enough_for_a_live_pace(sim: Simulation) -> None:
    sim.nmea  # noqa: B018  (encode once, as the demo does before it starts the clock)
    batches = sim.iter_batches(step_s=1.0, from_utc=datetime(2026, 11, 28, 8, tzinfo=UTC))
    t = time.perf_counter()
    n = sum(1 for _ in zip(range(600), batches, strict=False))
    per_batch = (time.perf_counter() - t) / n
    assert per_batch < 0.01, f"{per_batch * 1e3:.1f} ms per 1 s batch"


def test_frames_have_the_canonical_schemas(sim: Simulation) -> None:
    assert sim.gate.schema == pl.Schema(GATE_EVENT)
    assert sim.customs.schema == pl.Schema(CUSTOMS_EVENT)
    assert sim.tide.schema == pl.Schema(TIDE_OBS)
    assert sim.tide.height == 240 and set(sim.tide["station_id"]) == {"zhanjiang"}
    assert sim.gate["gate_id"].is_in(["GATE-BM-IN", "GATE-BM-OUT", "GATE-FTZ-MAIN", "GATE-FTZ-INNER"]).all()


def test_customs_declarations_pass_the_wco_stages_in_order(sim: Simulation) -> None:
    from feeds.schema import CUSTOMS_STAGES

    decl = sim.customs.with_columns(rank=pl.col("stage").cast(pl.String).replace_strict(
        {s: i for i, s in enumerate(CUSTOMS_STAGES)}, return_dtype=pl.Int32))
    ordered = decl.group_by("declaration_id").agg(ok=(pl.col("rank").diff().fill_null(1) > 0).all())
    assert ordered["ok"].all()
    inspected = decl.filter(pl.col("stage") == "inspection_start")
    assert (inspected["channel"] == "red").all()
    share = decl.filter(pl.col("stage") == "risk_assessed")["channel"].value_counts(normalize=True)
    green = share.filter(pl.col("channel") == "green")["proportion"][0]
    assert 0.65 < green < 0.92


def test_gate_traffic_peaks_by_day_and_follows_container_calls(sim: Simulation) -> None:
    assert sim.gate.height > 200
    local = sim.gate.with_columns(h=pl.col("ts_utc").dt.convert_time_zone("Asia/Shanghai").dt.hour())
    day = local.filter(pl.col("h").is_between(9, 17)).height / 9
    night = local.filter(pl.col("h").is_between(0, 5)).height / 6
    assert day > 2 * night
    visits = sim.gate.filter(pl.col("direction") == "in").group_by("visit_id").len()
    assert (visits["len"] == 1).all()


def test_nmea_round_trips_through_the_ais_adapter(sim: Simulation) -> None:
    result = parse_nmea_lines(sim.nmea, "zjsim")
    assert result.rejected.height == 0, result.reasons()
    got = result.frames["ais_position"].sort("ts_utc", "mmsi")
    truth = sim.positions.sort("ts_utc", "mmsi")
    assert got.height == truth.height
    assert (got["mmsi"] == truth["mmsi"]).all() and (got["ts_utc"] == truth["ts_utc"]).all()
    assert (got["lat"] - truth["lat"]).abs().max() < 1e-4
    assert (got["lon"] - truth["lon"]).abs().max() < 1e-4
    static = result.frames["ais_static"]
    # every vessel in sight for 6 minutes or more has sent its static data
    seen = truth.group_by("mmsi").agg(span=pl.col("ts_utc").max() - pl.col("ts_utc").min())
    long_seen = set(seen.filter(pl.col("span") >= pl.duration(minutes=6))["mmsi"])
    assert long_seen <= set(static["mmsi"]) <= set(sim.vessels["mmsi"])


def test_written_files_are_read_back_by_the_feed_adapters(sim: Simulation, tmp_path: Path) -> None:
    paths = sim.write(tmp_path)
    for name in ("ais.nmea", "gate.csv", "customs.csv", "tide.csv", "truth.parquet", "vessels.parquet",
                 "calls.parquet"):
        assert paths[name].exists(), name
    gate = read_gate(paths["gate.csv"])
    assert gate.rejected.height == 0 and gate.frames["gate_event"].height == sim.gate.height
    customs = read_customs(paths["customs.csv"])
    assert customs.rejected.height == 0 and customs.frames["customs_event"].height == sim.customs.height
    tide = read_tide(paths["tide.csv"])
    assert tide.rejected.height == 0 and tide.frames["tide_obs"].height == sim.tide.height
    assert pl.read_parquet(paths["truth.parquet"]).equals(sim.truth)
