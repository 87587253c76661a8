"""Where scheduling requests come from: a simulated day, or the live engine's state (ops).

- :func:`requests_from_simulation`: a 24 h look-ahead from a simulator's plan at ``t0``: ships at
  anchor or arriving in the horizon are inbound requests (ETA at the pilot boarding area, their berth
  and stay as the simulator chose them); ships at a berth at ``t0`` that are due to sail in the horizon
  are outbound requests; berths held beyond the horizon are ``berth_busy_until``.
- :func:`requests_from_state`: the same from the engine's state (protocol v1 snapshot dict, or any
  object with ``vessels``/``berths`` mappings such as the ops desk's ``OpsState``). Ships at anchor
  (phase ``at_anchor``) are inbound, ready now, berth unknown (the engine does not know it: the transit
  then runs to the inner end, the longest case); ships approaching with ≥ 3 kn are inbound with an ETA
  at the channel's sea end by distance/speed; ships at a berth are outbound with an ESTIMATED ready
  time = all-fast time + the typical stay of their class (``TYPICAL_STAY_H``), or now if that is past.
  DWT is estimated from length (``estimate_dwt``) because AIS does not send it.

Nothing here reads a clock: ``now`` is an argument. Importing reads no file and imports no feed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from twin.port import Port
from twin.schedule import ChannelRules, MovementRequest, PilotRules, SchedulePlan, schedule
from twin.tide import TideLevel

# Typical berth stay by simulator class, hours: mean parcel ÷ handling rate × 1.1 + 3 h (the
# simulator's stay rule and tables, docs/simulator.md). ESTIMATES, used only for ships at berth whose
# departure the twin cannot know.
TYPICAL_STAY_H: dict[str, float] = {
    "vlcc": 35.0, "valemax": 45.0, "capesize": 30.0, "bulk": 25.0, "grain": 23.0, "container": 16.0,
    "product": 8.0, "ro_ro": 8.0, "general": 11.0,
}
DEFAULT_STAY_H = 12.0
# (length_m, dwt) of typical bulk carriers/tankers (twin.ukc_cli's table), extended down by the cube law
_LENGTH_DWT = ((100.0, 5_000.0), (150.0, 17_000.0), (190.0, 50_000.0), (245.0, 100_000.0),
               (275.0, 150_000.0), (300.0, 200_000.0), (330.0, 300_000.0), (360.0, 400_000.0))
CB_BY_CLASS: dict[str, float] = {"vlcc": 0.83, "valemax": 0.86, "capesize": 0.85, "bulk": 0.84,
                                 "grain": 0.81, "container": 0.65, "product": 0.80, "ro_ro": 0.61,
                                 "general": 0.74}
APPROACH_MIN_KN = 3.0


def estimate_dwt(length_m: float) -> float:
    """Deadweight (t) from length (m): interpolated in a table of typical bulk carriers and tankers
    (an ESTIMATE; container ships and ro-ros carry less per metre)."""
    lengths, dwts = zip(*_LENGTH_DWT, strict=True)
    if length_m < lengths[0]:
        return dwts[0] * (length_m / lengths[0]) ** 3
    return float(np.interp(length_m, lengths, dwts))


def _utc_s(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _vessel_rows(state: Any) -> list[Mapping[str, Any]]:
    """Vessel records of a protocol snapshot dict ({"columns", "rows"}) or a mapping of records."""
    vessels = state.get("vessels") if isinstance(state, Mapping) else getattr(state, "vessels", None)
    if vessels is None:
        return []
    if isinstance(vessels, Mapping) and "columns" in vessels:
        cols = list(vessels["columns"])
        return [dict(zip(cols, row, strict=True)) for row in vessels.get("rows", [])]
    if isinstance(vessels, Mapping):
        return list(vessels.values())
    return list(vessels)


def _berth_rows(state: Any) -> list[Mapping[str, Any]]:
    berths = state.get("berths") if isinstance(state, Mapping) else getattr(state, "berths", None)
    if berths is None:
        return []
    return list(berths.values()) if isinstance(berths, Mapping) else list(berths)


def requests_from_state(port: Port, state: Any, now_s: float, *, hours: float = 24.0
                        ) -> tuple[list[MovementRequest], dict[str, float]]:
    """Inbound and outbound requests of the next ``hours`` from the engine's state at ``now_s`` (UNIX s).

    Returns (requests, berth_busy_until): a berth held by a ship whose estimated ready time lies beyond
    the horizon is busy until then. Vessels without a draught or length are left out (the UKC needs
    them). Raises nothing for unknown phases: they are not movements.
    """
    ch = port.channel
    sea_km = ch.axis_chainage_km[0]
    sea_lon, sea_lat = ch.position_at(sea_km)
    berth_of = {int(b["mmsi"]): b for b in _berth_rows(state) if b.get("mmsi") is not None}
    reqs: list[MovementRequest] = []
    busy: dict[str, float] = {}
    horizon = now_s + hours * 3600.0
    for v in _vessel_rows(state):
        draught, length = v.get("draught_m"), v.get("length_m")
        phase, mmsi = v.get("phase"), int(v["mmsi"])
        if not draught or not length or phase not in ("at_anchor", "approaching", "at_berth"):
            continue
        cls = str(v.get("ship_class") or "")
        common: dict[str, Any] = {
            "mmsi": mmsi, "name": str(v.get("name") or mmsi), "dwt": estimate_dwt(float(length)),
            "draught_m": float(draught), "length_m": float(length),
            "beam_m": float(v.get("beam_m") or float(length) / 6.5), "cb": CB_BY_CLASS.get(cls, 0.82)}
        if phase == "at_anchor":
            km = None
            if v.get("lon") is not None and v.get("lat") is not None:
                km = float(np.clip(ch.chainage_at(float(v["lon"]), float(v["lat"]))[0], sea_km,
                                   ch.axis_chainage_km[-1]))
            reqs.append(MovementRequest(direction="in", earliest_s=now_s, from_km=km, **common))
        elif phase == "approaching":
            sog = float(v.get("sog_kn") or 0.0)
            if sog < APPROACH_MIN_KN or v.get("lon") is None:
                continue
            x, y = port.metric.xy(np.array([v["lon"], sea_lon]), np.array([v["lat"], sea_lat]))
            eta = now_s + float(np.hypot(x[1] - x[0], y[1] - y[0])) / (sog * 1852.0 / 3600.0)
            if eta <= horizon:
                reqs.append(MovementRequest(direction="in", earliest_s=eta, estimated=True, **common))
        else:
            b = berth_of.get(mmsi)
            berth_id = str(b["id"]) if b is not None and b.get("id") in port.berths else None
            since = _utc_s(b.get("since_utc")) if b is not None else None
            ready = max(now_s, (since or now_s) + TYPICAL_STAY_H.get(cls, DEFAULT_STAY_H) * 3600.0)
            if ready > horizon:
                if berth_id:
                    busy[berth_id] = ready
                continue
            reqs.append(MovementRequest(direction="out", earliest_s=ready, berth_id=berth_id, estimated=True,
                                        **common))
    return reqs, busy


def requests_from_simulation(sim: Any, t0_s: float, hours: float = 24.0
                             ) -> tuple[list[MovementRequest], dict[str, float]]:
    """Requests of a simulator plan (``feeds.simulate.Simulation``) for [t0, t0 + hours).

    Inbound: ships whose pilot boarding lies in the horizon, or who are at anchor at t0 (ready at t0,
    from the anchorage's chainage); their berth and stay (all fast → departure) are the simulator's.
    Outbound: ships alongside at t0 whose departure lies in the horizon, ready at the simulator's
    departure time. Ships already in the channel at t0 are left out. Returns (requests, berth_busy_until).
    """
    port = sim.port
    t1 = t0_s + hours * 3600.0
    reqs: list[MovementRequest] = []
    busy: dict[str, float] = {}
    for call in sim._calls:
        ship = call.ship
        pob = call.event_time("pilot_on_board")
        fast = call.event_time("all_fast")
        dep = call.event_time("departure_from_berth")
        if pob is None or fast is None or dep is None:
            continue
        common: dict[str, Any] = {
            "mmsi": ship.mmsi, "name": ship.name, "dwt": ship.dwt, "length_m": ship.length_m,
            "beam_m": ship.beam_m, "cb": ship.cb, "berth_id": call.berth_id, "call_id": call.call_id}
        anc0, anc1 = call.event_time("anchorage_arrival"), call.event_time("anchorage_departure")
        at_anchor = anc0 is not None and anc1 is not None and anc0 <= t0_s < anc1
        if t0_s <= pob < t1 or at_anchor:
            km = None
            if at_anchor:
                leg = next(lg for lg in call.legs if lg.kind == "anchor")
                assert leg.point is not None
                lon, lat = port.metric.lonlat(np.array([leg.point[0]]), np.array([leg.point[1]]))
                km = float(np.clip(port.channel.chainage_at(float(lon[0]), float(lat[0]))[0],
                                   port.channel.axis_chainage_km[0], port.channel.axis_chainage_km[-1]))
            reqs.append(MovementRequest(direction="in", earliest_s=max(pob, t0_s),
                                        draught_m=call.draught_in_m, stay_h=(dep - fast) / 3600.0,
                                        from_km=km, **common))
        elif fast < t0_s <= dep:
            if dep < t1:
                reqs.append(MovementRequest(direction="out", earliest_s=dep, draught_m=call.draught_out_m,
                                            **common))
            else:
                busy[call.berth_id] = max(busy.get(call.berth_id, 0.0), dep)
    reqs.sort(key=lambda r: (r.earliest_s, r.mmsi))
    return reqs, busy


def label_estimates(requests: Sequence[MovementRequest]) -> list[str]:
    """Notes for a report: which figures are estimates."""
    notes = ["DWT is estimated from length (AIS does not carry it)"] if requests else []
    if any(r.direction == "out" and r.estimated for r in requests):
        notes.append("ready-to-sail times of ships at berth are ESTIMATES: all-fast time + typical stay "
                     "of the class (twin.schedule_demand.TYPICAL_STAY_H)")
    return notes


def proposed_sequence(port: Port, state: Any, now_s: float, tide: TideLevel, *, method: str = "optimised",
                      pilots: PilotRules | None = None, rules: ChannelRules | None = None,
                      hours: float = 24.0) -> SchedulePlan:
    """The proposed channel sequence for the next ``hours`` from the engine's state at ``now_s`` (UNIX s):
    :func:`requests_from_state`, then :func:`twin.schedule.schedule` with ``method``. Ships at berth carry
    ``request.estimated`` (their ready time is an estimate); each movement says why it waits."""
    requests, busy = requests_from_state(port, state, now_s, hours=hours)
    return schedule(port, requests, tide, method=method, rules=rules, pilots=pilots, berth_busy_until=busy)
