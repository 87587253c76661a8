"""Live KPI tiles on a hand-built port state, every expected figure worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from engine_tracks import Track

from feeds.schema import CUSTOMS_EVENT, GATE_EVENT, TIDE_OBS
from twin.engine import Engine
from twin.kpi_live import KPIS
from twin.port import Port

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 20:00 in Zhanjiang: "today" began 2026-11-27T16:00Z


def at(h: int, m: int = 0, day: int = 28) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=UTC)


def customs_rows() -> pl.DataFrame:
    def row(ts: datetime, did: str, stage: str) -> dict[str, object]:
        return {
            "ts_utc": ts,
            "declaration_id": did,
            "call_id": None,
            "mode": "sea",
            "stage": stage,
            "channel": "green",
        }

    rows = [
        row(at(1), "D1", "arrival"),
        row(at(2), "D1", "released"),  # 1 h
        row(at(3), "D2", "arrival"),
        row(at(5), "D2", "released"),  # 2 h
        row(at(4), "D3", "arrival"),
        row(at(4, 10), "D3", "lodged"),
        row(at(8), "D3", "released"),  # 4 h
        row(at(5, day=27), "D4", "arrival"),
        row(at(15, day=27), "D4", "released"),  # 23:00 local on the 27th
        row(at(6), "D5", "lodged"),
        row(at(6, 30), "D5", "released"),  # no arrival: lodged → released 0.5 h
        row(at(9), "D6", "arrival"),  # not released yet
    ]
    return pl.DataFrame(rows, schema=CUSTOMS_EVENT)


def gate_rows() -> pl.DataFrame:
    base = {
        "gate_id": "GATE-BM-IN",
        "lane": 1,
        "direction": "in",
        "truck_id": None,
        "container_ids": [],
        "outcome": "accepted",
        "processing_s": 40.0,
    }
    times = [NOW - timedelta(minutes=m) for m in (1, 10, 20, 30, 59, 61, 120)]
    return pl.DataFrame(
        [{**base, "ts_utc": t, "visit_id": f"V{i}"} for i, t in enumerate(times)], schema=GATE_EVENT
    )


def build(port: Port) -> tuple[Engine, dict[str, object]]:
    a1 = port.anchorages["ANC-IN-1"].area.centroid
    a2 = port.anchorages["ANC-IN-2"].area.centroid
    xs = port.berths["XS-ORE-400K"].pocket.centroid
    bm = port.berths["BM-CT-1"].pocket.centroid
    ts = port.berths["TS-GEN-1"].pocket.centroid
    tracks = [
        Track(port, 500000001, a1.x, a1.y, at(9)).stay(3 * 3600, sog=0.1, nav=1),  # anchored 09:03
        Track(port, 500000002, a2.x, a2.y, at(11)).stay(3600, sog=0.1, nav=1),  # anchored 11:03
        Track(port, 500000003, *port.channel.position_at(30.0), at(11, 50)).sail_channel(30.0, 33.0, 10.0),
        Track(port, 500000004, xs.x, xs.y, at(8)).stay(4 * 3600, sog=0.0, nav=5),  # at berth now
        # left BM-CT-1 at 10:00:10Z = 18:00 local today: counts, cargo known
        Track(port, 500000005, bm.x, bm.y, at(6))
        .stay(4 * 3600, sog=0.0, nav=5)
        .sail_to(*port.channel.position_at(61.0), 5.0),
        # left TS-GEN-1 at 15:00:10Z on the 27th = 23:00 local yesterday: does not count
        Track(port, 500000006, ts.x, ts.y, at(10, day=27))
        .stay(5 * 3600, sog=0.0, nav=5)
        .sail_to(*port.channel.position_at(61.0), 5.0),
    ]
    # a ship that left a berth today with no cargo figure: adds nothing (not a silent zero either)
    g = port.berths["XS-ORE-250K"].pocket.centroid
    tracks.append(
        Track(port, 500000007, g.x, g.y, at(7))
        .stay(3600, sog=0.0, nav=5)
        .sail_to(*port.channel.position_at(61.0), 5.0)
    )
    eng = Engine(port)
    positions = pl.concat([t.frame() for t in tracks]).filter(pl.col("ts_utc") <= NOW)
    cargo = pl.DataFrame(
        {"call_id": ["500000005-0001", "500000006-0001"], "tonnes": [52_000.0, 80_000.0], "teu": [3_500, 0]}
    )
    tide = pl.DataFrame(
        [{"ts_utc": NOW - timedelta(minutes=5), "station_id": "ZJG", "level_m": 3.1}], schema=TIDE_OBS
    )
    # the previous day's positions first: the cargo frame names calls the engine knows by then
    eng.apply({"ais_position": positions.filter(pl.col("ts_utc") < at(16, day=27))}, at(16, day=27))
    eng.apply(
        {
            "ais_position": positions.filter(pl.col("ts_utc") >= at(16, day=27)),
            "port_call_cargo": cargo,
            "customs_event": customs_rows(),
            "gate_event": gate_rows(),
            "tide_obs": tide,
        },
        NOW,
    )
    return eng, eng.snapshot(NOW)["kpis"]


def test_kpi_tiles_on_a_hand_built_port(port: Port) -> None:
    eng, kpis = build(port)
    value = {k: v["value"] for k, v in kpis.items()}  # type: ignore[index, union-attr]
    # throughput: only 500000005's call left its berth today with a cargo figure: 52,000 t, 3,500 TEU
    assert value["throughput_today_t"] == 52_000.0
    assert value["throughput_today_teu"] == 3_500.0
    assert kpis["throughput_today_t"]["unknown_calls"] == 1  # 500000007 left XS-ORE-250K, cargo unknown
    # at anchor: 500000001 since 09:03 (2.95 h) and 500000002 since 11:03 (0.95 h): median 1.95 h
    assert value["vessels_at_anchor"] == 2.0
    assert value["anchor_wait_median_h"] == pytest.approx(1.95)
    # in the channel: 500000003 under way, and 500000005 and 500000007, last heard in the channel after
    # leaving their berths (dark now, but a silent ship stays where it was last seen until heard elsewhere);
    # 500000006 was last heard 21 h ago, past the 12 h the engine keeps a silent ship
    assert value["vessels_in_channel"] == 3.0
    assert sorted(eng.vessels) == [500000001, 500000002, 500000003, 500000004, 500000005, 500000007]
    # berths: 500000004 at XS-ORE-400K, nobody else (the others left): 1 of the operational berths
    operational = sum(1 for b in port.berths.values() if b.status == "operational")
    assert value["berth_occupancy_pct"] == pytest.approx(100.0 / operational)
    # customs today: D1 1 h, D2 2 h, D3 4 h (from arrival, not lodged), D5 0.5 h (lodged, no arrival);
    # D4 was released yesterday local time; D6 not yet. Median of 0.5, 1, 2, 4 = 1.5 h
    assert value["customs_release_median_h"] == pytest.approx(1.5)
    # gate: passages 1, 10, 20, 30 and 59 min ago; 61 and 120 min ago are outside the hour
    assert value["gate_tx_per_hour"] == 5.0
    assert value["alerts_open"] == 0.0
    assert value["tide_level_m"] == 3.1
    assert set(kpis) == {k.id for k in KPIS}


def test_a_tile_is_stale_when_its_feed_is_and_names_its_time(port: Port) -> None:
    _, kpis = build(port)
    tile = kpis["customs_release_median_h"]
    assert tile["stale"] is True  # the newest customs message is 3 h old (> 1 h)
    assert tile["updated_utc"] == "2026-11-28T09:00:00Z"
    assert kpis["gate_tx_per_hour"]["stale"] is False
    assert kpis["alerts_open"]["stale"] is False
    assert (kpis["throughput_today_t"]["label_zh"], kpis["throughput_today_t"]["unit"]) == ("今日吞吐量", "t")


def test_trend_takes_one_sample_every_5_minutes_of_engine_time_and_keeps_12(port: Port) -> None:
    eng, _ = build(port)
    assert eng.trend["gate_tx_per_hour"] == [0.0, 5.0]  # one sample per apply so far (16:00 on the 27th, now)
    eng.apply({}, NOW + timedelta(minutes=2))  # before the next 5-minute mark: no sample
    assert len(eng.trend["gate_tx_per_hour"]) == 2
    for k in range(1, 20):
        eng.apply({}, NOW + timedelta(minutes=5 * k))
    trend = eng.trend["gate_tx_per_hour"]
    assert len(trend) == 12
    assert trend[-1] == 0.0  # 95 min later the last hour holds no passage
    assert eng.snapshot(NOW + timedelta(minutes=95))["kpis"]["gate_tx_per_hour"]["trend"] == trend


def test_throughput_is_unknown_not_zero_without_any_cargo_figure(port: Port) -> None:
    eng = Engine(port)
    bm = port.berths["BM-CT-1"].pocket.centroid
    tr = (
        Track(port, 500000009, bm.x, bm.y, at(6))
        .stay(3600, sog=0.0, nav=5)
        .sail_to(*port.channel.position_at(61.0), 5.0)
    )
    eng.apply({"ais_position": tr.frame()}, at(8))
    kpis = eng.snapshot(at(8))["kpis"]
    assert "departure_from_berth" in eng.events["event"].to_list()
    assert kpis["throughput_today_t"]["value"] is None
    assert kpis["throughput_today_t"]["unknown_calls"] == 1
    assert kpis["anchor_wait_median_h"]["value"] is None


def test_chart_series_for_the_cockpit(port: Port) -> None:
    eng, _ = build(port)
    charts = eng.snapshot(NOW)["charts"]
    tp = charts["throughput_by_hour"]
    # local hours 00..20 of today; 500000005 left BM-CT-1 (a container berth) at 18:00 local with 52,000 t
    assert tp["hours"] == [f"{h:02d}" for h in range(21)]
    assert tp["series"] == {"container": [0.0] * 18 + [52_000.0, 0.0, 0.0]}
    cs = charts["customs_stage_hours"]
    released = cs["stages"].index("released")
    lodged = cs["stages"].index("lodged")
    assert list(cs["by_channel"]) == ["green"]
    assert cs["by_channel"]["green"][released] == 1.5  # median of 1, 2, 4 and 0.5 h
    # lodged: D3 10 min after arrival, D5 lodged as its first stage (0 h): median 5 min
    assert cs["by_channel"]["green"][lodged] == pytest.approx(5 / 60, abs=1e-3)
    assert charts["waiting_hours"] == [0.95, 2.95]


def test_declarations_as_a_frame(port: Port) -> None:
    eng, _ = build(port)
    decl = eng.declarations_frame().sort("declaration_id")
    assert decl["declaration_id"].to_list() == ["D1", "D2", "D3", "D4", "D5", "D6"]
    d3 = decl.row(2, named=True)
    assert (d3["stage"], d3["arrival_utc"], d3["lodged_utc"], d3["released_utc"]) == (
        "released",
        at(4),
        at(4, 10),
        at(8),
    )
    assert decl.row(5, named=True)["stage"] == "arrival"


def test_open_alarms_tile_counts_alarms_and_warnings_not_cautions(port: Port) -> None:
    eng = Engine(port)
    for aid, priority, state in [("a", "alarm", "raised"), ("w", "warning", "acknowledged"),
                                 ("c", "caution", "raised"), ("x", "alarm", "cleared")]:
        eng.set_alert({"id": aid, "rule": "test", "priority": priority, "state": state, "subject": aid,
                       "text_zh": "测试", "text_en": "test"})
    # open alarm + acknowledged (still open) warning = 2; the caution is on the ticker only, "x" is cleared
    assert eng.apply({}, NOW).to_message()["kpis"]["alerts_open"]["value"] == 2.0
