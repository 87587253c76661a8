"""Port-call detection on hand-built tracks: each event once, at the time its condition began."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
import shapely
from engine_tracks import SEA, T0, Track, batches, full_call

from twin.engine import Engine
from twin.port import Port

ORDER = [
    "port_limit_arrival",
    "pilot_on_board",
    "anchorage_arrival",
    "anchorage_departure",
    "all_fast",
    "departure_from_berth",
    "port_limit_departure",
]


def run(port: Port, frame: pl.DataFrame, minutes: float = 10.0) -> Engine:
    eng = Engine(port)
    for now, part in batches(frame, minutes):
        eng.apply({"ais_position": part}, now)
    return eng


def crossing_times(port: Port, frame: pl.DataFrame) -> tuple[datetime, datetime]:
    """First report inside the port limit and, after it, the first one outside (plain shapely)."""
    limit = port.zones["Z-PORT-LIMIT"].area
    inside = shapely.contains_xy(limit, frame["lon"].to_numpy(), frame["lat"].to_numpy())
    first_in = int(np.argmax(inside))
    first_out = first_in + int(np.argmax(~inside[first_in:]))
    ts = frame["ts_utc"].to_list()
    return ts[first_in], ts[first_out]


def expected(port: Port, tr: Track) -> dict[str, datetime]:
    arrive, leave = crossing_times(port, tr.frame())
    return {
        "port_limit_arrival": arrive,
        "pilot_on_board": tr.marks["pob"],
        "anchorage_arrival": tr.marks["anchor"],
        "anchorage_departure": tr.marks["weigh"],
        "all_fast": tr.marks["all_fast"],
        "departure_from_berth": tr.marks["unberth"],
        "port_limit_departure": leave,
    }


@pytest.fixture(scope="module")
def clean_call(port: Port) -> Track:
    return full_call(port)


def test_a_full_call_gives_each_event_once_at_the_time_its_condition_began(
    port: Port, clean_call: Track
) -> None:
    ev = run(port, clean_call.frame()).events
    assert ev["event"].to_list() == ORDER
    assert set(ev["call_id"]) == {"412000001-0001"}
    assert ev["location_id"].to_list() == [
        None,
        None,
        "ANC-IN-1",
        "ANC-IN-1",
        "XS-ORE-400K",
        "XS-ORE-400K",
        None,
    ]
    want = expected(port, clean_call)
    for event, ts in ev.select("event", "ts_utc").iter_rows():
        assert ts == want[event], event  # the start of the condition, not the end of the dwell


def test_moored_status_confirms_all_fast_at_once(port: Port) -> None:
    tr = full_call(port, nav_at_berth=5)
    eng = Engine(port)
    # one batch ending 30 s after the first moored report (3 min after the stop): nav_status 5 needs
    # no 5-minute dwell, and the event takes the time the ship stopped
    cut = tr.marks["all_fast"] + timedelta(seconds=180 + 30)
    eng.apply({"ais_position": tr.frame().filter(pl.col("ts_utc") <= cut)}, cut)
    fast = eng.events.filter(pl.col("event") == "all_fast")
    assert fast["ts_utc"].to_list() == [tr.marks["all_fast"]]


def test_the_dwell_is_needed_before_anchorage_arrival_is_reported(port: Port, clean_call: Track) -> None:
    eng = Engine(port)
    nine_min = clean_call.marks["anchor"] + timedelta(minutes=9)
    eng.apply({"ais_position": clean_call.frame().filter(pl.col("ts_utc") <= nine_min)}, nine_min)
    assert "anchorage_arrival" not in eng.events["event"].to_list()
    later = nine_min + timedelta(minutes=5)
    eng.apply(
        {
            "ais_position": clean_call.frame().filter(
                pl.col("ts_utc").is_between(nine_min, later, closed="right")
            )
        },
        later,
    )
    arr = eng.events.filter(pl.col("event") == "anchorage_arrival")
    assert arr["ts_utc"].to_list() == [clean_call.marks["anchor"]]


def noisy(port: Port, frame: pl.DataFrame, seed: int = 3) -> pl.DataFrame:
    """±30 m of position noise on every report, one 5 km outlier at anchor, one in the channel, one at
    the berth, and three 20-minute gaps (in the channel, at anchor, at the berth)."""
    rng = np.random.default_rng(seed)
    x, y = port.metric.xy(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    x = x + rng.uniform(-30, 30, x.size)
    y = y + rng.uniform(-30, 30, y.size)
    lon, lat = port.metric.lonlat(x, y)
    out = frame.with_columns(lon=pl.Series(lon), lat=pl.Series(lat)).with_row_index("i")
    ts = out["ts_utc"]
    t_anchor = T0 + timedelta(hours=4, minutes=10)
    t_channel = T0 + timedelta(hours=1, minutes=30)
    t_berth = T0 + timedelta(hours=9)
    idx = [int(out.filter(pl.col("ts_utc") >= t)["i"][0]) for t in (t_anchor, t_channel, t_berth)]
    jump = pl.Series([5000.0 if i in idx else 0.0 for i in range(out.height)])
    x2, y2 = port.metric.xy(out["lon"].to_numpy(), out["lat"].to_numpy())
    lon2, lat2 = port.metric.lonlat(x2 + jump.to_numpy(), y2)
    out = out.with_columns(lon=pl.Series(lon2), lat=pl.Series(lat2))
    for start in (
        t_channel + timedelta(minutes=5),
        t_anchor + timedelta(minutes=30),
        t_berth + timedelta(hours=1),
    ):
        out = out.filter(~ts.is_between(start, start + timedelta(minutes=20)).gather(out["i"]))
    return out.drop("i")


def test_jitter_a_5_km_outlier_and_20_minute_gaps_make_no_false_events(port: Port, clean_call: Track) -> None:
    frame = noisy(port, clean_call.frame())
    eng = run(port, frame)
    ev = eng.events
    assert ev["event"].to_list() == ORDER
    assert eng.ignored["outlier"] == 3
    want = expected(port, clean_call)
    for event, ts in ev.select("event", "ts_utc").iter_rows():
        # noise may move a boundary crossing by a report or two; dwell events keep their start exactly
        assert abs((ts - want[event]).total_seconds()) <= 30, event


def test_a_second_call_gets_the_next_call_id(port: Port, clean_call: Track) -> None:
    first = clean_call.frame()
    again = full_call(port).frame().with_columns(pl.col("ts_utc") + timedelta(hours=18))
    ev = run(port, pl.concat([first, again])).events
    assert ev["call_id"].unique().sort().to_list() == ["412000001-0001", "412000001-0002"]
    assert ev.filter(pl.col("call_id") == "412000001-0002")["event"].to_list() == ORDER


def test_a_ship_first_heard_at_its_berth_gets_a_call_without_an_arrival(port: Port) -> None:
    pocket = port.berths["BM-CT-1"].pocket.centroid
    tr = Track(port, 413000002, pocket.x, pocket.y).stay(3600, sog=0.0, nav=5)
    eng = run(port, tr.frame())
    ev = eng.events
    assert ev["event"].to_list() == ["all_fast"]
    assert ev["call_id"].to_list() == ["413000002-0001"]
    assert eng.vessels[413000002].phase == "at_berth"


def test_a_ship_passing_by_outside_the_port_limit_has_no_call(port: Port) -> None:
    tr = Track(port, 414000003, 111.05, 20.80).sail_to(111.05, 21.30, 14.0)
    eng = run(port, tr.frame())
    assert eng.events.is_empty()
    assert eng.vessels[414000003].phase == "outside"


def test_jitter_across_the_port_limit_line_is_not_an_arrival(port: Port) -> None:
    """A ship drifting on the limit line (lon 110.98) with reports alternating in and out."""
    tr = Track(port, 415000004, 110.9802, 20.95)
    for i in range(40):
        tr.lon = 110.9802 if i % 2 else 110.9798
        tr.stay(30, interval_s=30, sog=0.5)
    ev = run(port, tr.frame()).events
    assert ev.is_empty()


def test_dark_when_reports_stop_inside_the_port_and_cleared_when_they_return(port: Port) -> None:
    anc = port.anchorages["ANC-IN-2"].area.centroid
    tr = Track(port, 416000005, anc.x, anc.y).stay(3600, interval_s=180, sog=0.1, nav=1)
    last = tr.t
    eng = Engine(port)
    eng.apply({"ais_position": tr.frame()}, last)
    assert not eng.vessels[416000005].dark
    # at anchor the expected interval is 3 min: dark after 6 × 180 s = 18 min
    eng.apply({}, last + timedelta(minutes=15))
    assert not eng.vessels[416000005].dark
    d = eng.apply({}, last + timedelta(minutes=19))
    assert eng.vessels[416000005].dark
    assert d.to_message()["vessels"]["rows"][0][-1] is True
    tr.rows.clear()
    tr.t = last + timedelta(minutes=40)
    tr.stay(180, sog=0.1, nav=1)
    eng.apply({"ais_position": tr.frame()}, tr.t)
    assert not eng.vessels[416000005].dark
    assert eng.events["event"].to_list() == ["anchorage_arrival"]  # the silence made no departure


def test_a_ship_outside_the_port_limit_is_never_dark(port: Port) -> None:
    tr = Track(port, 417000006, *SEA).stay(600, interval_s=10, sog=10.0)
    eng = Engine(port)
    eng.apply({"ais_position": tr.frame()}, tr.t)
    eng.apply({}, tr.t + timedelta(minutes=20))
    assert not eng.vessels[417000006].dark


def test_a_ship_that_never_slows_gets_its_pilot_at_its_entry_into_the_boarding_area(port: Port) -> None:
    pilot = port.anchorages["ANC-PILOT"].area
    tr = Track(port, 418000007, *SEA).sail_to(pilot.centroid.x, pilot.centroid.y, 12.0)
    tr.sail_to(*port.channel.position_at(5.0), 12.0).sail_channel(5.0, 10.0, 12.0)
    frame = tr.frame()
    inside = shapely.contains_xy(pilot, frame["lon"].to_numpy(), frame["lat"].to_numpy())
    entry = frame["ts_utc"][int(np.argmax(inside))]
    ev = run(port, frame).events
    assert ev["event"].to_list() == ["port_limit_arrival", "pilot_on_board"]
    assert ev["ts_utc"][1] == entry


def test_service_craft_make_no_port_calls(port: Port) -> None:
    from feeds.schema import AIS_STATIC

    pocket = port.berths["XS-ORE-250K"].pocket.centroid
    tug = Track(port, 413900001, *SEA, t0=T0).sail_to(pocket.x, pocket.y, 10.0).stay(3600, sog=0.0)
    static = pl.DataFrame(
        [
            {
                "ts_utc": T0,
                "mmsi": 413900001,
                "imo": None,
                "name": "ZHANGANG TUO 1",
                "callsign": None,
                "ship_type": 52,
                "length_m": 32.0,
                "beam_m": 11.0,
                "draught_m": 3.0,
                "destination": None,
                "eta_utc": None,
            }
        ],
        schema=AIS_STATIC,
    )
    eng = Engine(port)
    eng.apply({"ais_static": static, "ais_position": tug.frame()}, tug.t)
    assert eng.events.is_empty()
    assert eng.vessels[413900001].phase == "service"


def test_a_port_limit_crossing_inside_an_ais_gap_is_dated_on_the_track(port: Port) -> None:
    """Reports at 111.05 and then, 30 min later, at 110.91: the line (lon 110.98) lies at 50 % of the
    way, so the crossing is taken 15 min after the last report outside."""
    tr = Track(port, 419000008, 111.05, 20.955)
    tr.stay(60, interval_s=10, sog=12.0)
    last_out = tr.t
    tr.t += timedelta(minutes=30)
    tr.lon = 110.91
    tr.stay(60, interval_s=10, sog=12.0)
    ev = run(port, tr.frame()).events
    assert ev["event"].to_list() == ["port_limit_arrival"]
    assert abs((ev["ts_utc"][0] - (last_out + timedelta(minutes=15))).total_seconds()) < 20
