"""The vessel page's keel clearance: net UKC now, the least UKC along the rest of the route if the
ship sailed now, and the next tidal window for that route (twin.ukc, twin.windows).

UKC now is `twin.ukc_live.live_ukc_of`, the computation the `ukc` alert rule makes, with the same
settings (`twin.ukc_live.bundled_settings`: the bundled alert rules' `ukc` rule, so a twin run with
another rules file alerts under other settings than the desk shows). Inputs, all shown on the page:
- the ship: position, AIS-reported draught, SOG and class from the shown state (live or
  replayed). No draught, no UKC: nothing is estimated in its place; Cb and a missing beam by class;
- the water: the port's bathymetry grid (an estimated model) at the ship's position (alongside,
  where the grid's nearest cell is the quay and has no depth, the berth's design depth); the rule
  part: the channel segment's, else inner in a port area, else outer; the port's harmonic tide
  prediction at the shown time plus the tide gauge's surge from the stream's `feeds.tide` entry
  (`level_m`, `last_utc`, `stale`), as the alert adds it;
- along the route: the channel's design depths (port model) as `twin ukc window` uses them, and the
  tide prediction alone (the surge now says little about the surge hours ahead).

The route: a ship at berth (or whose latest event is `all_fast`) sails out from the point abeam its
berth (the berth's design depth, then the channel) to K0; a ship outbound sails from its chainage to
K0; any other ship sails in from its chainage to the channel's inner end (the engine does not send
the destination berth); a ship that has left the port limit has no route. Speed along the route:
the SOG when at least `UNDERWAY_KN`, else `ROUTE_SPEED_KN`.

The route and window choices (direction, speed) are the desk's; the twin's files are read on first
use, not at import.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import shapely
import xarray as xr

from twin.port import ChannelSegment, Port
from twin.tide import TideModel
from twin.ukc import LiveUkc, UkcRule, UkcStatus, Vessel, classify, status_of
from twin.ukc_live import UkcSettings, bundled_settings, live_ukc_of, observed_surge_m, tide_at_us
from twin.windows import RoutePoint, Window, passing_offsets_s, point_margin_m, transit_windows

ROUTE_STEP_KM = 0.5
ROUTE_SPEED_KN = 10.0  # passage speed assumed for a ship not underway (as `twin ukc window` examples)
UNDERWAY_KN = 4.0
WINDOW_SEARCH_H = 36.0
WINDOW_STEP_S = 60.0

Direction = Literal["inbound", "outbound"]
INBOUND_EVENTS = {"port_limit_arrival", "anchorage_arrival", "anchorage_departure", "pilot_on_board"}
OUTBOUND_EVENTS = {"departure_from_berth", "port_limit_departure"}


@lru_cache(maxsize=2)
def _depth(path: str) -> xr.DataArray:
    from twin.bathymetry import load_bathymetry  # reads a file: only on first use

    return load_bathymetry(path)


@lru_cache(maxsize=2)
def _tide(path: str) -> TideModel:
    from twin.tide import read_constituents_toml  # reads a file: only on first use

    return read_constituents_toml(path)


def port_tide(port: Port) -> TideModel:
    """The port's bundled tide model, read once per process."""
    return _tide(port.files["tide"])


def port_water(port: Port) -> tuple[xr.DataArray, TideModel]:
    """The port's bathymetry grid (m below CD) and tide model, read once per process."""
    return _depth(port.files["bathymetry"]), _tide(port.files["tide"])


@dataclass(frozen=True)
class Place:
    """Where the ship is on the channel: chainage, the segment it is inside (if any), rule part."""

    chainage_km: float
    offset_m: float
    segment: ChannelSegment | None
    part: str
    zone_id: str | None = None


def place_of(port: Port, lon: float, lat: float, zone_id: str | None) -> Place:
    """Chainage by projection on the axis; the segment whose polygon holds the point (the engine's
    geofence); the rule's part: the segment's, else `inner` in a port area, else `outer`."""
    km, offset = port.channel.chainage_at(lon, lat)
    point = shapely.Point(lon, lat)
    seg = next((s for s in port.channel.segments if s.area.contains(point)), None)
    if seg is not None:
        part = seg.part
    else:
        zone = port.zones.get(zone_id or "")
        part = "inner" if zone is not None and zone.kind == "port_area" else "outer"
    return Place(km, offset, seg, part, zone_id)


def direction_of(
    row: Mapping[str, Any], latest_event: Mapping[str, Any] | None, port: Port, km: float
) -> tuple[Direction, str | None]:
    """(direction, berth id it sails from or None). Phase first, then the ship's latest event,
    then its course against the channel axis; inbound when nothing tells."""
    phase = row.get("phase")
    ev = None if latest_event is None else latest_event.get("event")
    berth = None
    if ev == "all_fast" and latest_event is not None:
        berth = latest_event.get("location_id")
    if phase == "at_berth" or (phase is None and ev == "all_fast"):
        return "outbound", berth
    if phase == "departing":
        return "outbound", None
    if phase in ("approaching", "at_anchor"):
        return "inbound", None
    if ev in OUTBOUND_EVENTS:
        return "outbound", None
    if ev in INBOUND_EVENTS:
        return "inbound", None
    cog = row.get("cog_deg")
    if cog is not None and row.get("sog_kn") and float(row["sog_kn"]) >= UNDERWAY_KN:
        lo, hi = port.channel.axis_chainage_km[0], port.channel.axis_chainage_km[-1]
        a = min(max(km, lo), hi - 0.5)
        x0, y0 = port.channel.position_at(a)
        x1, y1 = port.channel.position_at(a + 0.5)
        axis = math.degrees(math.atan2((x1 - x0) * math.cos(math.radians(y0)), y1 - y0)) % 360
        diff = abs((float(cog) - axis + 180) % 360 - 180)
        return ("inbound" if diff < 90 else "outbound"), None
    return "inbound", None


def route_points(
    port: Port,
    settings: UkcSettings,
    start_km: float,
    direction: Direction,
    speed_kn: float,
    berth_id: str | None = None,
) -> list[RoutePoint]:
    """Control points from `start_km` (clamped to the channel) to K0 (outbound) or the inner end
    (inbound), every `ROUTE_STEP_KM` and at segment boundaries; the first point is the ship's own
    chainage, or its berth (the berth's design depth, inner rule) when `berth_id` is a known berth."""
    ch = port.channel
    lo, hi = ch.axis_chainage_km[0], ch.axis_chainage_km[-1]
    km = min(max(start_km, lo), hi)
    cps = ch.control_points(ROUTE_STEP_KM)
    ahead = (
        [cp for cp in cps if cp.chainage_km > km]
        if direction == "inbound"
        else [cp for cp in reversed(cps) if cp.chainage_km < km]
    )
    seg = ch.segment_at(km)
    lon, lat = ch.position_at(km)
    points = []
    berth = port.berths.get(berth_id or "")
    if berth is not None:
        c = berth.quay.centroid
        points.append(
            RoutePoint(
                km,
                berth.design_depth_m,
                settings.rule("inner"),
                speed_kn,
                lon=c.x,
                lat=c.y,
                zone="inner",
                point_id=berth.id,
            )
        )
    points.append(
        RoutePoint(
            km,
            seg.design_depth_m,
            settings.rule(seg.part),
            speed_kn,
            channel_width_m=seg.width_m,
            lon=lon,
            lat=lat,
            zone=seg.part,
            point_id=seg.id,
        )
    )
    points += [
        RoutePoint(
            cp.chainage_km,
            cp.design_depth_m,
            settings.rule(cp.part),
            speed_kn,
            channel_width_m=cp.width_m,
            lon=cp.lon,
            lat=cp.lat,
            zone=cp.part,
            point_id=cp.segment_id,
        )
        for cp in ahead
    ]
    return points


@dataclass(frozen=True)
class RouteUkc:
    """The rest of the route if the ship sailed at `departure_utc`, and the next tidal window."""

    direction: Direction
    berth_id: str | None
    departure_utc: datetime
    start_km: float
    end_km: float
    speed_kn: float
    transit_s: float
    min_net_ukc_m: float
    min_required_m: float
    min_status: UkcStatus
    min_chainage_km: float
    min_point_id: str
    min_passing_utc: datetime
    window: Window | None  # the first window ending after the departure (may hold it: open now)
    search_h: float
    warnings: tuple[str, ...]

    @property
    def window_open_now(self) -> bool:
        """True when the departure time lies inside `window`."""
        return self.window is not None and as_utc(self.window.start) <= self.departure_utc


@dataclass(frozen=True)
class VesselUkc:
    """Everything the UKC section shows; `missing` names what prevented a figure (text key).
    `ts_utc` is None only when the desk has no twin time yet."""

    ts_utc: datetime | None
    draught_m: float | None
    missing: str | None = None
    vessel: Vessel | None = None
    place: Place | None = None
    rule: UkcRule | None = None
    now: LiveUkc | None = None
    depth_source: str = "bathymetry"  # or "berth": the berth's design depth where the grid has none
    route: RouteUkc | None = None
    surge_m: float = 0.0  # the tide gauge's residual in `now` (0: not used, see `surge_of`)


def _np(t: datetime) -> np.datetime64:
    return np.datetime64(t.replace(tzinfo=None), "us")


def _us(t: datetime) -> int:
    """An aware datetime as µs since the epoch (exact)."""
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def surge_of(
    tide_feed: Mapping[str, Any] | None, settings: UkcSettings, tide_at: Callable[[int], float]
) -> float:
    """The gauge's surge from the stream's tide feed entry (`feeds.tide`: `level_m`, `last_utc`,
    `stale`; docs/protocol.md), as the UKC alert takes it (`twin.ukc_live.observed_surge_m`);
    0 when the entry is missing or has no level (an engine older than the key)."""
    feed = tide_feed or {}
    level, last = feed.get("level_m"), feed.get("last_utc")
    last_us = None if not isinstance(last, str) else _us(datetime.fromisoformat(last.replace("Z", "+00:00")))
    level_m = None if level is None else float(level)
    return observed_surge_m(settings, level_m, last_us, bool(feed.get("stale", True)), tide_at)


def as_utc(t: np.datetime64) -> datetime:
    """A numpy datetime64 (UTC) as an aware datetime, to the microsecond."""
    us = int(np.asarray(t, dtype="datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def route_ukc(
    points: Sequence[RoutePoint],
    ship: Vessel,
    tide: TideModel,
    departure: datetime,
    squat_method: str,
    direction: Direction,
    berth_id: str | None,
) -> RouteUkc:
    """Least net UKC over `points` at their passing times for a departure at `departure` (aware
    UTC), and the first departure window (twin.windows.transit_windows over `WINDOW_SEARCH_H`)
    that ends after it."""
    offsets = passing_offsets_s(points)
    when = _np(departure) + (offsets * 1e6).astype("timedelta64[us]")
    levels = np.asarray(tide.level_m(when), dtype=np.float64)
    nets = []
    for k, p in enumerate(points):
        _m, net, _w = point_margin_m(p, ship, levels[k : k + 1], squat_method)
        nets.append(float(net[0]))
    i = int(np.nanargmin(nets))
    required = points[i].rule.required_m(ship.draught_m)
    code = int(classify(np.array([nets[i]]), required, points[i].rule.hard_minimum_m)[0])
    start = _np(departure)
    end = start + np.timedelta64(int(WINDOW_SEARCH_H * 3600), "s")
    found = transit_windows(points, ship, tide, start, end, step_s=WINDOW_STEP_S, squat_method=squat_method)
    window = next((w for w in found.windows if w.end > start), None)
    return RouteUkc(
        direction=direction,
        berth_id=berth_id,
        departure_utc=departure,
        start_km=points[0].chainage_km,
        end_km=points[-1].chainage_km,
        speed_kn=points[0].speed_kn,
        transit_s=float(offsets[-1]),
        min_net_ukc_m=nets[i],
        min_required_m=required,
        min_status=status_of(code),
        min_chainage_km=points[i].chainage_km,
        min_point_id=points[i].point_id,
        min_passing_utc=as_utc(when[i]),
        window=window,
        search_h=WINDOW_SEARCH_H,
        warnings=tuple(found.warnings),
    )


def vessel_ukc(
    port: Port,
    row: Mapping[str, Any],
    ts_utc: datetime,
    latest_event: Mapping[str, Any] | None = None,
    berth_id: str | None = None,
    settings: UkcSettings | None = None,
    water: tuple[xr.DataArray, TideModel] | None = None,
    cache: dict[tuple[Any, ...], RouteUkc] | None = None,
    tide_feed: Mapping[str, Any] | None = None,
) -> VesselUkc:
    """UKC now and along the rest of the route for one vessel row at the shown time `ts_utc`.

    UKC now is at `ts_utc`; the route and its window are for a departure at `ts_utc` floored to the
    minute (so `cache`, one entry kept, spares the ~0.3 s window search on refreshes within a
    minute). `latest_event` is the ship's latest port-call event the desk holds (direction, berth);
    `berth_id` the berth the engine has it at; `settings`/`water` default to the bundled rule and
    the port's files; `tide_feed` is the stream's `feeds.tide` entry, whose observed level gives the
    surge added to the prediction now, as the UKC alert adds it (the route and its window use the
    prediction alone). Never raises for missing data: `missing` says what is missing instead.
    """
    draught = row.get("draught_m")
    if draught is None or not draught > 0:
        return VesselUkc(ts_utc, None, "ukc_no_draught")
    if row.get("lat") is None or row.get("lon") is None:
        return VesselUkc(ts_utc, float(draught), "ukc_no_position")
    settings = settings or bundled_settings()
    depth, tide = water or port_water(port)
    lon, lat = float(row["lon"]), float(row["lat"])
    place = place_of(port, lon, lat, row.get("zone_id"))
    direction, berth_from_event = direction_of(row, latest_event, port, place.chainage_km)
    # alongside: the engine's berth live; replayed (no phase), the berth of a latest all_fast
    at_berth = port.berths.get((berth_id if row.get("phase") == "at_berth" else berth_from_event) or "")
    t_us = _us(ts_utc)

    def tide_at(us: int) -> float:
        return tide_at_us(tide, us)

    surge = surge_of(tide_feed, settings, tide_at)
    found = live_ukc_of(
        row,
        t_us,
        depth,
        tide_at,
        settings=settings,
        part=place.part,
        channel_width_m=None if place.segment is None else place.segment.width_m,
        surge_m=surge,
        fallback_depth_m=None if at_berth is None else at_berth.design_depth_m,
    )
    if found is None:  # the draught and position were checked above
        return VesselUkc(ts_utc, float(draught), "ukc_no_draught")
    ship, rule, now = found.vessel, found.rule, found.ukc
    depth_source = "berth" if found.depth_source == "fallback" else "bathymetry"
    sog = ship.speed_kn
    left = row.get("phase") == "outside" or (latest_event or {}).get("event") == "port_limit_departure"
    if left and direction == "outbound":  # it has left: no route ahead in this port
        return VesselUkc(ts_utc, float(draught), None, ship, place, rule, now, depth_source, None, surge)
    berth = (berth_id or berth_from_event) if direction == "outbound" else None
    speed = sog if sog >= UNDERWAY_KN else ROUTE_SPEED_KN
    departure = ts_utc.replace(second=0, microsecond=0)
    sailing = dataclasses.replace(ship, speed_kn=speed)
    key = (direction, berth, round(place.chainage_km, 2), sailing, departure)
    route = None if cache is None else cache.get(key)
    if route is None:
        points = route_points(port, settings, place.chainage_km, direction, speed, berth)
        route = route_ukc(points, sailing, tide, departure, settings.squat_method, direction, berth)
        if cache is not None:
            cache.clear()
            cache[key] = route
    return VesselUkc(ts_utc, float(draught), None, ship, place, rule, now, depth_source, route, surge)
