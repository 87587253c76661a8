"""Every AIS line is a well-formed NMEA 4 tagged sentence that decodes to the vessel's true state."""

from __future__ import annotations

import re
from functools import reduce

import numpy as np
import polars as pl
import pyais

from feeds.simulate import Simulation

LINE = re.compile(r"^\\(?P<tag>s:ZJSIM,c:(?P<c>\d{10}))\*(?P<tcs>[0-9A-F]{2})\\"
                  r"!(?P<body>AIVDM,[^*]*)\*(?P<cs>[0-9A-F]{2})$")


def _xor(text: str) -> int:
    return reduce(lambda a, b: a ^ b, text.encode(), 0)


def test_every_line_has_a_valid_tag_block_and_checksum(sim: Simulation) -> None:
    lines = sim.nmea
    assert len(lines) > 50_000
    for line in lines:
        m = LINE.match(line)
        assert m, line
        assert int(m["tcs"], 16) == _xor(m["tag"]), line
        assert int(m["cs"], 16) == _xor(m["body"]), line
        assert len(line.split("\\")[-1]) <= 82, line  # NMEA 0183 maximum sentence length


def test_lines_are_time_ordered_and_inside_the_window(sim: Simulation) -> None:
    c = np.array([int(line[11:21]) for line in sim.nmea])
    assert (np.diff(c) >= 0).all()
    assert c[0] >= sim.t0 and c[-1] < sim.t1


def test_position_reports_decode_to_the_true_position(sim: Simulation) -> None:
    rng = np.random.default_rng(0)
    lines = [x for x in sim.nmea if "!AIVDM,1,1,," in x]
    pick = rng.choice(len(lines), 3000, replace=False)
    truth = sim.positions
    rows = []
    for i in pick.tolist():
        line = lines[i]
        msg = pyais.decode(line.split("\\")[-1]).asdict()
        if msg["msg_type"] not in (1, 3, 18):
            continue
        rows.append({"ts": int(line[11:21]) * 1_000_000, "mmsi": msg["mmsi"], "dlon": msg["lon"],
                     "dlat": msg["lat"], "dsog": msg["speed"], "dhdg": msg["heading"],
                     "dnav": msg.get("status"), "second": msg["second"]})
    got = pl.DataFrame(rows).with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")),
                                          pl.col("mmsi").cast(pl.UInt32))
    joined = got.join(truth, left_on=["ts", "mmsi"], right_on=["ts_utc", "mmsi"], how="left")
    assert joined.height > 2000
    assert joined["lat"].null_count() == 0, "a decoded report has no true position"
    assert (joined["dlon"] - joined["lon"]).abs().max() < 1e-4
    assert (joined["dlat"] - joined["lat"]).abs().max() < 1e-4
    assert (joined["dsog"] - joined["sog_kn"]).abs().max() < 0.051
    assert ((joined["ts"].dt.epoch("s") % 60) == joined["second"]).all()
    class_a = joined.filter(pl.col("nav_status").is_not_null())
    assert (class_a["dnav"].cast(pl.Int64) == class_a["nav_status"].cast(pl.Int64)).all()


def test_static_messages_decode_to_the_vessel_particulars(sim: Simulation) -> None:
    lines = sim.nmea
    firsts = [i for i, x in enumerate(lines) if "!AIVDM,2,1," in x][:400]
    vessels = {r["mmsi"]: r for r in sim.vessels.iter_rows(named=True)}
    assert firsts
    for i in firsts:
        msg = pyais.decode(lines[i].split("\\")[-1], lines[i + 1].split("\\")[-1]).asdict()
        v = vessels[msg["mmsi"]]
        assert msg["imo"] == v["imo"] and msg["shipname"] == v["name"] and msg["callsign"] == v["callsign"]
        assert abs(msg["to_bow"] + msg["to_stern"] - v["length_m"]) <= 1.0
        assert 1.0 <= msg["draught"] <= 25.5


def test_service_craft_send_class_b_messages(sim: Simulation) -> None:
    craft = sim.vessels.filter(pl.col("ship_class").is_in(["tug", "pilot"]))
    pos = sim.positions.filter(pl.col("mmsi").is_in(craft["mmsi"].implode()))
    assert craft.height >= 6 and pos.height > 0
    assert (pos["msg_type"] == 18).all()
    assert pos.filter(pl.col("sog_kn") > 2).height > 0, "service craft never move"
