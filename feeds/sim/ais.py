"""What the AIS transponders of the planned vessels transmit during the window.

Reporting intervals (ITU-R M.1371-5 Annex 1, Tables 1 and 2): class A under way 0–14 kn every
10 s, 14–23 kn every 6 s, at anchor or moored (not faster than 3 kn) every 3 min; class B
"CS" faster than 2 kn every 30 s, otherwise every 3 min. Static data (type 5 for class A,
type 24 A+B for class B) every 6 min. Reports of one vessel fall on a grid offset by a
per-vessel phase, so that transmissions spread over the second hand like real slots, plus one
report at the first whole second of every change of state (leg), so that no gap ever exceeds the
interval of the state the vessel was in.

Class A uses message type 1 under way and type 3 at anchor or moored (a choice: both are
scheduled position reports; type 3 marks the ITDMA access many transponders use when slow).
Under way the heading is the course plus a little yaw (σ 1°), SOG the planned speed plus noise
(σ 0.1 kn); at anchor the ship swings around its anchor with the tidal stream (±35° over an M2
period, radius 100 m + 0.3 L, at most 200 m), nav status 1; moored ships report nav status 5.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from feeds.schema import AIS_POSITION, conform
from feeds.sim import nmea
from feeds.sim.plan import KN, Leg

if TYPE_CHECKING:
    from feeds.sim.core import Simulation

COLS = ("t", "x", "y", "sog", "cog", "hdg", "nav", "type")
STATIC_PHASES = 360  # static data every 6 min, at a per-vessel offset (mmsi mod 360 s)
# Destinations broadcast after departure (UN/LOCODE): the trades of the port's main cargoes
NEXT_PORTS = ("SGSIN", "CNSHA", "CNNSA", "AUPHE", "BRTUB", "IDJKT", "MYPKG", "CNHAK", "CNQZH", "VNSGN")


def _interval(kind: str, v_kn: float, class_a: bool) -> int:
    if class_a:
        if kind != "move":
            return 180
        return 10 if v_kn < 14.0 else 6 if v_kn < 23.0 else 2
    return 30 if kind == "move" and v_kn > 2.0 else 180


def sample(legs: list[Leg], t0: float, t1: float, phase: int, class_a: bool, length_m: float,
           rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Report times and true states of one vessel in [t0, t1) (metres, knots, degrees)."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in COLS}
    swing_r = min(100.0 + 0.3 * length_m, 200.0)
    for leg in legs:
        a, b = max(leg.t0, t0), min(leg.t1, t1)
        if b <= a:
            continue
        v = 0.0
        if leg.kind == "move" and leg.path is not None:
            v = leg.path.length_m / (leg.t1 - leg.t0)
        iv = _interval(leg.kind, v / KN, class_a)
        # A transponder reports as soon as its state changes, then on its own slot grid.
        start = math.ceil(a)
        first = math.ceil((a - phase) / iv) * iv + phase
        grid = np.arange(first, b, iv, dtype=np.int64)
        t = np.concatenate([[start] if start < b else [], grid[grid > start]]).astype(np.int64)
        n = t.size
        if n == 0:
            continue
        if leg.kind == "move" and leg.path is not None:
            x, y, course = leg.path.at(v * (t - leg.t0))
            sog = np.maximum(v / KN + rng.normal(0, 0.1, n), 0.0)
            cog = course
            hdg = (course + rng.normal(0, 1.0, n)) % 360.0
            nav = np.zeros(n, np.int64)
            mtype = np.ones(n, np.int64)
        elif leg.kind == "anchor" and leg.point is not None:
            h = leg.heading_deg + 35.0 * np.sin(2 * np.pi * (t - leg.t0) / (12.4206012 * 3600.0) + phase)
            hr = np.radians(h)
            x = leg.point[0] - swing_r * np.sin(hr)
            y = leg.point[1] - swing_r * np.cos(hr)
            sog = np.round(np.abs(rng.normal(0, 0.05, n)), 1)
            hdg = h % 360.0
            cog = (h + rng.normal(0, 5.0, n)) % 360.0
            nav = np.ones(n, np.int64)
            mtype = np.full(n, 3, np.int64)
        else:
            assert leg.point is not None
            x = np.full(n, leg.point[0])
            y = np.full(n, leg.point[1])
            sog = np.zeros(n)
            hdg = np.full(n, leg.heading_deg % 360.0)
            cog = hdg.copy()
            nav = np.full(n, 5 if leg.kind == "moored" else 15, np.int64)
            mtype = np.full(n, 3 if leg.kind == "moored" else 18, np.int64)
        if not class_a:
            mtype = np.full(n, 18, np.int64)
            nav = np.full(n, 15, np.int64)
        for k, arr in zip(COLS, (t, x, y, sog, cog, hdg, nav, mtype), strict=True):
            parts[k].append(np.asarray(arr))
    return {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.items()}


def encode_all(sim: Simulation) -> tuple[np.ndarray, list[str], pl.DataFrame]:
    """(sorted line times, lines, true positions frame) for the whole window of `sim`."""
    rng = sim._rng["ais"]
    t0, t1 = sim.t0, sim.t1
    metric = sim.port.metric
    pos: dict[str, list[np.ndarray]] = {k: [] for k in (*COLS, "mmsi")}
    statics: list[tuple[np.ndarray, int, str, dict[str, object]]] = []  # (times, mmsi, kind, fields)

    vessels: list[tuple[int, list[Leg], bool, float]] = [(c.ship.mmsi, c.legs, True, c.ship.length_m)
                                                          for c in sim._calls]
    vessels += [(c.mmsi, c.legs, False, c.length_m) for c in sim._craft]
    for mmsi, legs, class_a, length in vessels:
        s = sample(legs, t0, t1, mmsi % 10, class_a, length, rng)
        for k in COLS:
            pos[k].append(s[k])
        pos["mmsi"].append(np.full(s["t"].size, mmsi, np.int64))
        a, b = max(legs[0].t0, t0), min(legs[-1].t1, t1)
        ph = mmsi % STATIC_PHASES
        first = math.ceil((a - ph) / 360) * 360 + ph
        st = np.arange(first, b, 360, dtype=np.int64)
        statics.append((st[st >= a], mmsi, "A" if class_a else "B", {}))
    p = {k: np.concatenate(v) for k, v in pos.items()}
    lon, lat = metric.lonlat(p["x"], p["y"])
    p["sog"] = np.round(p["sog"], 1)

    chunks_t: list[np.ndarray] = []
    chunks_key: list[np.ndarray] = []
    chunks_lines: list[list[str]] = []

    def add(t: np.ndarray, mmsi: np.ndarray, sub: int, lines: list[str]) -> None:
        chunks_t.append(t)
        chunks_key.append(mmsi * 8 + sub)
        chunks_lines.append(lines)

    chan = np.where(np.arange(p["t"].size) % 2 == 0, "A", "B")
    a_mask = p["type"] != 18
    for mask, fields in (
        (a_mask, lambda m: nmea.position_fields(p["type"][m], p["mmsi"][m], p["nav"][m], p["sog"][m], lon[m],
                                                lat[m], p["cog"][m], p["hdg"][m], p["t"][m] % 60)),
        (~a_mask, lambda m: nmea.class_b_fields(p["mmsi"][m], p["sog"][m], lon[m], lat[m], p["cog"][m],
                                                p["hdg"][m], p["t"][m] % 60)),
    ):
        if mask.any():
            payload, fill = nmea.pack(fields(mask))
            add(p["t"][mask], p["mmsi"][mask], 0, nmea.sentences(p["t"][mask], payload, fill, chan[mask]))

    by_mmsi_call = {c.ship.mmsi: c for c in sim._calls}
    craft = {c.mmsi: c for c in sim._craft}
    a_rows: list[tuple[int, int, object]] = []
    b_rows: list[tuple[int, int]] = []
    for times, mmsi, kind, _ in statics:
        for t in times.tolist():
            (a_rows if kind == "A" else b_rows).append((t, mmsi))  # type: ignore[arg-type]
    if a_rows:
        ts = np.array([r[0] for r in a_rows], np.int64)
        mm = np.array([r[1] for r in a_rows], np.int64)
        calls = [by_mmsi_call[int(m)] for m in mm]
        ships = [c.ship for c in calls]
        dep = [c.event_time("departure_from_berth") or math.inf for c in calls]
        after = ts >= np.array(dep)
        pob = [c.event_time("pilot_on_board") or c.t_start for c in calls]
        eta = [(0, 0, 24, 60) if aft else _eta(e) for aft, e in zip(after.tolist(), pob, strict=True)]
        dest = [NEXT_PORTS[int(s.mmsi) % len(NEXT_PORTS)] if aft else sim.port.unlocode
                for s, aft in zip(ships, after.tolist(), strict=True)]
        draught = [c.draught_out_m if aft else c.draught_in_m
                   for c, aft in zip(calls, after.tolist(), strict=True)]
        bow = [min(round(s.length_m * 0.85), 511) for s in ships]
        stern = [min(round(s.length_m) - b, 511) for s, b in zip(ships, bow, strict=True)]
        half = [min(round(s.beam_m / 2), 63) for s in ships]
        payload, fill = nmea.pack(nmea.static_fields(
            mm.tolist(), [s.imo for s in ships], [s.callsign for s in ships], [s.name for s in ships],
            [s.ship_type for s in ships], bow, stern, half, half, eta, draught, dest))
        ch = np.where(np.arange(ts.size) % 2 == 0, "A", "B")
        seq = np.arange(ts.size) % 10
        add(ts, mm, 1, nmea.sentences(ts, payload[:, :60], 0, ch, 2, 1, seq))
        add(ts, mm, 2, nmea.sentences(ts, payload[:, 60:], fill, ch, 2, 2, seq))
    if b_rows:
        ts = np.array([r[0] for r in b_rows], np.int64)
        mm = np.array([r[1] for r in b_rows], np.int64)
        cs = [craft[int(m)] for m in mm]
        bow = [round(c.length_m * 0.3) for c in cs]
        stern = [round(c.length_m) - b for c, b in zip(cs, bow, strict=True)]
        half = [round(c.beam_m / 2) for c in cs]
        ch = np.where(np.arange(ts.size) % 2 == 0, "B", "A")
        for part in (0, 1):
            payload, fill = nmea.pack(nmea.type24_fields(
                part, mm.tolist(), [c.name for c in cs], [c.ship_type for c in cs], [c.callsign for c in cs],
                bow, stern, half, half))
            add(ts, mm, 3 + part, nmea.sentences(ts, payload, fill, ch))

    t_all = np.concatenate(chunks_t)
    key = np.concatenate(chunks_key)
    order = np.lexsort((key, t_all))
    flat = [line for chunk in chunks_lines for line in chunk]
    lines = [flat[i] for i in order.tolist()]

    porder = np.lexsort((p["mmsi"], p["t"]))
    frame = pl.DataFrame({
        "ts_utc": pl.Series(p["t"][porder] * 1_000_000).cast(pl.Datetime("us", "UTC")),
        "mmsi": p["mmsi"][porder], "lat": lat[porder], "lon": lon[porder], "sog_kn": p["sog"][porder],
        "cog_deg": p["cog"][porder], "heading_deg": np.round(p["hdg"][porder]) % 360,
        "nav_status": p["nav"][porder],
        "source": ["ZJSIM"] * porder.size,
    }, strict=False).with_columns(
        pl.when(pl.col("nav_status") != 15).then(pl.col("nav_status")).alias("nav_status"))
    frame = conform(frame, AIS_POSITION).with_columns(pl.Series("msg_type", p["type"][porder], pl.UInt8))
    return t_all[order], lines, frame



def _eta(t: float) -> tuple[int, int, int, int]:
    d = datetime.fromtimestamp(t, UTC)
    return d.month, d.day, d.hour, d.minute
