"""The vessel page's UKC section and call chain on hand-built inputs, against twin.ukc / twin.windows
called here directly and against stage times and durations worked out by hand."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from dashboards.ops.store import OpsState
from dashboards.ops.vessel import VesselPage
from dashboards.ops.vessel_chain import call_chain, read_vessel_records
from dashboards.ops.vessel_ukc import as_utc, vessel_ukc
from feeds.store import write_frame, write_part
from twin.bathymetry import load_bathymetry
from twin.tide import read_constituents_toml
from twin.ukc import UkcRule, Vessel, live_ukc
from twin.windows import RoutePoint, passing_offsets_s, transit_windows

MMSI = 412000001
T = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def port() -> Any:
    from geodata import load_port

    return load_port()


def _ship(port: Any, km: float, **extra: Any) -> dict[str, Any]:
    lon, lat = port.channel.position_at(km)
    row = {
        "mmsi": MMSI, "name": "TEST ORE", "lat": lat, "lon": lon, "draught_m": 19.5, "sog_kn": 10.0,
        "cog_deg": 300.0, "ship_class": "cargo", "length_m": 300.0, "beam_m": None, "phase": "in_channel",
        "zone_id": "Z-CH-OUTER",
    }  # fmt: skip
    return row | extra


def test_ukc_now_equals_twin_live_ukc_for_a_ship_in_the_outer_channel(port: Any) -> None:
    row = _ship(port, 30.0)
    got = vessel_ukc(port, row, T)
    depth = load_bathymetry(port.files["bathymetry"])
    tide = read_constituents_toml(port.files["tide"])
    # the bundled ukc alert rule: outer 15 %, minimum 0.5 m, barrass-confined, cargo Cb 0.82, L/B 6.2
    ship = Vessel(
        draught_m=19.5, speed_kn=10.0, cb=0.82, beam_m=300.0 / 6.2, length_m=300.0, vessel_id=str(MMSI)
    )
    want = live_ukc(
        ship, row["lat"], row["lon"], np.datetime64("2026-11-28T04:00:00"), depth, tide,
        rule=UkcRule(0.15, 0.5), squat_method="barrass-confined", channel_width_m=340.0,
    )  # fmt: skip
    assert got.missing is None and got.now is not None
    assert got.now.net_ukc_m == want.net_ukc_m
    # by hand: squat Cb V^2/50 = 0.82 * 100 / 50 = 1.64 m; required max(0.5, 0.15 * 19.5) = 2.925 m
    assert got.now.squat_m == pytest.approx(1.64)
    assert got.now.required_ukc_m == pytest.approx(2.925)
    assert got.now.net_ukc_m == pytest.approx(got.now.depth_below_cd_m + got.now.tide_m - 19.5 - 1.64)
    assert got.now.status == ("safe" if want.net_ukc_m >= 2.925 else "marginal")
    page = VesselPage(port, None)
    html = page.html(OpsState(version=1, ts_utc="2026-11-28T04:00:00Z", vessels={MMSI: row}), MMSI, "en")
    shown = re.search(r"data-testid='ukc-now' data-net='([^']+)'[^>]*>([^<]+)<", html)
    assert shown and float(shown.group(1)) == want.net_ukc_m and shown.group(2) == f"{want.net_ukc_m:.2f}"
    assert "19.50 (AIS-reported)" in html and "estimated bathymetry model" in html


def test_unknown_draught_gives_no_ukc_and_says_why(port: Any) -> None:
    row = _ship(port, 30.0, draught_m=None)
    got = vessel_ukc(port, row, T)
    assert got.missing == "ukc_no_draught" and got.now is None and got.route is None
    html = VesselPage(port, None).html(
        OpsState(version=1, ts_utc="2026-11-28T04:00:00Z", vessels={MMSI: row}), MMSI, "zh"
    )
    assert "data-reason='ukc_no_draught'" in html and "吃水未知" in html and "ukc-now'" not in html


def test_before_the_first_twin_time_or_for_a_ship_gone_there_is_no_ukc(port: Any) -> None:
    row = _ship(port, 30.0)
    page = VesselPage(port, None)
    assert "data-reason='ukc_no_position'" in page.html(OpsState(version=1, vessels={MMSI: row}), MMSI, "en")
    gone = page.html(OpsState(version=1, ts_utc="2026-11-28T04:00:00Z"), MMSI, "en")
    assert "data-reason='ukc_no_position'" in gone


def test_route_minimum_and_next_window_equal_twin_windows_for_an_inbound_ship(port: Any) -> None:
    row = _ship(port, 30.0)
    got = vessel_ukc(port, row, T + timedelta(seconds=42))  # the route departs at the minute: 04:00
    assert got.route is not None
    r = got.route
    assert (r.direction, r.departure_utc, r.start_km, r.end_km) == ("inbound", T, pytest.approx(30.0), 64.1)
    tide = read_constituents_toml(port.files["tide"])
    # the test's own route: the ship's chainage, then every control point further in
    cps = [cp for cp in port.channel.control_points(0.5) if cp.chainage_km > 30.0 + 1e-9]
    kms = [30.0] + [cp.chainage_km for cp in cps]
    depths = [23.6] + [cp.design_depth_m for cp in cps]
    parts = ["outer"] + [cp.part for cp in cps]
    pts = [
        RoutePoint(k, d, UkcRule(0.15 if p == "outer" else 0.10, 0.5), 10.0)
        for k, d, p in zip(kms, depths, parts, strict=True)
    ]
    tau = passing_offsets_s(pts)  # 1852/3600 m/s per knot: K30 → K64.1 at 10 kn = 34100 m / 5.144 m/s
    assert tau[-1] == pytest.approx(34_100 / (10 * 1852 / 3600))
    when = np.datetime64("2026-11-28T04:00:00", "ns") + (tau * 1e9).astype("timedelta64[ns]")
    nets = np.array(depths) + tide.level_m(when) - 19.5 - 0.82 * 10.0**2 / 50  # barrass-confined squat
    i = int(np.argmin(nets))
    assert r.min_net_ukc_m == pytest.approx(nets[i], abs=1e-9)
    assert r.min_chainage_km == pytest.approx(kms[i])
    assert r.min_passing_utc == as_utc(when[i])
    ship = Vessel(draught_m=19.5, speed_kn=10.0, cb=0.82, beam_m=300.0 / 6.2, length_m=300.0)
    start = np.datetime64("2026-11-28T04:00:00", "ns")
    found = transit_windows(pts, ship, tide, start, start + np.timedelta64(36, "h"), step_s=60.0)
    first = next(w for w in found.windows if w.end > start)
    assert r.window is not None and (r.window.start, r.window.end) == (first.start, first.end)
    html = VesselPage(port, None).html(
        OpsState(version=1, ts_utc="2026-11-28T04:00:42Z", vessels={MMSI: row}), MMSI, "en"
    )
    assert f"data-net='{r.min_net_ukc_m!r}'" in html and "inbound K30.0 → K64.1" in html


def test_a_ship_at_berth_sails_out_from_its_berth_to_sea(port: Any) -> None:
    berth = port.berths["XS-ORE-400K"]
    c = berth.pocket.centroid
    row = _ship(port, 30.0, lon=c.x, lat=c.y, phase="at_berth", sog_kn=0.0, zone_id="Z-PA-XIASHAN")
    got = vessel_ukc(port, row, T, berth_id="XS-ORE-400K")
    assert got.route is not None and got.place is not None
    assert (got.route.direction, got.route.berth_id, got.route.end_km) == ("outbound", "XS-ORE-400K", 0.0)
    assert got.route.speed_kn == 10.0  # not underway: the assumed passage speed
    assert got.place.part == "inner" and got.rule == UkcRule(0.10, 0.5)  # in a port area: the inner rule
    # replayed (no phase): the latest event all_fast at a berth says the same
    replayed = vessel_ukc(port, row | {"phase": None}, T, {"event": "all_fast", "location_id": "XS-ORE-400K"})
    assert replayed.route is not None and replayed.route.berth_id == "XS-ORE-400K"
    outbound = vessel_ukc(port, _ship(port, 40.0, phase=None), T, {"event": "departure_from_berth"})
    assert outbound.route is not None and (outbound.route.direction, outbound.route.end_km) == (
        "outbound",
        0.0,
    )


def test_alongside_where_the_grid_has_no_depth_the_berths_design_depth_is_used(port: Any) -> None:
    quay = port.berths["XS-ORE-400K"].quay.centroid  # the grid's nearest cell here is land (NaN)
    row = _ship(port, 30.0, lon=quay.x, lat=quay.y, phase="at_berth", sog_kn=0.0, zone_id="Z-PA-XIASHAN")
    got = vessel_ukc(port, row, T, berth_id="XS-ORE-400K")
    tide = float(
        read_constituents_toml(port.files["tide"]).level_m(np.array([np.datetime64("2026-11-28T04:00")]))[0]
    )
    assert got.now is not None and got.depth_source == "berth"
    # 25.0 m design depth + tide − 19.5 m draught − 0 squat (not moving); required 10 % of 19.5 = 1.95 m
    assert got.now.net_ukc_m == pytest.approx(25.0 + tide - 19.5)
    assert got.now.required_ukc_m == pytest.approx(1.95)
    html = VesselPage(port, None).html(
        OpsState(
            version=1,
            ts_utc="2026-11-28T04:00:00Z",
            vessels={MMSI: row},
            berths={"XS-ORE-400K": {"mmsi": MMSI}},
        ),
        MMSI,
        "en",
    )
    assert "(berth design depth)" in html and "Xiashan" in html


def test_a_ship_that_has_left_the_port_has_ukc_now_but_no_route(port: Any) -> None:
    row = _ship(port, 5.0, phase="outside", zone_id=None)
    left = _event("2026-11-28T03:30:00Z", "port_limit_departure", None)
    got = vessel_ukc(port, row, T, left)
    assert got.now is not None and got.route is None
    state = OpsState(version=1, ts_utc="2026-11-28T04:00:00Z", vessels={MMSI: row}, events=(left,))
    assert "left the port limit" in VesselPage(port, None).html(state, MMSI, "en")
    # outside but coming in (no event yet, heading up the channel): the route is the way in
    incoming = vessel_ukc(port, row | {"cog_deg": 300.0}, T)
    assert incoming.route is not None and incoming.route.direction == "inbound"


def test_the_route_is_computed_once_per_minute(port: Any) -> None:
    cache: dict[tuple[Any, ...], Any] = {}
    a = vessel_ukc(port, _ship(port, 30.0), T + timedelta(seconds=5), cache=cache)
    b = vessel_ukc(port, _ship(port, 30.0), T + timedelta(seconds=50), cache=cache)
    assert a.route is b.route and len(cache) == 1
    assert a.now is not None and b.now is not None and a.now.tide_m != b.now.tide_m  # UKC now is not cached


# -- the chain on hand-built history --------------------------------------------------------------
def _customs(ts: datetime, did: str, call: str, stage: str, channel: str | None) -> dict[str, Any]:
    return {
        "ts_utc": ts,
        "declaration_id": did,
        "call_id": call,
        "mode": "sea",
        "stage": stage,
        "channel": channel,
    }


def _history(tmp: Path) -> None:
    c1, other = f"{MMSI}-0001", "413999999-0001"
    rows = [
        # (UTC) D-GREEN: arrival 04:05, lodged 05:35 (+1 h 30), risk_assessed 05:50 (+15 min, green),
        # released 06:20 (+30 min), exit 14:20 (+8 h); arrival → released = 2 h 15 min = 8100 s
        _customs(T + timedelta(minutes=5), "D-GREEN", c1, "arrival", None),
        _customs(T + timedelta(minutes=95), "D-GREEN", c1, "lodged", None),
        _customs(T + timedelta(minutes=110), "D-GREEN", c1, "risk_assessed", "green"),
        _customs(T + timedelta(minutes=140), "D-GREEN", c1, "released", "green"),
        _customs(T + timedelta(hours=10, minutes=20), "D-GREEN", c1, "exit", "green"),
        # D-RED: arrival 04:10, lodged 04:40 (+30 min), risk_assessed 05:00 (+20 min, red),
        # inspection_start 08:00 (+3 h), inspection_end 10:30 (+2 h 30); not released
        _customs(T + timedelta(minutes=10), "D-RED", c1, "arrival", None),
        _customs(T + timedelta(minutes=40), "D-RED", c1, "lodged", None),
        _customs(T + timedelta(minutes=60), "D-RED", c1, "risk_assessed", "red"),
        _customs(T + timedelta(hours=4), "D-RED", c1, "inspection_start", "red"),
        _customs(T + timedelta(hours=6, minutes=30), "D-RED", c1, "inspection_end", "red"),
        _customs(
            T + timedelta(hours=6, minutes=31), "D-RED", c1, "inspection_end", "red"
        ),  # repeat: first kept
        # another ship's declaration, and one of a call the port system numbers itself (cargo row below)
        _customs(T + timedelta(minutes=7), "D-OTHER", other, "arrival", None),
        _customs(T + timedelta(minutes=30), "D-PCS", "PCS-77", "arrival", None),
    ]
    write_frame(tmp, "customs_event", pl.DataFrame(rows))
    cargo = pl.DataFrame(
        {
            "ts_utc": [T],
            "call_id": ["PCS-77"],
            "mmsi": [MMSI],
            "tonnes": [180_000.0],
            "teu": [0.0],
            "cargo": ["iron ore"],
        },
        schema_overrides={"ts_utc": pl.Datetime("us", "UTC"), "mmsi": pl.UInt32},
    )
    write_part(cargo, tmp / "port_call_cargo" / "date=2026-11-28")


def _event(ts: str, event: str, location: str | None) -> dict[str, Any]:
    return {"ts_utc": ts, "mmsi": MMSI, "call_id": f"{MMSI}-0001", "event": event, "location_id": location}


EVENTS = [
    _event("2026-11-28T01:00:00Z", "port_limit_arrival", None),
    _event("2026-11-28T03:50:00Z", "all_fast", "XS-ORE-400K"),
]


def test_chain_lists_each_declarations_stages_durations_and_current_stage(tmp_path: Path) -> None:
    _history(tmp_path)
    at = T + timedelta(hours=8)  # 12:00 UTC: D-GREEN released, not yet exited; D-RED inspected
    records = read_vessel_records(tmp_path, MMSI, at)
    links = call_chain(records, EVENTS, at)
    assert [c.call_id for c in links] == [f"{MMSI}-0001", "PCS-77"]
    engine, pcs = links
    assert engine.linked_by == "same_id" and [e["event"] for e in engine.events] == [
        "port_limit_arrival",
        "all_fast",
    ]
    assert pcs.linked_by == "cargo_row" and pcs.events == ()
    assert pcs.cargo[0].tonnes == 180_000.0 and pcs.cargo[0].cargo == "iron ore"
    assert [d.declaration_id for d in pcs.declarations] == ["D-PCS"]
    green, red = engine.declarations
    assert (green.declaration_id, green.channel, green.current_stage) == ("D-GREEN", "green", "released")
    assert [(s.stage, s.since_previous_s) for s in green.stages] == [
        ("arrival", None), ("lodged", 5400.0), ("risk_assessed", 900.0), ("released", 1800.0),
    ]  # fmt: skip
    assert green.release_s == 8100.0  # 04:05 → 06:20
    assert (red.declaration_id, red.channel, red.current_stage, red.release_s) == (
        "D-RED",
        "red",
        "inspection_end",
        None,
    )
    assert [(s.stage, s.since_previous_s) for s in red.stages] == [
        ("arrival", None), ("lodged", 1800.0), ("risk_assessed", 1200.0),
        ("inspection_start", 10800.0), ("inspection_end", 9000.0),
    ]  # fmt: skip
    assert red.stage_time("inspection_end") == T + timedelta(hours=6, minutes=30)  # the first report
    # replayed earlier: 04:45 UTC cuts both declarations
    early = call_chain(records, EVENTS, T + timedelta(minutes=45))[0].declarations
    assert [(d.declaration_id, d.current_stage) for d in early] == [
        ("D-GREEN", "arrival"),
        ("D-RED", "lodged"),
    ]


def test_vessel_page_shows_the_chain_from_the_history_store(port: Any, tmp_path: Path) -> None:
    _history(tmp_path)
    page = VesselPage(port, tmp_path)
    page.load(MMSI, "2026-11-28T12:00:00Z")
    state = OpsState(
        version=1, ts_utc="2026-11-28T12:00:00Z", vessels={MMSI: _ship(port, 30.0)}, events=tuple(EVENTS)
    )
    html = page.html(state, MMSI, "en")
    assert re.findall(r"data-testid='declaration' data-id='([^']+)' data-current='([^']+)'", html) == [
        ("D-GREEN", "released"), ("D-RED", "inspection_end"), ("D-PCS", "arrival"),
    ]  # fmt: skip
    assert "D-OTHER" not in html
    assert "Lodged 13:35:00 (+1 h 30 min)" in html  # 05:35 UTC in local time (UTC+8), since arrival
    assert "180,000 t · iron ore" in html and "joined by MMSI (cargo row)" in html
    zh = page.html(state, MMSI, "zh")
    assert "查验结束" in zh and "红色" in zh
    # a new customs part in the store is read on the next redraw
    write_frame(
        tmp_path,
        "customs_event",
        pl.DataFrame([_customs(T + timedelta(hours=7), "D-RED", f"{MMSI}-0001", "released", "red")]),
    )
    assert "data-id='D-RED' data-current='released'" in page.html(state, MMSI, "en")


def test_without_stored_cargo_the_page_says_so(port: Any, tmp_path: Path) -> None:
    write_frame(tmp_path, "customs_event", pl.DataFrame([_customs(T, "D1", f"{MMSI}-0001", "arrival", None)]))
    page = VesselPage(port, tmp_path)
    page.load(MMSI, "2026-11-28T05:00:00Z")
    state = OpsState(
        version=1, ts_utc="2026-11-28T05:00:00Z", vessels={MMSI: _ship(port, 30.0)}, events=tuple(EVENTS)
    )
    html = page.html(state, MMSI, "en")
    assert "not in the history store (port_call_cargo is not stored)" in html
    assert page.records is not None and page.records.cargo is None


def test_settings_come_from_the_bundled_ukc_alert_rule() -> None:
    from dashboards.ops.vessel_ukc import bundled_settings

    s = bundled_settings()
    assert (s.outer_pct, s.inner_pct, s.minimum_m, s.squat_method) == (15.0, 10.0, 0.5, "barrass-confined")
    assert dataclasses.replace(s.rule("outer")) == UkcRule(0.15, 0.5)


def test_the_track_covers_the_chosen_period_ending_at_the_shown_time(tmp_path: Path) -> None:
    # One fix of the ship every hour from 00:00 to 10:00 (11 fixes) and one of another ship. Shown at
    # 08:00: a 1 h period holds the fixes of 07:00 and 08:00 (start and end included), 3 h those of
    # 05:00-08:00 (4), 24 h all nine up to 08:00; nothing after the shown time (09:00, 10:00).
    from feeds.schema import AIS_POSITION

    t0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    fixes = [(t0 + timedelta(hours=h), MMSI, 21.0 + h / 100) for h in range(11)]
    fixes.append((t0 + timedelta(hours=8), 413999999, 20.0))
    frame = pl.DataFrame(
        {"ts_utc": [f[0] for f in fixes], "mmsi": [f[1] for f in fixes], "lat": [f[2] for f in fixes],
         "lon": [110.4] * len(fixes), "sog_kn": [10.0] * len(fixes), "cog_deg": [0.0] * len(fixes),
         "heading_deg": [0.0] * len(fixes), "nav_status": [0] * len(fixes), "source": ["test"] * len(fixes)},
        schema=AIS_POSITION,
    )
    write_frame(tmp_path, "ais_position", frame)
    page = VesselPage(load_port_for_track(), tmp_path)
    shown = "2026-11-28T08:00:00Z"
    for hours, lats in ((1, [21.07, 21.08]), (3, [21.05, 21.06, 21.07, 21.08]),
                        (24, [21.0 + h / 100 for h in range(9)])):
        page.load(MMSI, shown, hours=hours)
        assert page.track["lat"].to_list() == pytest.approx(lats)
        assert f"({hours} " in "".join(
            part for part in page.html(OpsState(), MMSI, "en").split("data-testid='track-points'")[1:2]
        )


def load_port_for_track() -> Any:
    from geodata import load_port

    return load_port()
