"""The port model: typed, immutable objects for everything fixed in a port.

Built from a geodata set by `geodata.load_port`; nothing here reads files. Geometry is WGS84
lon/lat (shapely); metric work (lengths, offsets, chainage) goes through `LocalMetric`, a
transverse Mercator centred on the port, exact to well under a metre across the bay.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

Confidence = Literal["official", "published", "estimate"]
CONFIDENCES: tuple[str, ...] = ("official", "published", "estimate")


@dataclass(frozen=True)
class LocalMetric:
    """WGS84 lon/lat <-> metres on a transverse Mercator centred at (lon0, lat0)."""

    lon0: float
    lat0: float

    @cached_property
    def _fwd(self) -> Transformer:
        proj = f"+proj=tmerc +lat_0={self.lat0} +lon_0={self.lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
        return Transformer.from_crs("EPSG:4326", proj, always_xy=True)

    @cached_property
    def _inv(self) -> Transformer:
        proj = f"+proj=tmerc +lat_0={self.lat0} +lon_0={self.lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
        return Transformer.from_crs(proj, "EPSG:4326", always_xy=True)

    def to_m(self, geom: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry in local metres."""
        return shapely.transform(geom, lambda xy: np.column_stack(self._fwd.transform(xy[:, 0], xy[:, 1])))

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        """A local-metre geometry back in lon/lat."""
        return shapely.transform(geom, lambda xy: np.column_stack(self._inv.transform(xy[:, 0], xy[:, 1])))

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of lon/lat in local metres."""
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x), np.asarray(y)

    def lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of local metres in lon/lat."""
        lon, lat = self._inv.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon), np.asarray(lat)


@dataclass(frozen=True)
class Provenance:
    """Where a figure comes from: the source text and how far it can be trusted."""

    source: str
    confidence: Confidence


@dataclass(frozen=True)
class Berth:
    id: str
    name_zh: str
    name_en: str
    terminal: str
    port_area: str
    length_m: float
    design_depth_m: float
    max_dwt: int
    cargo: str
    quay: shapely.LineString
    pocket: shapely.Polygon
    provenance: Provenance
    status: str = "operational"


@dataclass(frozen=True)
class Anchorage:
    id: str
    name_zh: str
    name_en: str
    kind: str  # inner | large_ship | dangerous_goods | quarantine_pilot | ...
    max_dwt: int | None
    depth_m: float  # typical depth below chart datum
    area: shapely.Polygon
    provenance: Provenance


@dataclass(frozen=True)
class ChannelSegment:
    id: str
    name_zh: str
    name_en: str
    chainage_from_km: float
    chainage_to_km: float
    width_m: float
    design_depth_m: float  # positive down, below chart datum
    one_way: bool  # one-way rule applies (to ships of one_way_min_dwt and above)
    one_way_min_dwt: int | None
    part: Literal["outer", "inner"]
    kind: Literal["channel", "passing_area"]
    area: shapely.Polygon
    centreline: shapely.LineString
    provenance: Provenance


@dataclass(frozen=True)
class Gate:
    id: str
    name_zh: str
    name_en: str
    terminal: str
    lanes: int
    direction: Literal["in", "out", "both"]
    location: shapely.Point
    provenance: Provenance


@dataclass(frozen=True)
class Zone:
    id: str
    name_zh: str
    name_en: str
    kind: str  # anchorage | channel | port_area | gate_complex
    area: shapely.Polygon | shapely.MultiPolygon
    members: tuple[str, ...]  # ids of the berths/anchorages/segments/gates it gathers
    provenance: Provenance


@dataclass(frozen=True)
class Sensor:
    id: str
    name_zh: str
    name_en: str
    kind: str  # vhf_base_station | camera
    location: shapely.Point
    range_m: float
    status: str
    provenance: Provenance


@dataclass(frozen=True)
class ControlPoint:
    """A point on the channel axis, the unit of tidal-window and UKC-along-route work."""

    chainage_km: float
    lon: float
    lat: float
    design_depth_m: float
    width_m: float
    part: Literal["outer", "inner"]
    segment_id: str


@dataclass(frozen=True)
class ChannelRoute:
    """The channel as an ordered route with chainage (km from the sea end, rising inbound).

    The axis is a polyline through `anchors`, each vertex carrying its published or estimated
    chainage; between vertices chainage is linear in distance along the axis. Anchoring at
    vertices (not integrating length from K0) keeps officially published chainages exact
    (e.g. K34.32 and K40.29 of the B segment) even where the real axis is not a straight line.
    """

    segments: tuple[ChannelSegment, ...]
    axis: shapely.LineString  # lon/lat vertices of the centreline, sea end first
    axis_chainage_km: tuple[float, ...]  # chainage of each axis vertex
    metric: LocalMetric

    def __post_init__(self) -> None:
        if len(self.axis_chainage_km) != len(self.axis.coords):
            raise ValueError("axis_chainage_km needs one chainage per axis vertex")
        if any(b <= a for a, b in zip(self.axis_chainage_km, self.axis_chainage_km[1:], strict=False)):
            raise ValueError("axis chainage must rise strictly from the sea end")

    @cached_property
    def _axis_m(self) -> shapely.LineString:
        line = self.metric.to_m(self.axis)
        assert isinstance(line, shapely.LineString)
        return line

    @cached_property
    def _vertex_dist_m(self) -> np.ndarray:
        xy = np.asarray(self._axis_m.coords)
        return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])

    @property
    def length_km(self) -> float:
        return self.axis_chainage_km[-1] - self.axis_chainage_km[0]

    def chainage_at(self, lon: float, lat: float) -> tuple[float, float]:
        """(chainage_km, cross-track offset_m) of a position, by projection on the axis.

        The offset is positive to starboard of an inbound ship. Positions beyond the ends
        project onto the ends (their offset then includes the along-track overshoot).
        """
        x, y = self.metric.xy(np.array([lon]), np.array([lat]))
        p = shapely.Point(float(x[0]), float(y[0]))
        along = self._axis_m.project(p)
        chain = float(np.interp(along, self._vertex_dist_m, self.axis_chainage_km))
        foot = self._axis_m.interpolate(along)
        ahead = self._axis_m.interpolate(min(along + 1.0, self._axis_m.length))
        behind = self._axis_m.interpolate(max(along - 1.0, 0.0))
        tx, ty = ahead.x - behind.x, ahead.y - behind.y
        side = np.sign(tx * (p.y - foot.y) - ty * (p.x - foot.x))  # left of travel = +
        return chain, float(-side * p.distance(foot))

    def position_at(self, chainage_km: float) -> tuple[float, float]:
        """(lon, lat) on the axis at a chainage; raises ValueError outside the route."""
        self._check(chainage_km)
        along = float(np.interp(chainage_km, self.axis_chainage_km, self._vertex_dist_m))
        p = self._axis_m.interpolate(along)
        lon, lat = self.metric.lonlat(np.array([p.x]), np.array([p.y]))
        return float(lon[0]), float(lat[0])

    def segment_at(self, chainage_km: float) -> ChannelSegment:
        """The segment covering a chainage (the inbound one at a shared boundary)."""
        self._check(chainage_km)
        for seg in self.segments:
            if seg.chainage_from_km <= chainage_km < seg.chainage_to_km:
                return seg
        return self.segments[-1]

    def depth_at(self, chainage_km: float) -> float:
        """Design depth below chart datum (m) at a chainage."""
        return self.segment_at(chainage_km).design_depth_m

    def width_at(self, chainage_km: float) -> float:
        """Navigable width (m) at a chainage."""
        return self.segment_at(chainage_km).width_m

    def control_points(self, step_km: float = 0.5) -> list[ControlPoint]:
        """Points every `step_km` from the sea end, plus every segment boundary and the end."""
        start, end = self.axis_chainage_km[0], self.axis_chainage_km[-1]
        marks = set(np.round(np.arange(start, end, step_km), 6).tolist())
        marks.update(round(s.chainage_from_km, 6) for s in self.segments)
        marks.add(round(end, 6))
        points = []
        for km in sorted(marks):
            seg = self.segment_at(km)
            lon, lat = self.position_at(km)
            points.append(ControlPoint(km, lon, lat, seg.design_depth_m, seg.width_m, seg.part, seg.id))
        return points

    def _check(self, chainage_km: float) -> None:
        lo, hi = self.axis_chainage_km[0], self.axis_chainage_km[-1]
        if not lo - 1e-9 <= chainage_km <= hi + 1e-9:
            raise ValueError(f"chainage {chainage_km} km is outside the channel K{lo}–K{hi}")


@dataclass(frozen=True)
class Port:
    """Everything fixed about one port; look things up by id with `port.berths["XS-ORE-400K"]`."""

    id: str
    name_zh: str
    name_en: str
    unlocode: str
    metric: LocalMetric
    land: shapely.MultiPolygon
    channel: ChannelRoute
    berths: Mapping[str, Berth]
    anchorages: Mapping[str, Anchorage]
    gates: Mapping[str, Gate]
    zones: Mapping[str, Zone]
    sensors: Mapping[str, Sensor]
    shoals: tuple[Shoal, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)  # kind -> path of the source file

    def find(self, item_id: str) -> object:
        """Any feature by id, whatever its kind; raises KeyError naming the id."""
        for table in self._tables():
            if item_id in table:
                return table[item_id]
        for seg in self.channel.segments:
            if seg.id == item_id:
                return seg
        raise KeyError(f"no feature with id {item_id!r} in port {self.id}")

    def _tables(self) -> Iterator[Mapping[str, object]]:
        yield from (self.berths, self.anchorages, self.gates, self.zones, self.sensors)


@dataclass(frozen=True)
class Shoal:
    """A surveyed spot shallower than the design depth, as published in a notice to mariners."""

    id: str
    depth_m: float
    location: shapely.Point
    surveyed: str  # ISO date or period of the survey
    provenance: Provenance
