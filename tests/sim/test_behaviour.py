"""Ships behave as the rules say: reporting intervals, event order, water, anchorages, one-way channel."""

from __future__ import annotations

from itertools import pairwise

import polars as pl
import pyais
import shapely

from feeds.simulate import Simulation
from twin.port import Port

ORDER = ["port_limit_arrival", "pilot_on_board", "anchorage_arrival", "anchorage_departure", "all_fast",
         "departure_from_berth", "port_limit_departure"]


def _nominal(sog_kn: pl.Expr, nav: pl.Expr, msg_type: pl.Expr) -> pl.Expr:
    """ITU-R M.1371 reporting interval (s) of a report, by transceiver class and state."""
    class_a = (pl.when(nav.is_in([1, 5])).then(180).when(sog_kn < 14.5).then(10).otherwise(6))
    class_b = pl.when(sog_kn > 2.5).then(30).otherwise(180)
    return pl.when(msg_type == 18).then(class_b).otherwise(class_a)


def test_reporting_intervals_follow_the_itu_classes(sim: Simulation) -> None:
    pos = sim.positions.sort("mmsi", "ts_utc").with_columns(
        gap_s=pl.col("ts_utc").diff().over("mmsi").dt.total_seconds(),
        nominal=_nominal(pl.col("sog_kn"), pl.col("nav_status"), pl.col("msg_type")),
    ).with_columns(prev_nominal=pl.col("nominal").shift(1).over("mmsi"))
    pairs = pos.filter(pl.col("gap_s").is_not_null())
    # A gap never exceeds the longer of the two nominal intervals (state changes in between).
    too_long = pairs.filter(pl.col("gap_s") > pl.max_horizontal("nominal", "prev_nominal"))
    assert too_long.height == 0, too_long.head()
    # And within one state the gap is exactly the nominal interval, almost everywhere.
    steady = pairs.filter(pl.col("nominal") == pl.col("prev_nominal"))
    share = steady.group_by("nominal").agg((pl.col("gap_s") == pl.col("nominal")).mean().alias("ok"))
    assert set(share["nominal"]) >= {10, 180, 30}
    assert (share["ok"] > 0.95).all(), share


def test_static_data_every_six_minutes(sim: Simulation) -> None:
    lines = sim.nmea
    rows = [(int(x[11:21]), pyais.decode(x.split("\\")[-1], lines[i + 1].split("\\")[-1]).mmsi)
            for i, x in enumerate(lines) if "!AIVDM,2,1," in x]
    frame = pl.DataFrame(rows, schema={"t": pl.Int64, "mmsi": pl.Int64}, orient="row")
    gaps = frame.sort("mmsi", "t").with_columns(gap=pl.col("t").diff().over("mmsi")).drop_nulls()
    assert gaps.height > 1000
    assert (gaps["gap"] == 360).all()
    class_b = [x for x in lines if "!AIVDM,1,1,,A,H" in x or "!AIVDM,1,1,,B,H" in x]  # type 24
    assert len(class_b) > 100


def test_each_call_has_its_events_in_order(sim: Simulation) -> None:
    truth = sim.truth
    assert set(truth["event"]) >= {"port_limit_arrival", "pilot_on_board", "all_fast", "departure_from_berth",
                                   "port_limit_departure"}
    rank = {e: i for i, e in enumerate(ORDER)}
    for (call_id,), g in truth.group_by("call_id"):
        events = g.sort("ts_utc")["event"].to_list()
        ranks = [rank[e] for e in events]
        assert ranks == sorted(ranks), (call_id, events)
        assert len(set(events)) == len(events), (call_id, events)
    calls = sim.calls.select("call_id", "berth_id", "anchorage_id")
    joined = truth.join(calls, on="call_id")
    berth_ev = joined.filter(pl.col("event").is_in(["all_fast", "departure_from_berth"]))
    assert (berth_ev["location_id"] == berth_ev["berth_id"]).all()
    anc_ev = joined.filter(pl.col("event").str.starts_with("anchorage"))
    assert (anc_ev["location_id"] == anc_ev["anchorage_id"]).all()


def test_truth_events_match_what_the_ship_reports(sim: Simulation) -> None:
    """At all_fast the ship is in its berth pocket and reports moored right after."""
    pos = sim.positions
    berths = sim.calls.select("call_id", "berth_id")
    fast = sim.truth.filter(pl.col("event") == "all_fast").join(berths, on="call_id")
    for row in fast.iter_rows(named=True):
        after = pos.filter((pl.col("mmsi") == row["mmsi"]) & (pl.col("ts_utc") >= row["ts_utc"])).head(1)
        if after.height:
            assert after["nav_status"][0] == 5
            assert sim.port.berths[row["berth_id"]].pocket.buffer(1e-4).contains(
                shapely.Point(after["lon"][0], after["lat"][0]))


def test_no_position_is_on_land(sim: Simulation, port: Port) -> None:
    pos = sim.positions
    on_land = shapely.contains_xy(port.land, pos["lon"].to_numpy(), pos["lat"].to_numpy())
    bad = pos.filter(pl.Series(on_land))
    assert bad.height == 0, bad.head()


def test_anchored_ships_lie_inside_their_anchorage(sim: Simulation, port: Port) -> None:
    anchored = sim.positions.filter(pl.col("nav_status") == 1).join(
        sim.calls.select(pl.col("mmsi"), "anchorage_id"), on="mmsi")
    assert anchored.height > 100
    assert anchored["anchorage_id"].null_count() == 0
    for (anc,), g in anchored.group_by("anchorage_id"):
        inside = shapely.contains_xy(port.anchorages[str(anc)].area, g["lon"].to_numpy(), g["lat"].to_numpy())
        assert inside.all(), anc
    # they swing: the heading changes while at anchor
    spread = anchored.group_by("mmsi").agg(pl.col("heading_deg").max() - pl.col("heading_deg").min())
    assert (spread["heading_deg"] > 5).any()


def test_one_way_channel_never_has_big_ships_in_opposite_directions(sim: Simulation, port: Port) -> None:
    # From the planner's own bookings over the whole plan (warm-up included) ...
    spans = sim.planner.one_way
    assert spans, "no ship of 300,000 t or more used the channel"
    for i, (a0, a1, ad) in enumerate(spans):
        for b0, b1, bd in spans[i + 1:]:
            if ad != bd:
                assert a1 <= b0 or b1 <= a0
    # ... and independently from the reported positions of the day.
    big = sim.vessels.filter(pl.col("dwt") >= sim.planner.one_way_dwt)["mmsi"]
    pos = sim.positions.filter(pl.col("mmsi").is_in(big.implode()) & (pl.col("nav_status") == 0))
    if pos.height == 0:
        return
    metric = port.metric
    axis = metric.to_m(port.channel.axis)
    x, y = metric.xy(pos["lon"].to_numpy(), pos["lat"].to_numpy())
    pts = shapely.points(x, y)
    along = shapely.line_locate_point(axis, pts)
    off = shapely.distance(axis, pts)
    frame = pos.with_columns(along=pl.Series(along), off=pl.Series(off)).filter(
        (pl.col("off") < 200) & (pl.col("along") > 100) & (pl.col("along") < axis.length - 100)
    ).sort("mmsi", "ts_utc").with_columns(
        step=pl.col("along").diff().over("mmsi"), minute=pl.col("ts_utc").dt.truncate("1m"),
    ).with_columns(d=pl.when(pl.col("step").abs() > 20).then(pl.col("step").sign()).otherwise(0))
    per_minute = frame.filter(pl.col("d") != 0).group_by("minute").agg(pl.col("d").n_unique().alias("dirs"))
    assert (per_minute["dirs"] <= 1).all()


def test_a_berth_holds_one_ship_at_a_time(sim: Simulation) -> None:
    for berth, spans in sim.planner.berth_busy.items():
        spans = sorted(spans)
        for (_, end), (start, _) in pairwise(spans):
            assert end <= start, berth


def test_ships_at_anchor_keep_their_swing_circles_apart(sim: Simulation) -> None:
    """Two ships anchored at the same time lie ≥ 400 m apart (2 × the largest swing radius)."""
    for spots in sim.planner.anchor_points.values():
        for i, (x, y, t0, t1) in enumerate(spots):
            for x2, y2, s0, s1 in spots[i + 1:]:
                if t0 < s1 and s0 < t1:
                    assert ((x - x2) ** 2 + (y - y2) ** 2) ** 0.5 >= 400.0
