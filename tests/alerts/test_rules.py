"""One hand-built situation per rule on the real port model and a real Engine, expected alerts worked
out in the comments. Positions come from the port model (`port.channel.position_at(km)`, area
representative points), times from T0 (2026-11-28 00:00 UTC)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alerts.conftest import T0, minutes, pos, static
from twin.port import Port

S = timedelta(seconds=1)


def test_ukc_below_the_port_rule_in_the_channel_raises_an_alarm_then_an_emergency_alarm(
    rig, port: Port
) -> None:
    r = rig()
    lon, lat = port.channel.position_at(10.0)  # CH-OUT-1 (outer: 15 % of draught), grid depth 23.60 m
    # tanker (type 80, Cb 0.83 by class) at 10 kn: squat barrass-confined = 0.83 * 10² / 50 = 1.66 m;
    # tide at T0 2.71 m → water depth 26.31 m.
    # draught 20 m: net = 26.31 − 20 − 1.66 = 4.65 m ≥ required max(0.5, 3.0) → nothing
    r.step(
        T0,
        ais_static=[static(T0, 412000001, 80, 330.0, 60.0, 20.0)],
        ais_position=[pos(T0, 412000001, lon, lat, sog=10.0, cog=280.0)],
    )
    assert r.open("ukc_channel") == []
    # draught 22 m: net = 26.31 − 22 − 1.66 = 2.65 m < required 3.3 m → alarm, value 2.7 (0.1 m steps)
    t1 = T0 + 10 * S
    r.step(
        t1,
        ais_static=[static(t1, 412000001, 80, 330.0, 60.0, 22.0)],
        ais_position=[pos(t1, 412000001, lon, lat, sog=10.0, cog=280.0)],
    )
    [a] = r.open("ukc_channel")
    assert (a["id"], a["priority"], a["state"], a["mmsi"]) == (
        "ukc_channel:412000001",
        "alarm",
        "raised",
        412000001,
    )
    assert a["value"] == pytest.approx(2.7, abs=0.05) and a["required_ukc_m"] == pytest.approx(3.3)
    assert a["lon"] == pytest.approx(lon, abs=1e-4) and a["zone_id"] == "Z-CH-OUTER"
    # draught 25 m: net = 26.31 − 25 − 1.66 = −0.35 m < 0 → the keel would touch: emergency alarm (update)
    t2 = T0 + 20 * S
    r.step(
        t2,
        ais_static=[static(t2, 412000001, 80, 330.0, 60.0, 25.0)],
        ais_position=[pos(t2, 412000001, lon, lat, sog=10.0, cog=280.0)],
    )
    [a] = r.open("ukc_channel")
    assert a["priority"] == "emergency_alarm" and a["value"] == pytest.approx(-0.3, abs=0.05)
    # back to 20 m: net 4.65 ≥ 3.0 + 0.2 clear margin → cleared
    t3 = T0 + 30 * S
    r.step(
        t3,
        ais_static=[static(t3, 412000001, 80, 330.0, 60.0, 20.0)],
        ais_position=[pos(t3, 412000001, lon, lat, sog=10.0, cog=280.0)],
    )
    assert r.open("ukc_channel") == []
    assert r.events("ukc_channel:412000001") == ["raise", "update", "clear"]


def test_ukc_estimates_cb_by_class_and_skips_ships_without_a_draught(rig, port: Port) -> None:
    r = rig()
    lon, lat = port.channel.position_at(10.0)
    # cargo (type 70, Cb 0.82), no beam (estimated 330 / 6.2), draught 22 m at 10 kn:
    # squat 0.82·100/50 = 1.64 m, net = 26.31 − 22 − 1.64 = 2.67 m < 3.3 → alarm;
    # the second ship has no draught: no claim either way
    r.step(
        T0,
        ais_static=[
            static(T0, 412000002, 70, 330.0, None, 22.0),
            static(T0, 412000003, 70, 330.0, None, None),
        ],
        ais_position=[
            pos(T0, 412000002, lon, lat, sog=10.0, cog=280.0),
            pos(T0, 412000003, lon, lat + 0.002, sog=10.0, cog=280.0),
        ],
    )
    assert [a["subject"] for a in r.open("ukc_channel")] == ["412000002"]
    assert r.open("ukc_channel")[0]["value"] == pytest.approx(2.7, abs=0.05)


def test_a_non_tanker_in_the_dangerous_goods_anchorage_is_flagged_after_the_dwell(rig, port: Port) -> None:
    r = rig()
    p = port.anchorages["ANC-DG"].area.representative_point()
    ships = [static(T0, 412000010, 70, 180.0, 30.0, 9.0), static(T0, 412000011, 80, 180.0, 30.0, 9.0)]
    for k in range(5):  # reports every 60 s from T0 to T0+4 min; min_dwell_s = 120
        t = T0 + minutes(k)
        msg = r.step(
            t,
            ais_static=ships if k == 0 else [],
            ais_position=[pos(t, 412000010, p.x, p.y, 0.2), pos(t, 412000011, p.x + 0.002, p.y, 0.2)],
        )
        ids = [a["id"] for a in r.open("dg_anchorage_non_tanker")]
        # first inside at T0: raised at T0+2 min (≥ 120 s), never for the tanker (type 80)
        assert ids == ([] if k < 2 else ["dg_anchorage_non_tanker:412000010"])
        if k == 2:
            assert [a["id"] for a in msg["alerts"]] == ids  # carried by the delta of that step
    a = r.open("dg_anchorage_non_tanker")[0]
    assert a["area_id"] == "ANC-DG" and a["priority"] == "warning" and a["zone_id"] == "Z-ANC-DG"
    # leaves to just east of the anchorage (a sailable leg in 6 min): cleared once outside for 120 s
    out = (port.anchorages["ANC-DG"].area.bounds[2] + 0.003, p.y)
    r.step(T0 + minutes(10), ais_position=[pos(T0 + minutes(10), 412000010, *out, 0.2)])
    assert r.open("dg_anchorage_non_tanker")
    r.step(T0 + minutes(12.5), ais_position=[pos(T0 + minutes(12.5), 412000010, *out, 0.2)])
    assert r.open("dg_anchorage_non_tanker") == []


RULES_WAIT = """
[rules.wait]
kind = "anchor_wait"
priority = "caution"
hours_by_class = { cargo = 2.0, default = 10.0 }
"""


def test_waiting_at_anchor_beyond_the_class_threshold(rig, port: Port) -> None:
    r = rig(RULES_WAIT)
    p = port.anchorages["ANC-IN-1"].area.representative_point()
    r.step(T0, ais_static=[static(T0, 412000020, 70, 190.0, 32.0, 11.0)])
    # at anchor from T0 (sog 0.1, nav 1), a report every 3 min; the engine confirms the anchorage
    # arrival after 600 s with the time the stay began (T0). Cargo limit 2 h: raised at the first
    # step after T0+2h (value 2.0 h, half-hour steps), updated at 2.5 h.
    raised_at = None
    for k in range(0, 56):
        t = T0 + minutes(3 * k)
        r.step(t, ais_position=[pos(t, 412000020, p.x, p.y, 0.1, nav=1)])
        if raised_at is None and r.open("wait"):
            raised_at = t
    assert raised_at == T0 + minutes(123)
    [a] = r.open("wait")
    assert (a["value"], a["unit"], a["anchorage_id"]) == (2.5, "h", "ANC-IN-1")  # at T0 + 2 h 45 min
    assert r.events("wait:412000020") == ["raise", "update"]


def test_speed_over_the_channel_limit(rig, port: Port) -> None:
    r = rig()
    km = 10.0
    r.step(T0, ais_static=[static(T0, 412000030, 70, 200.0, 32.0, 10.0)])
    # CH-OUT-1, global limit 12.5 kn: 14 kn from T0, reports every 10 s; raised once over for ≥ 30 s
    speeds = [14.0] * 5 + [12.2] * 3 + [11.8]
    for k, sog in enumerate(speeds):
        t = T0 + 10 * k * S
        km += sog * 10 / 3600 * 1.852
        lon, lat = port.channel.position_at(km)
        r.step(t, ais_position=[pos(t, 412000030, lon, lat, sog, 70.0)])
        opened = [a["value"] for a in r.open("channel_speed")]
        if k < 3:
            assert opened == []  # T0+0..20 s: over for < 30 s
        elif k < 5:
            assert opened == [14.0]
        elif k < 8:
            assert opened == [12.0]  # 12.2 kn > 12.5 − 0.5 clear margin: still open (half-knot value)
        else:
            assert opened == []  # 11.8 ≤ 12.0 → cleared
    assert r.events("channel_speed:412000030") == ["raise", "update", "clear"]


def test_per_segment_limit_applies_in_the_inner_channel(rig, port: Port) -> None:
    r = rig()
    r.step(T0, ais_static=[static(T0, 412000031, 70, 200.0, 32.0, 10.0)])
    km = 58.0  # CH-IN-2: limit 12.0 kn (12.3 kn would pass the global 12.5)
    for k in range(5):
        km += 12.3 * 10 / 3600 * 1.852
        lon, lat = port.channel.position_at(km)
        r.step(T0 + 10 * k * S, ais_position=[pos(T0 + 10 * k * S, 412000031, lon, lat, 12.3, 300.0)])
    [a] = r.open("channel_speed")
    assert a["limit_kn"] == 12.0 and a["segment_id"] == "CH-IN-2"


def test_two_large_ships_on_conflicting_courses_in_the_one_way_stretch(rig, port: Port) -> None:
    r = rig()
    # lengths 340 m → DWT ≈ 333,000 t (between 330 m/300 kt and 360 m/400 kt) ≥ one_way_min_dwt 300,000;
    # the third ship (200 m → ≈ 67,000 t) does not need the one-way rule
    r.step(
        T0,
        ais_static=[
            static(T0, 412000041, 80, 340.0, 60.0, 18.0),
            static(T0, 412000042, 70, 340.0, 60.0, 18.0),
            static(T0, 412000043, 70, 200.0, 32.0, 10.0),
        ],
    )
    a_km, b_km, c_km = (
        8.0,
        20.0,
        25.0,
    )  # A inbound from K8, B and C outbound from K20 / K25 (outer stretch K0–K40.29)
    for k in range(6):
        t = T0 + 30 * k * S
        a_km += 0.15
        b_km -= 0.15
        c_km -= 0.15
        rows = [
            pos(t, m, *port.channel.position_at(km), 9.0, cog)
            for m, km, cog in ((412000041, a_km, 280.0), (412000042, b_km, 100.0), (412000043, c_km, 100.0))
        ]
        r.step(t, ais_position=rows)
    # directions known after > 100 m of chainage change: A inbound at K8.9, B outbound at K19.1 → conflict
    [al] = r.open("one_way_conflict")
    assert al["id"] == "one_way_conflict:412000041-412000042" and al["priority"] == "alarm"
    assert (
        al["mmsis"] == [412000041, 412000042] and al["value"] == 10.0
    )  # 19.1 − 8.9 = 10.2 km → 10.0 (0.5 km steps)
    # they sail on towards each other: open until A is more than 0.5 km past B, then cleared
    k = 6
    while a_km <= b_km + 0.5:
        assert r.open("one_way_conflict")
        t = T0 + 30 * k * S
        a_km, b_km, k = a_km + 0.15, b_km - 0.15, k + 1
        r.step(
            t,
            ais_position=[
                pos(t, 412000041, *port.channel.position_at(a_km), 9.0, 280.0),
                pos(t, 412000042, *port.channel.position_at(b_km), 9.0, 100.0),
            ],
        )
    assert r.open("one_way_conflict") == []
    assert r.events("one_way_conflict:412000041-412000042")[-1] == "clear"


def test_a_ship_gone_dark_inside_port_limits(rig, port: Port) -> None:
    r = rig()
    lon, lat = port.channel.position_at(30.0)
    r.step(
        T0,
        ais_static=[
            static(T0, 412000050, 70, 200.0, 32.0, 10.0),
            static(T0, 412000051, 52, 30.0, 10.0, 4.0),
        ],  # a tug (type 52): ignored
        ais_position=[pos(T0, 412000050, lon, lat, 10.0, 280.0), pos(T0, 412000051, lon, lat + 0.003, 10.0)],
    )
    # under way at 10 kn: 10 s reporting interval; dark after max(300 s, 6 × 10 s) = 300 s of silence
    r.step(T0 + minutes(5))
    assert r.open("dark_in_port") == []
    r.step(T0 + minutes(5) + S)
    [a] = r.open("dark_in_port")
    assert a["subject"] == "412000050" and a["value"] == 5.0 and a["lon"] == pytest.approx(lon, abs=1e-4)
    r.step(T0 + minutes(15))
    assert r.open("dark_in_port")[0]["value"] == 15.0
    r.step(T0 + minutes(16), ais_position=[pos(T0 + minutes(16), 412000050, lon, lat, 0.0)])
    assert r.open("dark_in_port") == []
    assert r.events("dark_in_port:412000050") == ["raise", "update", "clear"]  # 5 → 15 min, then heard


def test_gate_queue_over_its_limit(rig, port: Port) -> None:
    r = rig()
    # 60 trucks every 15 s from T0 at GATE-BM-IN, 400 s each; at T0+15 min the window (now − 900 s, now]
    # holds 59 of them (the one at T0 is on its open edge): queue = 59 / 900 s × 400 s = 26.2 → 26 > 20
    rows = [
        {
            "ts_utc": T0 + 15 * k * S,
            "gate_id": "GATE-BM-IN",
            "lane": 1,
            "direction": "in",
            "visit_id": f"V{k}",
            "outcome": "accepted",
            "processing_s": 400.0,
        }
        for k in range(60)
    ]
    r.step(T0 + minutes(15), gate_event=rows)
    [a] = r.open("gate_queue")
    assert (a["subject"], a["value"], a["zone_id"]) == ("GATE-BM-IN", 26.0, "Z-GATE-BM-CT")
    # 15 min later no new truck: queue 0 ≤ 20 − 3 → cleared
    r.step(T0 + minutes(31))
    assert r.open("gate_queue") == []


def test_truck_turn_time_of_a_terminal_over_its_limit(rig, port: Port) -> None:
    r = rig()
    # four visits in at T0, T0+1, T0+2, T0+3 min, out 100 min later each → mean turn 100 min > 90
    ins = [
        {
            "ts_utc": T0 + minutes(k),
            "gate_id": "GATE-BM-IN",
            "direction": "in",
            "visit_id": f"V{k}",
            "processing_s": 30.0,
        }
        for k in range(4)
    ]
    outs = [
        {
            "ts_utc": T0 + minutes(100 + k),
            "gate_id": "GATE-BM-OUT",
            "direction": "out",
            "visit_id": f"V{k}",
            "processing_s": 30.0,
        }
        for k in range(4)
    ]
    r.step(T0 + minutes(5), gate_event=ins)
    r.step(T0 + minutes(102), gate_event=outs[:3])  # three visits done: min_turns = 3 → raised
    [a] = r.open("truck_turn_time")
    assert (a["subject"], a["value"], a["visits"]) == ("BM-CT", 100.0, 3)
    # an hour after the last exit the window holds no visit → cleared
    r.step(T0 + minutes(104), gate_event=outs[3:])
    r.step(T0 + minutes(164))
    assert r.open("truck_turn_time") == []


def test_customs_declaration_over_its_clearance_target(rig, port: Port) -> None:
    r = rig()
    rows = [
        {"ts_utc": T0, "declaration_id": "D1", "mode": "sea", "stage": "arrival"},
        {
            "ts_utc": T0 + minutes(10),
            "declaration_id": "D1",
            "mode": "sea",
            "stage": "risk_assessed",
            "channel": "green",
        },
        {"ts_utc": T0, "declaration_id": "D2", "mode": "sea", "stage": "lodged"},
    ]
    r.step(T0 + minutes(10), customs_event=rows)
    # green target 6 h from arrival: open at 6 h 30 min (value 6.5 h); D2 has no channel yet → default 24 h
    r.step(T0 + minutes(359))
    assert r.open("customs_clearance") == []
    r.step(T0 + minutes(390))
    [a] = r.open("customs_clearance")
    assert (a["subject"], a["value"], a["channel"], a["priority"]) == ("D1", 6.5, "green", "caution")
    rel = T0 + minutes(400)
    r.step(
        rel, customs_event=[{"ts_utc": rel, "declaration_id": "D1", "stage": "released", "channel": "green"}]
    )
    assert r.open("customs_clearance") == []


def test_a_stale_feed_after_the_startup_grace(rig, port: Port) -> None:
    r = rig()
    r.step(T0, tide_obs=[{"ts_utc": T0, "station_id": "zhanjiang", "level_m": 2.7}])
    # grace 1200 s from the first evaluation: nothing before T0+20 min although gate/customs never came
    r.step(T0 + minutes(19))
    assert r.open("feed_stale") == []
    # T0+25 min: tide last at T0, older than 1200 s → stale (25 min, 5 min steps); the others never came
    r.step(T0 + minutes(25))
    got = {a["subject"]: a["value"] for a in r.open("feed_stale")}
    assert got == {"ais": None, "gate": None, "customs": None, "tide": 25.0}
    t = T0 + minutes(26)
    r.step(t, tide_obs=[{"ts_utc": t, "station_id": "zhanjiang", "level_m": 2.6}])
    assert "tide" not in {a["subject"] for a in r.open("feed_stale")}
