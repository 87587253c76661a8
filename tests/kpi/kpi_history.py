"""A small hand-built history of the port (frames built here; fixtures in conftest.py), with every
expected figure worked out in the tests' comments. Times are hours after
T0 = 2026-11-28 00:00 UTC (08:00 in Zhanjiang).

Berths: B1 (terminal T-ORE, area xiashan, iron_ore, quay 400 m), B2 (T-OIL, donghai, crude, 300 m),
B3 (T-ORE, xiashan, iron_ore, 300 m, closed: not operational).
Calls (mmsi, class, length):
  A-1 (101, cargo, 300 m): port_limit_arrival 0, anchorage 1→5 and 6→11 at ANC-1, pilot 11.5,
       all_fast 13 at B1, departure_from_berth 23, port_limit_departure 25; 150 000 t iron ore, 0 TEU;
       terminal reports cargo complete at 21.
  B-1 (202, tanker, 250 m): port_limit_arrival 2, pilot 2.5, all_fast 4 at B2, departure 10, port limit
       departure 12; 80 000 t crude, TEU unknown; its customs declaration D1 exits at 7 (idle proxy).
  C-1 (303, cargo, length unknown): all_fast −5 at B1 (first seen moored), departure 9; tonnes unknown,
       500 TEU, no cargo kind (the berth's: iron_ore).
  D-1 (404, cargo, 200 m, dark since 23): port_limit_arrival 20, anchorage_arrival 21 (still waiting).
  E-1 (505, service, 100 m): all_fast 22 at B2, still at berth.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from feeds.schema import CUSTOMS_EVENT, GATE_EVENT
from twin.kpi import KpiInputs

T0 = datetime(2026, 11, 28, tzinfo=UTC)


def at(hours: float) -> datetime:
    """T0 + hours."""
    return T0 + timedelta(hours=hours)


EVENTS = [
    (0, 101, "A-1", "port_limit_arrival", None), (1, 101, "A-1", "anchorage_arrival", "ANC-1"),
    (5, 101, "A-1", "anchorage_departure", "ANC-1"), (6, 101, "A-1", "anchorage_arrival", "ANC-1"),
    (11, 101, "A-1", "anchorage_departure", "ANC-1"), (11.5, 101, "A-1", "pilot_on_board", None),
    (13, 101, "A-1", "all_fast", "B1"), (23, 101, "A-1", "departure_from_berth", "B1"),
    (25, 101, "A-1", "port_limit_departure", None),
    (2, 202, "B-1", "port_limit_arrival", None), (2.5, 202, "B-1", "pilot_on_board", None),
    (4, 202, "B-1", "all_fast", "B2"), (10, 202, "B-1", "departure_from_berth", "B2"),
    (12, 202, "B-1", "port_limit_departure", None),
    (-5, 303, "C-1", "all_fast", "B1"), (9, 303, "C-1", "departure_from_berth", "B1"),
    (20, 404, "D-1", "port_limit_arrival", None), (21, 404, "D-1", "anchorage_arrival", "ANC-1"),
    (22, 505, "E-1", "all_fast", "B2"),
]


def events() -> pl.DataFrame:
    rows = sorted(EVENTS)
    return pl.DataFrame({
        "ts_utc": [at(r[0]) for r in rows], "mmsi": pl.Series([r[1] for r in rows], dtype=pl.UInt32),
        "call_id": [r[2] for r in rows], "event": [r[3] for r in rows], "location_id": [r[4] for r in rows],
    }, schema_overrides={"location_id": pl.String})


def gate() -> pl.DataFrame:
    # (hours, gate, direction, visit, containers, outcome, processing_s)
    rows = [
        (8.0, "G-IN", "in", "v1", ["CSQU3054383"], "accepted", 60.0),
        (8.5, "G-OUT", "out", "v1", [], "accepted", 20.0),
        (9.0, "G-IN", "in", "v2", ["MSKU1234565", "TGHU7654320"], "accepted", 120.0),
        (10.0, "G-OUT", "out", "v2", [], "accepted", 25.0),
        (9 + 10 / 60, "G-IN", "in", "v3", ["TCLU4100921"], "rejected", 30.0),
        (9.25, "G-OUT", "out", "v3", [], "accepted", 10.0),
        (23 + 50 / 60, "G-IN", "in", "v4", ["OOLU8802139"], "accepted", 40.0),
        (24 + 20 / 60, "G-OUT", "out", "v4", [], "accepted", 15.0),
    ]
    return pl.DataFrame({
        "ts_utc": [at(r[0]) for r in rows], "gate_id": [r[1] for r in rows], "lane": [1] * len(rows),
        "direction": [r[2] for r in rows], "visit_id": [r[3] for r in rows], "truck_id": [None] * len(rows),
        "container_ids": [r[4] for r in rows], "outcome": [r[5] for r in rows],
        "processing_s": [r[6] for r in rows],
    }, schema=GATE_EVENT)


def customs() -> pl.DataFrame:
    # (hours, declaration, call, mode, stage, channel)
    rows = [
        (1.0, "D1", "B-1", "sea", "arrival", None), (1.5, "D1", "B-1", "sea", "lodged", None),
        (2.0, "D1", "B-1", "sea", "risk_assessed", "green"), (3.0, "D1", "B-1", "sea", "released", "green"),
        (7.0, "D1", "B-1", "sea", "exit", "green"),
        (2.0, "D2", None, "sea", "arrival", None), (3.0, "D2", None, "sea", "lodged", None),
        (3.5, "D2", None, "sea", "risk_assessed", "red"), (5.0, "D2", None, "sea", "inspection_start", "red"),
        (7.0, "D2", None, "sea", "inspection_end", "red"), (8.0, "D2", None, "sea", "released", "red"),
        (4.0, "D3", None, "road", "lodged", None), (4.25, "D3", None, "road", "risk_assessed", "green"),
        (5.0, "D3", None, "road", "released", "green"),
        (20.0, "D4", None, "sea", "arrival", None), (21.0, "D4", None, "sea", "lodged", None),
    ]
    return pl.DataFrame({
        "ts_utc": [at(r[0]) for r in rows], "declaration_id": [r[1] for r in rows],
        "call_id": [r[2] for r in rows], "mode": [r[3] for r in rows], "stage": [r[4] for r in rows],
        "channel": [r[5] for r in rows],
    }, schema=CUSTOMS_EVENT)


def inputs() -> KpiInputs:
    berths = pl.DataFrame({
        "berth_id": ["B1", "B2", "B3"], "terminal": ["T-ORE", "T-OIL", "T-ORE"],
        "port_area": ["xiashan", "donghai", "xiashan"], "berth_cargo": ["iron_ore", "crude", "iron_ore"],
        "quay_length_m": [400.0, 300.0, 300.0], "operational": [True, True, False],
    })
    cargo = pl.DataFrame({"call_id": ["A-1", "B-1", "C-1"], "tonnes": [150_000.0, 80_000.0, None],
                          "teu": [0.0, None, 500.0], "cargo": ["iron_ore", "crude", None]})
    vessels = pl.DataFrame({
        "mmsi": pl.Series([101, 202, 303, 404, 505], dtype=pl.UInt32),
        "vessel_class": ["cargo", "tanker", "cargo", "cargo", "service"],
        "length_m": [300.0, 250.0, None, 200.0, 100.0], "dark": [False, False, False, True, False],
        "last_seen_utc": [at(23.9), at(23.9), at(9.5), at(23), at(23.9)],
    })
    sizes = pl.DataFrame({"container_id": ["CSQU3054383", "MSKU1234565", "OOLU8802139"],
                          "size_type": ["22G1", "45G1", "L5G1"]})
    complete = pl.DataFrame({"call_id": ["A-1"], "ts_utc": [at(21)]})
    feed_counts = pl.DataFrame({
        "feed": ["ais", "ais", "gate", "tide"],
        "ts_utc": [at(10), at(23 + 59 / 60), at(10), at(-1)],
        "rows": [50, 10, 4, 3], "rejected": [5, 0, 0, 0],
    })
    return KpiInputs(events=events(), cargo=cargo, vessels=vessels, berths=berths, gate=gate(),
                     customs=customs(), feed_counts=feed_counts, container_sizes=sizes,
                     cargo_complete=complete)
