"""The life of one alert: raise, no duplicates, update, escalation after the set time, acknowledgement,
clear, and the history of every transition — on a real Engine, with a speeding ship in the channel
(rule `speed`: limit 12 kn, warning, escalates after 10 min unless acknowledged)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from tests.alerts.conftest import T0, Rig, minutes, pos, static
from twin.alerts import HISTORY_SCHEMA
from twin.port import Port

RULES = """
[defaults]
escalate_after_min = 10.0

[rules.speed]
kind = "channel_speed"
priority = "warning"
limit_kn = 12.0
clear_margin_kn = 0.5
min_duration_s = 0.0
"""
MMSI = 412000100
AID = f"speed:{MMSI}"


class Ship:
    """A ship sailing the channel inbound from K5, reporting whenever `at` is called."""

    def __init__(self, rig: Rig, port: Port) -> None:
        self.rig, self.port, self.km, self.t = rig, port, 5.0, T0
        rig.step(T0, ais_static=[static(T0, MMSI, 70, 200.0, 32.0, 10.0, "LIFE CYCLE")])

    def at(self, t: datetime, sog: float) -> dict:
        self.km += sog * (t - self.t).total_seconds() / 3600 * 1.852
        self.t = t
        return self.rig.step(
            t, ais_position=[pos(t, MMSI, *self.port.channel.position_at(self.km), sog, 70.0)]
        )


def test_raise_once_update_on_a_new_value_and_clear_with_hysteresis(rig, port: Port) -> None:
    r = rig(RULES)
    ship = Ship(r, port)
    sec = timedelta(seconds=10)  # a report every 10 s: 67 m at 13 kn, the alert's place stays put
    msg = ship.at(T0 + sec, 13.0)  # 13 > 12: raised, in this step's delta
    assert [(a["id"], a["state"], a["priority"], a["value"]) for a in msg["alerts"]] == [
        (AID, "raised", "warning", 13.0)
    ]
    for k in range(2, 5):  # the same situation: no new alert, nothing in the deltas
        msg = ship.at(T0 + k * sec, 13.1)  # 13.1 kn still rounds to 13.0 (half-knot steps)
        assert msg["alerts"] == []
    assert len(r.engine.alerts) == 1 and r.engine.snapshot(T0 + 4 * sec)["alerts"][0]["id"] == AID
    msg = ship.at(T0 + 5 * sec, 14.0)  # worse: update, same id
    assert [(a["id"], a["value"]) for a in msg["alerts"]] == [(AID, 14.0)]
    ship.at(T0 + 6 * sec, 11.8)  # 11.8 > 12 − 0.5: still open (hysteresis), value 12.0
    assert r.open("speed")[0]["value"] == 12.0
    msg = ship.at(T0 + 7 * sec, 11.4)  # ≤ 11.5: cleared, in the delta and the engine's list
    assert [(a["id"], a["state"]) for a in msg["alerts"]] == [(AID, "cleared")]
    assert r.engine.alerts[AID]["cleared_utc"] == "2026-11-28T00:01:10Z"
    assert r.engine.snapshot(T0 + 7 * sec)["kpis"]["alerts_open"]["value"] == 0.0
    assert r.events(AID) == ["raise", "update", "update", "clear"]  # 13 → 14 → 12 → clear
    ship.at(T0 + 8 * sec, 13.0)  # the same situation again: raised again under the same id
    assert r.events(AID)[-1] == "raise" and r.open("speed")[0]["raised_utc"] == "2026-11-28T00:01:20Z"


def test_the_alert_follows_a_moving_ship_in_half_kilometre_steps(rig, port: Port) -> None:
    r = rig(RULES)
    ship = Ship(r, port)
    ship.at(T0 + minutes(1), 13.0)
    moved = [bool(ship.at(T0 + minutes(1) + timedelta(seconds=10 * k), 13.0)["alerts"]) for k in range(1, 25)]
    # 13 kn = 67 m per 10 s: an update (with the new lon/lat) about every 8 reports (> 0.5 km)
    assert sum(moved) == 3 and not any(moved[:6])


def test_an_unacknowledged_warning_escalates_to_an_alarm_after_the_set_time(rig, port: Port) -> None:
    r = rig(RULES)
    ship = Ship(r, port)
    ship.at(T0 + minutes(1), 13.0)  # raised at 00:01
    ship.at(
        T0
        + minutes(
            10,
        )
        + timedelta(seconds=59),
        13.0,
    )  # 9 min 59 s: still a warning
    assert r.open("speed")[0]["priority"] == "warning"
    msg = ship.at(T0 + minutes(11), 13.0)  # 10 min unacknowledged → alarm
    [a] = msg["alerts"]
    assert (a["priority"], a["escalated"], a["state"]) == ("alarm", True, "raised")
    assert [e for e in r.events(AID) if e != "update"] == ["raise", "escalate"]  # updates: the ship moved
    ship.at(T0 + minutes(12), 14.0)  # an escalated alert stays an alarm through updates
    assert r.open("speed")[0]["priority"] == "alarm"


def test_acknowledge_records_who_why_and_when_and_stops_the_escalation(rig, port: Port) -> None:
    r = rig(RULES)
    ship = Ship(r, port)
    ship.at(T0 + minutes(1), 13.0)
    ack_t = T0 + minutes(3)
    pub = r.alerts.acknowledge(AID, by="VTS duty officer", note="called on VHF 09", now=ack_t)
    assert (pub["state"], pub["acknowledged_by"], pub["note"], pub["acknowledged_utc"]) == (
        "acknowledged",
        "VTS duty officer",
        "called on VHF 09",
        "2026-11-28T00:03:00Z",
    )
    msg = ship.at(T0 + minutes(4), 13.0)  # the acknowledgement reaches the next delta
    assert [(a["id"], a["state"]) for a in msg["alerts"]] == [(AID, "acknowledged")]
    ship.at(T0 + minutes(20), 13.0)  # acknowledged: no escalation
    assert r.open("speed")[0]["priority"] == "warning"
    [ack] = [t for t in r.alerts.history if t.event == "acknowledge"]
    assert (ack.by, ack.note, ack.ts_us) == (
        "VTS duty officer",
        "called on VHF 09",
        int(ack_t.timestamp() * 1e6),
    )
    with pytest.raises(KeyError):
        r.alerts.acknowledge("speed:1", by="x", note="", now=ack_t)
    with pytest.raises(ValueError, match="who"):
        r.alerts.acknowledge(AID, by=" ", note="", now=ack_t)
    with pytest.raises(ValueError, match="naive"):
        r.alerts.acknowledge(AID, by="x", note="", now=ack_t.replace(tzinfo=None))
    ship.at(T0 + minutes(21), 11.0)  # cleared: nothing left to acknowledge
    with pytest.raises(ValueError, match="cleared"):
        r.alerts.acknowledge(AID, by="x", note="", now=T0 + minutes(22))


def test_an_acknowledged_alert_that_gets_worse_needs_a_new_acknowledgement(rig, port: Port) -> None:
    r = rig()  # the default rules: UKC alarm, emergency alarm when net UKC < 0
    lon, lat = port.channel.position_at(10.0)
    aid = "ukc_channel:412000101"
    for k, draught in enumerate((22.0, 22.0, 25.0)):  # net 2.65 m (< 3.3 required), then −0.35 m
        t = T0 + timedelta(seconds=10 * k)
        r.step(
            t,
            ais_static=[static(t, 412000101, 80, 330.0, 60.0, draught)],
            ais_position=[pos(t, 412000101, lon, lat, 10.0, 280.0)],
        )
        if k == 0:
            r.alerts.acknowledge(aid, by="pilot station", note="tide rising", now=t)
            assert r.open("ukc_channel")[0]["state"] == "acknowledged"
        if k == 1:
            assert r.open("ukc_channel")[0]["state"] == "acknowledged"  # same priority: stays acknowledged
    [a] = r.open("ukc_channel")
    assert (a["priority"], a["state"]) == ("emergency_alarm", "raised")
    assert r.alerts.history[-1].note == "priority rose above the acknowledged alarm"


def test_a_rule_with_escalate_false_never_escalates(rig, port: Port) -> None:
    rules = (
        RULES
        + """
[rules.dark]
kind = "dark"
priority = "warning"
escalate = false
"""
    )
    r = rig(rules)
    ship = Ship(r, port)
    ship.at(T0 + minutes(1), 10.0)
    r.step(T0 + minutes(60))  # dark since 00:06; an hour later still a warning
    [dark] = r.open("dark")
    assert dark["priority"] == "warning" and dark["state"] == "raised" and not dark["escalated"]


def test_the_history_exports_as_a_polars_frame(rig, port: Port) -> None:
    r = rig(RULES)
    ship = Ship(r, port)
    ship.at(T0 + minutes(1), 13.0)
    r.alerts.acknowledge(AID, by="op", note="seen", now=T0 + minutes(2))
    ship.at(T0 + minutes(3), 11.0)
    h = r.alerts.history_frame()
    assert h.schema == pl.Schema(HISTORY_SCHEMA)
    assert h.select("event", "state", "by").rows() == [
        ("raise", "raised", None),
        ("acknowledge", "acknowledged", "op"),
        ("clear", "cleared", None),
    ]
    assert h["ts_utc"].to_list() == [T0 + minutes(1), T0 + minutes(2), T0 + minutes(3)]
    assert h["mmsi"].to_list() == [MMSI] * 3
    assert r.alerts.history_records()[0]["ts_utc"] == "2026-11-28T00:01:00Z"


def test_a_restored_engine_keeps_its_open_alerts(rig, port: Port, depth, tide) -> None:
    from twin.alert_rules import parse_rules
    from twin.alerts import AlertEngine
    from twin.engine import Engine

    r = rig(RULES)
    ship = Ship(r, port)
    ship.at(T0 + minutes(1), 13.0)
    eng = Engine.from_snapshot(port, r.engine.to_snapshot_bytes())
    alerts = AlertEngine(port, parse_rules(RULES), depth_below_cd=depth, tide=tide).attach(eng)
    assert [a["id"] for a in alerts.alerts()] == [AID]
    lon, lat = port.channel.position_at(ship.km + 0.4)
    eng.apply(
        {
            "ais_position": __import__("tests.alerts.conftest", fromlist=["frame"]).frame(
                "ais_position", [pos(T0 + minutes(2), MMSI, lon, lat, 11.0, 70.0)]
            )
        },
        T0 + minutes(2),
    )
    assert alerts.alerts() == [] and eng.alerts[AID]["state"] == "cleared"
