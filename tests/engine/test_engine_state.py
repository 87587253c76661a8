"""Occupancy, protocol shapes (contracts §6), deltas, feed freshness and the state round trip."""

from __future__ import annotations

import json
from datetime import timedelta

import polars as pl
import pytest
from engine_tracks import T0, Track, batches, full_call

from feeds.schema import AIS_STATIC, GATE_EVENT, TIDE_OBS
from twin.engine import VESSEL_COLUMNS, Engine
from twin.port import Port

TOP_KEYS = {
    "v",
    "type",
    "seq",
    "ts_utc",
    "vessels",
    "berths",
    "anchorages",
    "gates",
    "events",
    "kpis",
    "alerts",
    "feeds",
    # beside contracts §6 (docs/protocol.md: v1 may add keys): the cockpit's chart series, and
    # channel occupancy by segment and direction
    "charts",
    "channel",
}


@pytest.fixture(scope="module")
def call_frame(port: Port) -> pl.DataFrame:
    return full_call(port).frame()


def engine_at(port: Port, frame: pl.DataFrame, until: timedelta) -> Engine:
    eng = Engine(port)
    cut = T0 + until
    for now, part in batches(frame.filter(pl.col("ts_utc") <= cut), 10):
        eng.apply({"ais_position": part}, min(now, cut))
    return eng


def test_berth_anchorage_and_channel_occupancy_follow_the_ship(port: Port, call_frame: pl.DataFrame) -> None:
    eng = engine_at(port, call_frame, timedelta(hours=1, minutes=30))
    assert eng.vessels[412000001].phase == "in_channel"
    occ = eng.channel_occupancy()
    assert [seg for seg in occ] == [eng.vessels[412000001].segment_id]
    assert next(iter(occ.values()))["inbound"] == [412000001]
    channel = {c["id"]: c for c in eng.snapshot(T0 + timedelta(hours=1, minutes=30))["channel"]}
    assert len(channel) == len(port.channel.segments)
    assert channel[eng.vessels[412000001].segment_id]["inbound"] == [412000001]

    eng = engine_at(port, call_frame, timedelta(hours=5))  # stopped in ANC-IN-1 at 03:37:16.45
    snap = eng.snapshot(T0 + timedelta(hours=5))
    anc = {a["id"]: a for a in snap["anchorages"]}
    assert anc["ANC-IN-1"]["mmsis"] == [412000001]
    assert anc["ANC-IN-1"]["median_wait_h"] == pytest.approx(
        (5 * 3600 - (3 * 3600 + 37 * 60 + 16.45)) / 3600, abs=1e-3
    )
    assert all(b["mmsi"] is None for b in snap["berths"])

    eng = engine_at(port, call_frame, timedelta(hours=8))  # stopped at the berth at 06:19:56.9
    snap = eng.snapshot(T0 + timedelta(hours=8))
    berths = {b["id"]: b for b in snap["berths"]}
    assert berths["XS-ORE-400K"]["mmsi"] == 412000001
    assert berths["XS-ORE-400K"]["since_utc"].startswith("2026-11-28T06:19:56.9")
    assert sum(b["mmsi"] is not None for b in snap["berths"]) == 1
    assert all(a["mmsis"] == [] for a in snap["anchorages"])

    eng = engine_at(port, call_frame, timedelta(hours=14))  # outbound in the channel
    v = eng.vessels[412000001]
    assert (v.phase, v.direction) == ("in_channel", "outbound")


def test_snapshot_has_exactly_the_protocol_shape(port: Port, call_frame: pl.DataFrame) -> None:
    eng = engine_at(port, call_frame, timedelta(hours=8))
    now = T0 + timedelta(hours=8)
    snap = eng.snapshot(now)
    assert set(snap) == TOP_KEYS
    assert (snap["v"], snap["type"], snap["ts_utc"]) == (1, "snapshot", "2026-11-28T08:00:00Z")
    assert snap["vessels"]["columns"] == VESSEL_COLUMNS
    (row,) = snap["vessels"]["rows"]
    vessel = dict(zip(VESSEL_COLUMNS, row, strict=True))
    assert vessel["mmsi"] == 412000001
    assert (vessel["phase"], vessel["zone_id"], vessel["dark"]) == ("at_berth", "Z-PA-XIASHAN", False)
    assert len(vessel["h3"]) == 15 and vessel["h3"].startswith("89")  # resolution 9, hex text
    assert vessel["last_seen_utc"].endswith("Z")
    assert set(snap["events"][0]) == {"ts_utc", "mmsi", "call_id", "event", "location_id"}
    assert [e["event"] for e in snap["events"]] == [
        "port_limit_arrival",
        "pilot_on_board",
        "anchorage_arrival",
        "anchorage_departure",
        "all_fast",
    ]
    tile_keys = {"value", "unit", "label_zh", "label_en", "updated_utc", "stale", "trend"}
    for kid, tile in snap["kpis"].items():
        # throughput tiles also say how many calls lack a cargo figure (a partial sum is not the whole)
        assert set(tile) == tile_keys | ({"unknown_calls"} if kid.startswith("throughput") else set())
    assert set(snap["feeds"]) == {"ais", "gate", "customs", "tide"}
    assert set(snap["feeds"]["ais"]) == {"last_utc", "msgs_per_min", "stale"}
    json.dumps(snap, allow_nan=False)  # the bus sends it as strict JSON


def test_deltas_carry_only_what_changed_and_seq_rises_by_one(port: Port) -> None:
    a = Track(port, 420000001, 110.60, 21.00).stay(120, interval_s=10, sog=8.0)
    b = Track(port, 420000002, 110.70, 21.00).stay(120, interval_s=10, sog=8.0)
    eng = Engine(port)
    d1 = eng.apply({"ais_position": pl.concat([a.frame(), b.frame()])}, T0 + timedelta(minutes=2))
    m1 = d1.to_message()
    assert set(m1) == TOP_KEYS and m1["type"] == "delta" and m1["seq"] == 1
    assert sorted(r[0] for r in m1["vessels"]["rows"]) == [420000001, 420000002]
    assert m1["vessels"]["removed"] == []
    assert len(m1["berths"]) == len(port.berths)  # the first delta states every berth once
    a.rows.clear()
    a.stay(60, interval_s=10, sog=8.0)
    m2 = eng.apply({"ais_position": a.frame()}, T0 + timedelta(minutes=3)).to_message()
    assert m2["seq"] == 2
    assert [r[0] for r in m2["vessels"]["rows"]] == [420000001]
    assert m2["berths"] == [] and m2["anchorages"] == [] and m2["events"] == []
    assert eng.snapshot(T0 + timedelta(minutes=3))["seq"] == 2  # the next delta a client sees is 3
    # ships outside the port limit are forgotten after 30 min unheard: a `removed` entry
    far = Track(port, 420000003, 111.2, 20.9).stay(60, interval_s=10, sog=10.0)
    eng.apply({"ais_position": far.frame()}, T0 + timedelta(minutes=4))
    m3 = eng.apply({}, T0 + timedelta(minutes=40)).to_message()
    assert m3["vessels"]["removed"] == [420000003]
    assert 420000003 not in eng.vessels


def test_static_data_fills_the_vessel_row(port: Port) -> None:
    eng = Engine(port)
    static = pl.DataFrame(
        [
            {
                "ts_utc": T0,
                "mmsi": 430000001,
                "imo": 9811000,
                "name": "ZHEN HUA 1",
                "callsign": "BQXY",
                "ship_type": 70,
                "length_m": 300.0,
                "beam_m": 48.0,
                "draught_m": 14.2,
                "destination": "ZHANJIANG",
                "eta_utc": None,
            }
        ],
        schema=AIS_STATIC,
    )
    pos = Track(port, 430000001, 110.60, 21.00).stay(20, interval_s=10, sog=9.0).frame()
    msg = eng.apply({"ais_static": static, "ais_position": pos}, T0 + timedelta(seconds=30)).to_message()
    row = dict(zip(VESSEL_COLUMNS, msg["vessels"]["rows"][0], strict=True))
    assert (row["name"], row["ship_class"], row["length_m"], row["beam_m"], row["draught_m"]) == (
        "ZHEN HUA 1",
        "cargo",
        300.0,
        48.0,
        14.2,
    )
    assert row["sog_kn"] == 9.0


def test_feed_freshness_counts_messages_and_turns_stale(port: Port) -> None:
    eng = Engine(port)
    pos = Track(port, 440000001, 110.60, 21.00).stay(300, interval_s=2, sog=15.0).frame()  # 150 rows in 5 min
    tide = pl.DataFrame([{"ts_utc": T0, "station_id": "ZJG", "level_m": 2.35}], schema=TIDE_OBS)
    now = T0 + timedelta(minutes=5)
    feeds = eng.apply({"ais_position": pos, "tide_obs": tide}, now).to_message()["feeds"]
    assert feeds["ais"] == {"last_utc": "2026-11-28T00:05:00Z", "msgs_per_min": 30.0, "stale": False}
    assert feeds["tide"]["stale"] is False and feeds["gate"]["stale"] is True  # never heard = stale
    assert feeds["gate"]["last_utc"] is None
    later = eng.apply({}, now + timedelta(minutes=3)).to_message()
    assert later["feeds"]["ais"]["stale"] is True  # 180 s > 120 s without AIS
    assert later["kpis"]["vessels_in_channel"]["stale"] is True
    snap = eng.snapshot(now + timedelta(minutes=3))
    assert snap["kpis"]["tide_level_m"]["value"] == 2.35
    assert snap["kpis"]["tide_level_m"]["stale"] is False  # 8 min < 20 min


def test_gate_queue_and_transactions_in_the_last_hour(port: Port) -> None:
    now = T0 + timedelta(hours=2)
    # 30 passages at GATE-BM-IN in the last 15 min, 60 s each: Little's law gives 30/900 s × 60 s = 2 trucks
    rows = [
        {
            "ts_utc": now - timedelta(seconds=30 * i),
            "gate_id": "GATE-BM-IN",
            "lane": 1,
            "direction": "in",
            "visit_id": f"V{i}",
            "truck_id": None,
            "container_ids": [],
            "outcome": "accepted",
            "processing_s": 60.0,
        }
        for i in range(30)
    ]
    rows += [{**rows[0], "ts_utc": now - timedelta(minutes=90), "visit_id": "OLD"}]  # outside the hour
    rows += [{**rows[0], "ts_utc": now - timedelta(minutes=40), "gate_id": "GATE-BM-OUT", "direction": "out"}]
    eng = Engine(port)
    msg = eng.apply({"gate_event": pl.DataFrame(rows, schema=GATE_EVENT)}, now).to_message()
    gates = {g["id"]: g for g in msg["gates"]}
    assert gates["GATE-BM-IN"] == {"id": "GATE-BM-IN", "queue": 2, "tx_last_hour": 30}
    assert gates["GATE-BM-OUT"] == {"id": "GATE-BM-OUT", "queue": 0, "tx_last_hour": 1}
    assert msg["kpis"]["gate_tx_per_hour"]["value"] == 31.0


def test_restore_from_snapshot_bytes_gives_the_same_state_and_the_same_future(
    port: Port, call_frame: pl.DataFrame
) -> None:
    parts = batches(call_frame, 15)
    half = len(parts) // 2
    straight = Engine(port)
    for now, part in parts[:half]:
        straight.apply({"ais_position": part}, now)
    blob = straight.to_snapshot_bytes()
    restored = Engine.from_snapshot(port, blob)
    assert restored.state_hash() == straight.state_hash()
    assert restored.to_snapshot_bytes() == blob
    for now, part in parts[half:]:
        m1 = straight.apply({"ais_position": part}, now).to_message()
        m2 = restored.apply({"ais_position": part}, now).to_message()
        assert m1 == m2
    assert restored.state_hash() == straight.state_hash()
    assert restored.events.equals(straight.events)


def test_the_state_hash_changes_with_the_state(port: Port) -> None:
    eng = Engine(port)
    empty = eng.state_hash()
    eng.apply(
        {"ais_position": Track(port, 450000001, 110.6, 21.0).stay(20, interval_s=10).frame()},
        T0 + timedelta(minutes=1),
    )
    assert eng.state_hash() != empty
    assert Engine(port).state_hash() == empty


def test_batch_size_does_not_change_the_events(port: Port, call_frame: pl.DataFrame) -> None:
    one = Engine(port)
    one.apply({"ais_position": call_frame}, T0 + timedelta(days=1))
    many = Engine(port)
    for now, part in batches(call_frame, 1):
        many.apply({"ais_position": part}, now)
    assert one.events.equals(many.events)


def test_an_observer_sees_every_apply_and_its_alerts_reach_the_same_delta(port: Port) -> None:
    seen: list[int] = []

    def rule(eng: Engine, delta: object) -> None:
        seen.append(eng.seq)
        if eng.seq == 2:
            eng.set_alert(
                {
                    "id": "A1",
                    "rule": "test",
                    "priority": "warning",
                    "state": "raised",
                    "subject": "420000001",
                    "text_zh": "测试",
                    "text_en": "test",
                }
            )

    eng = Engine(port)
    eng.add_observer(rule)
    m1 = eng.apply({}, T0).to_message()
    m2 = eng.apply({}, T0 + timedelta(minutes=1)).to_message()
    assert seen == [1, 2]
    assert m1["alerts"] == [] and [a["id"] for a in m2["alerts"]] == ["A1"]
    assert m2["kpis"]["alerts_open"]["value"] == 1.0
    assert eng.snapshot(T0 + timedelta(minutes=1))["alerts"][0]["id"] == "A1"


def test_unknown_frame_kinds_and_naive_times_are_refused(port: Port) -> None:
    eng = Engine(port)
    with pytest.raises(ValueError, match="unknown frame kinds"):
        eng.apply({"ais_positions": pl.DataFrame()}, T0)
    with pytest.raises(ValueError, match="naive"):
        eng.apply({}, T0.replace(tzinfo=None))


def test_old_calls_and_declarations_are_forgotten_so_memory_stays_bounded(port: Port) -> None:
    from feeds.schema import CUSTOMS_EVENT

    eng = Engine(port)
    tr = full_call(port)
    eng.apply({"ais_position": tr.frame()}, T0 + timedelta(days=1))
    decl = pl.DataFrame(
        [
            {
                "ts_utc": T0,
                "declaration_id": "D1",
                "call_id": None,
                "mode": "road",
                "stage": "lodged",
                "channel": None,
            }
        ],
        schema=CUSTOMS_EVENT,
    )
    eng.apply({"customs_event": decl}, T0 + timedelta(days=1))
    assert "412000001-0001" in eng.calls and "D1" in eng.declarations
    eng.apply({}, T0 + timedelta(days=4))  # the call closed ~15:38 on day 0: > 3 days ago
    assert "412000001-0001" not in eng.calls and "D1" in eng.declarations
    eng.apply({}, T0 + timedelta(days=8))
    assert "D1" not in eng.declarations
    assert len(eng.events) == 7  # the event log is kept
