"""Port-call detection: DCSA / Just-In-Time events from geofences, speed and navigational status.

`PortCallDetector.update(vessel, report)` is called once per accepted AIS position of a vessel, in
time order, and returns the events that became certain with it. Every event carries the time its
condition *started* (the first report that met it), not the time the dwell or hysteresis ended,
so detections line up with the real moment even though they are confirmed later.

Rules (thresholds in `DetectorConfig`):
- `port_limit_arrival` / `port_limit_departure`: the position crosses `Z-PORT-LIMIT` and stays on
  the new side for `limit_confirm_s` and at least two reports (hysteresis against jitter at the
  line). A vessel first heard inside the limit gets a call without an arrival event (we did not
  see it arrive).
- `pilot_on_board`: inbound (no berth yet in this call) in the pilot boarding area `ANC-PILOT`:
  at the first of two reports slower than `pob_slow_kn`; or, when it never slows, at its entry
  into the area once it leaves it up-channel (chainage grew by `pob_exit_km`).
- `anchorage_arrival`: inside an anchorage (not the pilot area) with SOG < `anchor_sog_kn` held for
  `anchor_dwell_s` — or at once with nav_status 1 (at anchor). Reports between `anchor_sog_kn` and
  `anchor_break_kn` neither start nor break the dwell (a swinging ship). `anchorage_departure`: two
  reports at ≥ `anchor_leave_kn` or more than `anchor_exit_margin_m` outside the anchorage.
- `all_fast`: inside a berth pocket (grown by the index tolerance) with SOG < `berth_sog_kn` for
  `berth_dwell_s` — or at once with nav_status 5 (moored). `departure_from_berth`: two reports at
  ≥ `berth_leave_kn` or more than `berth_exit_margin_m` outside the grown pocket.
After an AIS gap of more than `gap_interpolate_s` (a moored or anchored ship reports only every
3 minutes, and reports get lost), a port-limit crossing takes the time interpolated where the
straight track between the two reports crosses the line, and a stop (anchorage_arrival, all_fast)
the time the ship, at its last reported speed, reached where it lies.
Robustness: positions implying more than `max_speed_kn` over more than `jump_min_m` are single
outliers and are dropped (two agreeing reports after a jump are accepted: the ship really is
there); dwell conditions survive AIS gaps when the reports on both sides meet them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from twin.port import Port
from twin.state import US, VesselState
from twin.zones import PORT_LIMIT_ID

EVENT_KINDS = (
    "port_limit_arrival",
    "anchorage_arrival",
    "anchorage_departure",
    "pilot_on_board",
    "all_fast",
    "departure_from_berth",
    "port_limit_departure",
)

NAV_AT_ANCHOR = 1
NAV_MOORED = 5


@dataclass(frozen=True)
class DetectorConfig:
    """Thresholds of the port-call rules (speeds in knots, times in seconds, distances in metres)."""

    limit_confirm_s: float = 60.0
    pob_slow_kn: float = 8.0
    pob_exit_km: float = 0.3
    anchor_sog_kn: float = 1.0
    anchor_break_kn: float = 2.0
    anchor_dwell_s: float = 600.0
    anchor_leave_kn: float = 1.5
    anchor_exit_margin_m: float = 150.0
    berth_sog_kn: float = 0.3
    berth_break_kn: float = 0.8
    berth_dwell_s: float = 300.0
    berth_leave_kn: float = 0.8
    berth_exit_margin_m: float = 100.0
    max_speed_kn: float = 40.0
    jump_min_m: float = 300.0
    gap_interpolate_s: float = 60.0  # a port-limit crossing in a longer gap gets an interpolated time


@dataclass(frozen=True)
class Report:
    """One accepted AIS position with its location (see `twin.zones.Location`)."""

    ts_us: int
    lon: float
    lat: float
    sog_kn: float | None
    nav_status: int | None
    berth_id: str | None
    anchorage_id: str | None
    in_port_limit: bool
    in_pilot_area: bool
    chainage_km: float | None
    prev_ts_us: int | None = None  # the vessel's previous accepted report, for crossings in a gap
    prev_lon: float | None = None
    prev_lat: float | None = None
    prev_sog_kn: float | None = None


Emit = Callable[[VesselState, int, str, str | None], None]
CallHook = Callable[[VesselState, int], None]
"""emit(vessel, ts_us, event, location_id): records one event of the vessel's current call."""


class PortCallDetector:
    """The rules above, applied one report at a time to a `VesselState` (mutated in place)."""

    def __init__(self, port: Port, config: DetectorConfig, grown_pockets: dict[str, BaseGeometry]) -> None:
        self.config = config
        metric = port.metric

        def grow(geom: BaseGeometry, margin_m: float) -> BaseGeometry:
            out = metric.to_lonlat(metric.to_m(geom).buffer(margin_m))
            shapely.prepare(out)
            return out

        self._anchor_keep = {a.id: grow(a.area, config.anchor_exit_margin_m)
                             for a in port.anchorages.values()}
        self._berth_keep = {b: grow(g, config.berth_exit_margin_m) for b, g in grown_pockets.items()}
        limit = port.zones.get(PORT_LIMIT_ID)
        self._limit_edge = None if limit is None else limit.area.boundary

    def update(self, v: VesselState, r: Report, emit: Emit, open_call: CallHook,
               close_call: CallHook) -> None:
        """Advance the vessel's call by one report, emitting the events it confirms."""
        self._port_limit(v, r, emit, open_call, close_call)
        if v.call_id is None:
            return
        self._pilot(v, r, emit)
        self._anchorage(v, r, emit)
        self._berth(v, r, emit)

    # -- port limit ---------------------------------------------------------------------------
    def _port_limit(self, v: VesselState, r: Report, emit: Emit, open_call: CallHook,
                    close_call: CallHook) -> None:
        if v.limit_inside is None:
            v.limit_inside = r.in_port_limit
            if r.in_port_limit:
                open_call(v, r.ts_us)
            return
        if r.in_port_limit == v.limit_inside:
            v.limit_cand_us, v.limit_cand_n = None, 0
            return
        if v.limit_cand_us is None:
            v.limit_cand_us, v.limit_cand_n = self._crossing_us(r), 0
        v.limit_cand_n += 1
        if v.limit_cand_n < 2 or r.ts_us - v.limit_cand_us < self.config.limit_confirm_s * US:
            return
        since = v.limit_cand_us
        v.limit_inside = r.in_port_limit
        v.limit_cand_us, v.limit_cand_n = None, 0
        if r.in_port_limit:
            open_call(v, since)
            emit(v, since, "port_limit_arrival", None)
        else:
            # a ship leaving the port limit has left any anchorage or berth it was held at
            if v.anchor_id is not None:
                emit(v, v.anchor_leave_us or since, "anchorage_departure", v.anchor_id)
            if v.berth_id is not None:
                emit(v, v.berth_leave_us or since, "departure_from_berth", v.berth_id)
            emit(v, since, "port_limit_departure", None)
            close_call(v, since)

    def _crossing_us(self, r: Report) -> int:
        """When the straight track from the previous report to this one crossed the port limit.

        With reports every few seconds this is the report's own time; after an AIS gap it is the
        time interpolated at the crossing point (constant speed between the two reports), which is
        much closer to the truth than the first report after the gap.
        """
        if (r.prev_ts_us is None or r.prev_lon is None or r.prev_lat is None or self._limit_edge is None
                or r.ts_us - r.prev_ts_us <= self.config.gap_interpolate_s * US):
            return r.ts_us
        track = shapely.LineString([(r.prev_lon, r.prev_lat), (r.lon, r.lat)])
        hit = track.intersection(self._limit_edge)
        if hit.is_empty or track.length == 0:
            return r.ts_us
        first = min(track.project(p) for p in getattr(hit, "geoms", [hit]))
        return r.prev_ts_us + round((r.ts_us - r.prev_ts_us) * first / track.length)

    def _stop_us(self, r: Report, moving_kn: float) -> int:
        """When a ship first found stopped at `r` actually stopped.

        If the previous report was under way (≥ `moving_kn`) and more than `gap_interpolate_s`
        earlier, the ship is taken to have kept that speed straight to where it now lies
        (dead reckoning): the stop is at prev + distance / speed, bounded by the two reports.
        Otherwise (reports close together, or no previous motion) it is the report's own time.
        """
        if (r.prev_ts_us is None or r.prev_lon is None or r.prev_lat is None or r.prev_sog_kn is None
                or r.prev_sog_kn < moving_kn or r.ts_us - r.prev_ts_us <= self.config.gap_interpolate_s * US):
            return r.ts_us
        k = math.cos(math.radians(r.lat))
        dist_m = math.hypot((r.lon - r.prev_lon) * 111_320.0 * k, (r.lat - r.prev_lat) * 110_574.0)
        travel_us = round(dist_m / (r.prev_sog_kn * 1852.0 / 3600.0) * US)
        return min(r.ts_us, r.prev_ts_us + travel_us)

    # -- pilot ----------------------------------------------------------------------------------
    def _pilot(self, v: VesselState, r: Report, emit: Emit) -> None:
        if v.pob_done or v.berthed_this_call or v.anchor_id is not None:
            return
        cfg = self.config
        if r.in_pilot_area:
            if v.pilot_enter_us is None:
                v.pilot_enter_us, v.pilot_enter_km = r.ts_us, r.chainage_km
            if r.sog_kn is not None and r.sog_kn < cfg.pob_slow_kn:
                if v.pilot_slow_us is None:
                    v.pilot_slow_us = r.ts_us
                v.pilot_slow_n += 1
                if v.pilot_slow_n >= 2:
                    self._pob(v, v.pilot_slow_us, emit)
            elif r.sog_kn is not None:
                v.pilot_slow_us, v.pilot_slow_n = None, 0
            return
        if v.pilot_enter_us is None:
            return
        inbound = (r.chainage_km is not None and v.pilot_enter_km is not None
                   and r.chainage_km - v.pilot_enter_km >= cfg.pob_exit_km)
        if inbound and r.in_port_limit:
            self._pob(v, v.pilot_enter_us, emit)
        else:  # left the area seaward or sideways: not a boarding; forget the entry
            v.pilot_enter_us = v.pilot_enter_km = v.pilot_slow_us = None
            v.pilot_slow_n = 0

    def _pob(self, v: VesselState, ts_us: int, emit: Emit) -> None:
        emit(v, ts_us, "pilot_on_board", None)
        v.pob_done = True
        v.pilot_enter_us = v.pilot_enter_km = v.pilot_slow_us = None
        v.pilot_slow_n = 0

    # -- anchorage ------------------------------------------------------------------------------
    def _anchorage(self, v: VesselState, r: Report, emit: Emit) -> None:
        cfg = self.config
        sog = r.sog_kn
        if v.anchor_id is not None:
            outside = not shapely.contains_xy(self._anchor_keep[v.anchor_id], r.lon, r.lat)
            leaving = outside or (sog is not None and sog >= cfg.anchor_leave_kn)
            if not leaving:
                v.anchor_leave_us, v.anchor_leave_n = None, 0
                return
            if v.anchor_leave_us is None:
                v.anchor_leave_us = r.ts_us
            v.anchor_leave_n += 1
            if v.anchor_leave_n >= 2:
                emit(v, v.anchor_leave_us, "anchorage_departure", v.anchor_id)
                v.anchor_id = v.anchor_since_us = v.anchor_leave_us = None
                v.anchor_leave_n = 0
            return
        anc = r.anchorage_id
        slow = sog is not None and sog < cfg.anchor_sog_kn
        nav_anchor = r.nav_status == NAV_AT_ANCHOR and (sog is None or sog < cfg.anchor_sog_kn)
        if anc is None or (sog is not None and sog >= cfg.anchor_break_kn):
            v.anchor_cand_id = v.anchor_cand_us = None
            return
        if not (slow or nav_anchor):
            return  # between the thresholds: a swinging ship neither starts nor breaks the dwell
        if v.anchor_cand_id != anc:
            v.anchor_cand_id, v.anchor_cand_us = anc, self._stop_us(r, cfg.anchor_break_kn)
        assert v.anchor_cand_us is not None
        if nav_anchor or r.ts_us - v.anchor_cand_us >= cfg.anchor_dwell_s * US:
            v.anchor_id, v.anchor_since_us = anc, v.anchor_cand_us
            v.anchor_cand_id = v.anchor_cand_us = None
            v.anchor_leave_us, v.anchor_leave_n = None, 0
            emit(v, v.anchor_since_us, "anchorage_arrival", anc)

    # -- berth ----------------------------------------------------------------------------------
    def _berth(self, v: VesselState, r: Report, emit: Emit) -> None:
        cfg = self.config
        sog = r.sog_kn
        if v.berth_id is not None:
            outside = not shapely.contains_xy(self._berth_keep[v.berth_id], r.lon, r.lat)
            leaving = outside or (sog is not None and sog >= cfg.berth_leave_kn)
            if not leaving:
                v.berth_leave_us, v.berth_leave_n = None, 0
                return
            if v.berth_leave_us is None:
                v.berth_leave_us = r.ts_us
            v.berth_leave_n += 1
            if v.berth_leave_n >= 2:
                emit(v, v.berth_leave_us, "departure_from_berth", v.berth_id)
                v.berth_id = v.berth_since_us = v.berth_leave_us = None
                v.berth_leave_n = 0
                v.departed_berth = True
            return
        berth = r.berth_id
        slow = sog is not None and sog < cfg.berth_sog_kn
        moored = r.nav_status == NAV_MOORED and (sog is None or sog < cfg.berth_sog_kn)
        if berth is None or (sog is not None and sog >= cfg.berth_break_kn):
            v.berth_cand_id = v.berth_cand_us = None
            return
        if not (slow or moored):
            return
        if v.berth_cand_id != berth:
            v.berth_cand_id, v.berth_cand_us = berth, self._stop_us(r, cfg.berth_break_kn)
        assert v.berth_cand_us is not None
        if moored or r.ts_us - v.berth_cand_us >= cfg.berth_dwell_s * US:
            v.berth_id, v.berth_since_us = berth, v.berth_cand_us
            v.berth_cand_id = v.berth_cand_us = None
            v.berth_leave_us, v.berth_leave_n = None, 0
            v.berthed_this_call = True
            v.departed_berth = False
            emit(v, v.berth_since_us, "all_fast", berth)
