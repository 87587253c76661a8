"""Every rule fires on a simulated morning of Zhanjiang traffic changed to trigger it.

The simulator (`feeds.simulate`, seed 7, 2026-11-28 00:00–08:00 UTC) feeds the real NMEA adapter
(`feeds.ais.parse_nmea_lines`) and a real Engine with the bundled rules attached, batch by batch
(5 min). Each rule gets its situation by editing the frames, chosen from the simulator's ground
truth (`sim.truth`) so the edit meets a ship where it really is:

- ukc_channel: the first ship to take a pilot after 01:00 reports a draught of 24 m (channel ≈ 23.6 m);
- channel_speed: the next one reports 1.6 × its speed over ground;
- dg_anchorage_non_tanker: the first non-tanker to anchor after 01:00 reports its anchor spot in ANC-DG;
- dark_in_port: the first ship all fast after 01:00 falls silent 30–90 min later;
- one_way_conflict: cargo ships report 340 m length (≈ 333,000 t estimated: one-way rule applies);
- gate_queue: GATE-BM-IN transactions take 40 × longer between 03:00 and 04:00;
- truck_turn_time: GATE-BM-IN entries between 05:00 and 06:00 are stamped an hour earlier;
- customs_clearance: a green declaration that arrived in the window is never released;
- feed_stale: the tide gauge is silent between 06:00 and 07:00;
- anchor_wait: a day cannot hold a 48 h wait, so this scenario's rules set every class to 2 h.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import polars as pl
import pytest

from feeds.ais import parse_nmea_lines
from feeds.simulate import SimConfig, Simulation
from twin.alert_rules import load_rules, parse_rules
from twin.alerts import AlertEngine
from twin.engine import Engine
from twin.port import Port

START = datetime(2026, 11, 28, tzinfo=UTC)
HOURS = 8.0


def _at(h: float) -> datetime:
    return START + timedelta(hours=h)


def _first(
    truth: pl.DataFrame,
    event: str,
    after_h: float,
    exclude: set[int] = frozenset(),
    classes: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    rows = truth.filter(
        pl.col("event") == event, pl.col("ts_utc") >= _at(after_h), ~pl.col("mmsi").is_in(list(exclude))
    )
    if classes is not None:
        rows = rows.filter(pl.col("ship_class").is_in(list(classes)))
    return rows.sort("ts_utc").row(0, named=True)


@pytest.fixture(scope="module")
def day(port: Port, depth, tide) -> dict[str, Any]:
    sim = Simulation(SimConfig(seed=7, start_utc=START, hours=HOURS), port)
    truth = sim.truth.join(sim.vessels.select("mmsi", "ship_class"), on="mmsi")
    ukc = _first(truth, "pilot_on_board", 1.0)
    fast = _first(truth, "pilot_on_board", 1.0, {ukc["mmsi"]})
    anchor = _first(
        truth,
        "anchorage_arrival",
        1.0,
        {ukc["mmsi"], fast["mmsi"]},
        ("general", "container", "bulk", "grain"),
    )
    leave = truth.filter(pl.col("mmsi") == anchor["mmsi"], pl.col("event") == "anchorage_departure")
    anchor_end = leave["ts_utc"][0] if leave.height else _at(HOURS + 1)
    dg = port.anchorages["ANC-DG"].area.representative_point()
    dark = _first(truth, "all_fast", 1.0, {ukc["mmsi"], fast["mmsi"], anchor["mmsi"]})
    cargo = sim.vessels.filter(pl.col("ship_class").is_in(["general", "container", "bulk", "grain"]))["mmsi"]

    batches = [
        (b.t_utc, parse_nmea_lines(b.nmea, "sim").frames, b.gate, b.customs, b.tide)
        for b in sim.iter_batches(step_s=300.0)
    ]
    customs = pl.concat([c for *_x, c, _t in batches])
    green = customs.filter(pl.col("stage") == "risk_assessed", pl.col("channel") == "green")["declaration_id"]
    arrived = customs.filter(
        pl.col("stage") == "arrival",
        pl.col("ts_utc") < _at(1.5),
        pl.col("declaration_id").is_in(green.implode()),
    )
    held = arrived.sort("ts_utc")["declaration_id"][0]

    rules_text = resources.files("twin.rules").joinpath("zhanjiang_alerts.toml").read_text(encoding="utf-8")
    rules_text = rules_text.replace(
        "hours_by_class = { cargo = 48.0, tanker = 36.0, passenger = 6.0, default = 48.0 }",
        "hours_by_class = { default = 2.0 }",
    )
    rules = parse_rules(rules_text, "scenario")
    assert rules.by_id("anchor_wait").params["hours_by_class"] == {"default": 2.0}
    eng = Engine(port)
    alerts = AlertEngine(port, rules, depth_below_cd=depth, tide=tide).attach(eng)
    m = pl.col("mmsi")
    t = pl.col("ts_utc")
    for now, frames, gate, cust, tide_obs in batches:
        st = frames.get("ais_static")
        if st is not None and st.height:
            st = st.with_columns(
                draught_m=pl.when(m == ukc["mmsi"]).then(pl.lit(24.0, pl.Float32)).otherwise("draught_m"),
                length_m=pl.when(m.is_in(cargo.implode()))
                .then(pl.lit(340.0, pl.Float32))
                .otherwise("length_m"),
            )
            frames["ais_static"] = st
        ps = frames.get("ais_position")
        if ps is not None and ps.height:
            in_dg = (m == anchor["mmsi"]) & (t >= anchor["ts_utc"]) & (t < anchor_end)
            ps = ps.with_columns(
                sog_kn=pl.when(m == fast["mmsi"]).then(pl.col("sog_kn") * 1.6).otherwise("sog_kn"),
                lon=pl.when(in_dg).then(pl.lit(dg.x)).otherwise("lon"),
                lat=pl.when(in_dg).then(pl.lit(dg.y)).otherwise("lat"),
            ).filter(
                ~(
                    (m == dark["mmsi"])
                    & t.is_between(
                        dark["ts_utc"] + timedelta(minutes=30), dark["ts_utc"] + timedelta(minutes=90)
                    )
                )
            )
            frames["ais_position"] = ps
        bm_in = pl.col("gate_id") == "GATE-BM-IN"
        gate = gate.with_columns(
            processing_s=pl.when(bm_in & t.is_between(_at(3), _at(4), closed="left"))
            .then(pl.col("processing_s") * 40)
            .otherwise("processing_s"),
            ts_utc=pl.when(bm_in & t.is_between(_at(5), _at(6), closed="left"))
            .then(t - timedelta(hours=1))
            .otherwise(t),
        )
        cust = cust.filter(
            ~((pl.col("declaration_id") == held) & pl.col("stage").is_in(["released", "exit"]))
        )
        tide_obs = tide_obs.filter(~t.is_between(_at(6), _at(7), closed="left"))
        eng.apply({**frames, "gate_event": gate, "customs_event": cust, "tide_obs": tide_obs}, now)
    return {
        "alerts": alerts,
        "engine": eng,
        "ukc": ukc["mmsi"],
        "fast": fast["mmsi"],
        "anchor": anchor["mmsi"],
        "dark": dark["mmsi"],
        "held": held,
    }


def test_every_rule_fires_at_least_once(day: dict[str, Any]) -> None:
    raised = day["alerts"].history_frame().filter(pl.col("event") == "raise")
    fired = set(raised["rule"].unique().to_list())
    assert fired == {r.id for r in load_rules().rules}, sorted(fired)


def test_each_planted_situation_is_found_on_its_subject(day: dict[str, Any]) -> None:
    raised = day["alerts"].history_frame().filter(pl.col("event") == "raise")
    ids = set(raised["alert_id"].to_list())
    for aid in (
        f"ukc_channel:{day['ukc']}",
        f"channel_speed:{day['fast']}",
        f"dg_anchorage_non_tanker:{day['anchor']}",
        f"dark_in_port:{day['dark']}",
        f"customs_clearance:{day['held']}",
        "gate_queue:GATE-BM-IN",
        "truck_turn_time:BM-CT",
        "feed_stale:tide",
    ):
        assert aid in ids, aid


def test_alerts_are_one_per_situation_not_a_flood(day: dict[str, Any]) -> None:
    h = day["alerts"].history_frame()
    per_alert = h.group_by("alert_id").agg((pl.col("event") == "raise").sum().alias("raises"))
    # 96 steps of 5 min: a situation is raised a handful of times at most, never once per step
    assert per_alert["raises"].max() <= 4, per_alert.sort("raises").tail(5)
    # the engine holds exactly the alerts the alert engine knows
    assert set(day["engine"].alerts) == {a["id"] for a in day["alerts"].alerts(include_cleared=True)}
