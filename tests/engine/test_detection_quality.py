"""Detection quality over a simulated day: the engine's events against the simulator's ground truth.

The simulator (`feeds.simulate`, contracts §4) plans every call and knows when each port-call event
happened (`sim.truth`). Its AIS sentences go through the real NMEA adapter
(`feeds.ais.parse_nmea_lines`) into the engine batch by batch, as in the live process. A detected
event matches a truth event of the same vessel, kind and location within 5 minutes (one to one,
closest first). Figures: docs/detection.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from feeds.ais import parse_nmea_lines
from feeds.simulate import SimConfig, Simulation
from twin.engine import Engine
from twin.port import Port

TAG_TIME = re.compile(r"[\\,]c:(\d+)")
TOLERANCE_S = 300.0
WARMUP = timedelta(hours=6)  # ships already in port at the start are first heard then, not arriving
TAIL = timedelta(minutes=15)  # events this close to the end cannot be confirmed by later reports
START = datetime(2026, 11, 27, 18, tzinfo=UTC)
HOURS = 30.0


@dataclass(frozen=True)
class Quality:
    truth: int
    found: int
    detected: int
    false: int
    worst_lag_s: float
    by_event: dict[str, tuple[int, int]]

    @property
    def recall(self) -> float:
        return self.found / self.truth

    @property
    def false_rate(self) -> float:
        return self.false / self.detected


def match(truth: pl.DataFrame, detected: pl.DataFrame, w0: datetime, w1: datetime) -> Quality:
    """One-to-one matching (closest first) within TOLERANCE_S, scored over [w0, w1)."""
    t = truth.with_row_index("ti")
    d = detected.with_row_index("di")
    pairs = (
        t.join(d, on=["mmsi", "event"], suffix="_d")
        .filter(pl.col("location_id").eq_missing(pl.col("location_id_d")))
        .with_columns(lag_s=(pl.col("ts_utc_d") - pl.col("ts_utc")).dt.total_microseconds() / 1e6)
        .filter(pl.col("lag_s").abs() <= TOLERANCE_S)
        .sort(pl.col("lag_s").abs())
    )
    used_t: dict[int, float] = {}
    used_d: set[int] = set()
    for ti, di, lag in pairs.select("ti", "di", "lag_s").iter_rows():
        if ti not in used_t and di not in used_d:
            used_t[ti] = lag
            used_d.add(di)
    tw = t.filter(pl.col("ts_utc").is_between(w0, w1, closed="left"))
    dw = d.filter(pl.col("ts_utc").is_between(w0, w1, closed="left"))
    found = [ti for ti in tw["ti"] if ti in used_t]
    by_event = {}
    for ev in tw["event"].unique().sort():
        ids = tw.filter(pl.col("event") == ev)["ti"].to_list()
        by_event[ev] = (len(ids), sum(1 for i in ids if i in used_t))
    return Quality(
        truth=tw.height,
        found=len(found),
        detected=dw.height,
        false=sum(1 for di in dw["di"] if di not in used_d),
        worst_lag_s=max((abs(used_t[i]) for i in found), default=0.0),
        by_event=by_event,
    )


def _tag_time(line: str) -> float:
    """The `c:` (UNIX seconds) of a line's NMEA 4.0 tag block."""
    match = TAG_TIME.search(line)
    assert match, line
    return float(match.group(1))


def simulate(port: Port, seed: int) -> Simulation:
    """A simulated 30 h window from START (the first 6 h are the engine's warm-up)."""
    return Simulation(SimConfig(seed=seed, start_utc=START, hours=HOURS), port)


def run_simulated_day(
    port: Port,
    sim: Simulation,
    drop: float = 0.0,
    outage: timedelta | None = None,
    step_s: float = 3600.0,
    loss_seed: int = 0,
    cargo: bool = False,
) -> Engine:
    """The simulator's feeds through the NMEA adapter into a fresh engine, in `step_s` batches.

    `drop`: share of AIS lines lost at random (reception); `outage`: a whole-feed AIS silence of
    that length starting 9 h into the scored day (lines dropped by their tag-block time). The
    events do not depend on the batch size (test_engine_state); hour batches keep the adapter's
    fixed per-call cost out of the test time. With `cargo`, the simulator's `calls` (tonnes, TEU)
    go in with the first batch as the `port_call_cargo` frame.
    """
    rng = np.random.default_rng(loss_seed)
    eng = Engine(port)
    out0 = START + WARMUP + timedelta(hours=9)
    for batch in sim.iter_batches(step_s=step_s):
        lines = batch.nmea
        if drop:
            keep = rng.random(len(lines)) >= drop
            lines = [line for line, k in zip(lines, keep, strict=True) if k]
        if outage is not None:
            lo, hi = out0.timestamp(), (out0 + outage).timestamp()
            lines = [line for line in lines if not lo <= _tag_time(line) < hi]
        parsed = parse_nmea_lines(lines, "sim")
        assert drop or parsed.rejected.is_empty()  # lost lines break two-sentence type 5 messages
        frames = {
            **parsed.frames,
            "gate_event": batch.gate,
            "customs_event": batch.customs,
            "tide_obs": batch.tide,
        }
        if cargo:
            frames["port_call_cargo"] = sim.calls
            cargo = False
        eng.apply(frames, batch.t_utc)
    return eng


def score(sim: Simulation, eng: Engine) -> Quality:
    w0 = START + WARMUP
    w1 = START + timedelta(hours=HOURS) - TAIL
    return match(sim.truth, eng.events, w0, w1)


@pytest.fixture(scope="module")
def sim7(port: Port) -> Simulation:
    return simulate(port, seed=7)


@pytest.fixture(scope="module")
def lossless(port: Port, sim7: Simulation) -> Engine:
    return run_simulated_day(port, sim7, cargo=True)


@pytest.mark.slow
def test_a_simulated_day_is_detected_at_95_percent_within_5_minutes_with_at_most_2_percent_false(
    sim7: Simulation, lossless: Engine
) -> None:
    q = score(sim7, lossless)
    assert q.truth >= 80, q  # a real day of traffic, not an empty one
    assert q.recall >= 0.95, q
    assert q.false_rate <= 0.02, q


@pytest.mark.slow
def test_lossy_reception_and_a_20_minute_outage_keep_the_quality(port: Port, sim7: Simulation) -> None:
    eng = run_simulated_day(port, sim7, drop=0.10, outage=timedelta(minutes=20), loss_seed=11)
    q = score(sim7, eng)
    assert q.recall >= 0.95, q
    assert q.false_rate <= 0.02, q


@pytest.mark.slow
def test_throughput_today_is_the_cargo_of_the_calls_that_truly_left_their_berth_today(
    sim7: Simulation, lossless: Engine
) -> None:
    end = START + timedelta(hours=HOURS)  # 2026-11-29T00:00Z = 08:00 in Zhanjiang
    day0 = datetime(2026, 11, 28, 16, tzinfo=UTC)  # that local day began at 16:00Z
    left = sim7.truth.filter(
        (pl.col("event") == "departure_from_berth") & pl.col("ts_utc").is_between(day0, end, closed="left")
    )
    want = left.join(sim7.calls, on="call_id")["tonnes"].sum()
    assert left.height >= 3
    tile = lossless.snapshot(end)["kpis"]["throughput_today_t"]
    assert tile["value"] == pytest.approx(want)
    assert tile["unknown_calls"] == 0
