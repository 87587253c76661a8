"""What-if scenarios: small, versioned TOML files of changes on top of the baseline port.

A scenario (``version = 1``) may carry, all optional::

    version = 1
    name = "dredge outer channel 1 m"
    description = "..."

    [[dredge]]                 # one table per dredged area
    from_km = 0.0              # a channel stretch (chainage, km) ...
    to_km = 47.2
    # polygon = [[110.40, 21.10], [110.45, 21.10], [110.45, 21.14]]   # ... or a lon/lat ring
    deepen_m = 1.0             # metres deeper than today, or
    # depth_m = 24.6           # dredged to this depth below chart datum (never made shallower)

    [tide]
    offset_m = 0.0             # added to the astronomical tide everywhere (m)
    surge_times = ["2026-11-28T00:00Z", "2026-11-28T12:00Z"]   # a surge curve (UTC) ...
    surge_m = [0.0, 0.6]       # ... and its metres, linear between points, 0 outside

    [vessel]                   # the design vessel for UKC and tidal windows
    dwt = 400000
    draught_m = 23.0
    length_m = 362.0
    beam_m = 65.0
    cb = 0.86
    speed_kn = 9.0

    [berths]
    close = ["XS-ORE-400K"]
    [[berths.add]]
    id = "XS-ORE-NEW"; quay = [[lon, lat], [lon, lat]]; length_m = 400.0; depth_m = 22.0
    max_dwt = 250000; cargo = "iron_ore"

    [gates]                    # lanes open per hour of the (local) day: one number or 24
    GATE-BM-IN = 10

    [demand]                   # arrival-rate factor per simulator vessel class
    capesize = 1.2

    [ukc]                      # required net UKC as a fraction of draught, per channel part
    outer = 0.15
    inner = 0.10

    [traffic]                  # how the simulator sequences channel movements (twin.schedule)
    scheduling = "optimised"   # "fcfs" or "optimised"; the baseline run then uses "fcfs"
    one_way_min_dwt = 270000   # one-way rule from this DWT (default 90 % of the segments' figure)
    [traffic.pilots]           # pilot roster and duty limits (twin.schedule.PilotRules)
    count = 20
    max_shift_h = 12.0
    min_rest_h = 10.0
    board_h = 0.5
    release_h = 0.5

Errors are loud: `ScenarioFileError` names the file, the line and the key (the approach of
twin.alert_rules). Nothing here reads a clock; importing reads no file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import shapely
import shapely.ops
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from twin.port import Berth, ChannelRoute, Port, Provenance
from twin.tide import TideLevel
from twin.ukc import UkcRule, Vessel

SCENARIO_VERSION = 1
# The simulator's vessel classes (feeds.sim.fleet.CLASSES); twin/ does not import feeds, so they
# are named here and tests/planner checks the two lists agree.
VESSEL_CLASSES: tuple[str, ...] = ("vlcc", "valemax", "capesize", "bulk", "grain", "container",
                                   "product", "ro_ro", "general")
CHANNEL_PARTS: tuple[str, ...] = ("outer", "inner")
_TOP_KEYS = {"version", "name", "description", "dredge", "tide", "vessel", "berths", "gates",
             "demand", "ukc", "traffic"}
SCHEDULING_METHODS: tuple[str, ...] = ("fcfs", "optimised")
PILOT_KEYS: tuple[str, ...] = ("count", "max_shift_h", "min_rest_h", "board_h", "release_h")


class ScenarioFileError(ValueError):
    """A scenario file that cannot be used; the message names the file, the line and the key."""

    def __init__(self, path: str, line: int | None, key: str | None, problem: str) -> None:
        self.path, self.line, self.key, self.problem = path, line, key, problem
        where = path if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


@dataclass(frozen=True)
class Dredge:
    """One dredged area: a lon/lat polygon or a channel stretch [from_km, to_km].

    Exactly one of ``depth_m`` (dredged to this depth below chart datum, m) and ``deepen_m``
    (metres deeper than today) is set.
    """

    polygon: shapely.Polygon | None = None
    from_km: float | None = None
    to_km: float | None = None
    depth_m: float | None = None
    deepen_m: float | None = None

    def new_depth(self, depth_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Depth below CD (m) after dredging, for depths inside the area (never shallower)."""
        if self.deepen_m is not None:
            return depth_m + self.deepen_m
        assert self.depth_m is not None
        return np.maximum(depth_m, self.depth_m)

    def area(self, channel: ChannelRoute) -> shapely.Polygon | shapely.MultiPolygon:
        """The dredged area (lon/lat): the polygon, or the channel segments' areas cut at the stretch's
        chainages (perpendicular to the axis)."""
        if self.polygon is not None:
            return self.polygon
        assert self.from_km is not None and self.to_km is not None
        metric = channel.metric
        axis_m = metric.to_m(channel.axis)
        dist = channel._vertex_dist_m  # chainage -> distance along the axis (m)
        d0 = float(np.interp(self.from_km, channel.axis_chainage_km, dist))
        d1 = float(np.interp(self.to_km, channel.axis_chainage_km, dist))
        piece = shapely.ops.substring(axis_m, d0, d1)
        # flat caps cut the stretch square to the axis at its ends; 2 km covers any channel width
        cutter = piece.buffer(2000.0, cap_style="flat")
        segs = [metric.to_m(s.area) for s in channel.segments
                if s.chainage_to_km > self.from_km and s.chainage_from_km < self.to_km]
        area = metric.to_lonlat(shapely.union_all(segs).intersection(cutter))
        assert isinstance(area, shapely.Polygon | shapely.MultiPolygon)
        return area


@dataclass(frozen=True)
class DesignVessel:
    """The design vessel of a scenario (m, kn, t)."""

    draught_m: float
    length_m: float
    beam_m: float
    cb: float
    speed_kn: float
    dwt: float | None = None


@dataclass(frozen=True)
class NewBerth:
    """A berth added by a scenario: quay as a lon/lat line, depth below CD (m)."""

    id: str
    quay: shapely.LineString
    length_m: float
    depth_m: float
    max_dwt: int
    cargo: str


@dataclass(frozen=True)
class Traffic:
    """A scenario's [traffic] table: how the simulator sequences the channel (docs/schedule.md).

    ``pilots``: the [traffic.pilots] keys given (count, max_shift_h, min_rest_h, board_h, release_h);
    None: no pilot limit (the simulator's default).
    """

    scheduling: str = "fcfs"
    one_way_min_dwt: float | None = None
    pilots: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Scenario:
    """A parsed, validated scenario; see the module docstring for the file."""

    name: str
    source: str
    version: int = SCENARIO_VERSION
    description: str = ""
    dredges: tuple[Dredge, ...] = ()
    tide_offset_m: float = 0.0
    surge_times: NDArray[np.datetime64] | None = None
    surge_m: NDArray[np.float64] | None = None
    vessel: DesignVessel | None = None
    close_berths: tuple[str, ...] = ()
    add_berths: tuple[NewBerth, ...] = ()
    gate_lanes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # 24 values, local hours
    demand: Mapping[str, float] = field(default_factory=dict)
    ukc_fraction: Mapping[str, float] = field(default_factory=dict)
    traffic: Traffic | None = None
    lines: Mapping[str, int] = field(default_factory=dict)  # dotted key -> line, for later errors

    def error(self, key: str, problem: str) -> ScenarioFileError:
        """A ScenarioFileError about ``key`` at its line in the file."""
        return ScenarioFileError(self.source, self.lines.get(key), key, problem)


# -- parsing ----------------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z_\"'][A-Za-z0-9_.\-\"' ]*?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each table header and key by dotted path; array tables get ``[i]``.

    A scan of the text, not a TOML parse: enough to point at a line for a key tomllib accepted.
    """
    lines: dict[str, int] = {}
    table = ""
    counts: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("#"):
            continue
        if m := _HEADER.match(raw):
            name = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            if raw.lstrip().startswith("[["):
                i = counts.get(name, 0)
                counts[name] = i + 1
                name = f"{name}[{i}]"
            table = name
            lines.setdefault(table, n)
        elif m := _KEY.match(raw):
            key = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(f"{table}.{key}" if table else key, n)
    return lines


def _num(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate a scenario's text; ``source`` names it in errors.

    Raises ScenarioFileError (file, line, key) for bad TOML, a missing or unknown version, unknown
    tables or keys, wrong types, and bad values (negative depths, a polygon of < 3 points, a stretch
    with to_km <= from_km, a surge curve whose lists differ in length, an unknown vessel class ...).
    Ids (berths, gates) are checked against a port by :func:`check_against`.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ScenarioFileError(source, int(m.group(1)) if m else None, None,
                                f"not valid TOML: {exc}") from exc
    lines = _key_lines(text)

    def err(key: str, problem: str) -> ScenarioFileError:
        probe = key
        while probe and probe not in lines:  # the key's own line, else its nearest table
            probe = probe.rpartition(".")[0]
        return ScenarioFileError(source, lines.get(probe), key, problem)

    def table(key: str, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise err(key, "must be a table")
        return value

    def number(key: str, value: object, *, positive: bool = False, minimum: float | None = None
               ) -> float:
        if not _num(value):
            raise err(key, f"must be a number, not {value!r}")
        v = float(value)  # type: ignore[arg-type]  # _num checked it
        if positive and v <= 0:
            raise err(key, f"must be positive, not {v}")
        if minimum is not None and v < minimum:
            raise err(key, f"must be at least {minimum}, not {v}")
        return v

    def known(key: str, body: Mapping[str, object], allowed: set[str]) -> None:
        for k in body:
            if k not in allowed:
                raise err(f"{key}.{k}" if key else k,
                          f"unknown key; known keys here: {sorted(allowed)}")

    def ring(key: str, value: object, closed: bool) -> list[tuple[float, float]]:
        if not isinstance(value, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(_num(x) for x in p) for p in value):
            raise err(key, "must be a list of [lon, lat] pairs")
        pts = [(float(p[0]), float(p[1])) for p in value]
        for lon, lat in pts:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise err(key, f"[{lon}, {lat}] is not a lon/lat position (WGS84, lon first)")
        if len(pts) < (3 if closed else 2):
            raise err(key, f"needs at least {3 if closed else 2} points, has {len(pts)}")
        return pts

    known("", doc, _TOP_KEYS)
    if "version" not in doc:
        raise ScenarioFileError(source, 1, "version", f"missing; write `version = {SCENARIO_VERSION}`")
    if doc["version"] != SCENARIO_VERSION:
        raise err("version", f"unsupported version {doc['version']!r}; this twin reads {SCENARIO_VERSION}")
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise err("name", "must be a string")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise err("description", "must be a string")

    dredges = []
    raw_dredges = doc.get("dredge", [])
    if not isinstance(raw_dredges, list):
        raise err("dredge", "must be an array of tables: [[dredge]]")
    for i, body in enumerate(raw_dredges):
        key = f"dredge[{i}]"
        body = table(key, body)
        known(key, body, {"polygon", "from_km", "to_km", "depth_m", "deepen_m"})
        has_poly = "polygon" in body
        has_stretch = "from_km" in body or "to_km" in body
        if has_poly == has_stretch:
            raise err(key, "give either polygon = [[lon, lat], ...] or from_km and to_km")
        if ("depth_m" in body) == ("deepen_m" in body):
            raise err(key, "give either depth_m (to a depth below chart datum) or deepen_m (metres deeper)")
        depth = number(f"{key}.depth_m", body["depth_m"], positive=True) if "depth_m" in body else None
        deepen = number(f"{key}.deepen_m", body["deepen_m"], positive=True) if "deepen_m" in body else None
        if has_poly:
            poly = shapely.Polygon(ring(f"{key}.polygon", body["polygon"], closed=True))
            if not poly.is_valid or poly.area == 0:
                raise err(f"{key}.polygon", f"not a valid polygon ({shapely.is_valid_reason(poly)})")
            dredges.append(Dredge(polygon=poly, depth_m=depth, deepen_m=deepen))
        else:
            for k in ("from_km", "to_km"):
                if k not in body:
                    raise err(f"{key}", f"a channel stretch needs {k}")
            a = number(f"{key}.from_km", body["from_km"], minimum=0.0)
            b = number(f"{key}.to_km", body["to_km"])
            if b <= a:
                raise err(f"{key}.to_km", f"must be greater than from_km ({a})")
            dredges.append(Dredge(from_km=a, to_km=b, depth_m=depth, deepen_m=deepen))

    tide = table("tide", doc.get("tide", {}))
    known("tide", tide, {"offset_m", "surge_times", "surge_m"})
    offset = number("tide.offset_m", tide["offset_m"]) if "offset_m" in tide else 0.0
    surge_times = surge_m = None
    if ("surge_times" in tide) != ("surge_m" in tide):
        raise err("tide", "a surge curve needs both surge_times and surge_m")
    if "surge_times" in tide:
        times, levels = tide["surge_times"], tide["surge_m"]
        if not isinstance(times, list) or not times:
            raise err("tide.surge_times", "must be a non-empty list of UTC times")
        parsed = []
        for t in times:
            try:
                text_t = t.isoformat() if hasattr(t, "isoformat") else str(t)
                parsed.append(np.datetime64(text_t.replace("Z", "").replace("+00:00", ""), "s"))
            except ValueError as exc:
                raise err("tide.surge_times", f"{t!r} is not an ISO 8601 UTC time") from exc
        if not isinstance(levels, list) or not all(_num(v) for v in levels):
            raise err("tide.surge_m", "must be a list of numbers (m)")
        if len(levels) != len(parsed):
            raise err("tide.surge_m", f"{len(levels)} levels for {len(parsed)} times")
        surge_times = np.array(parsed, dtype="datetime64[s]")
        if np.any(np.diff(surge_times) <= np.timedelta64(0, "s")):
            raise err("tide.surge_times", "times must rise strictly")
        surge_m = np.asarray(levels, dtype=np.float64)

    vessel = None
    if "vessel" in doc:
        body = table("vessel", doc["vessel"])
        need = ("draught_m", "length_m", "beam_m", "cb", "speed_kn")
        known("vessel", body, {*need, "dwt"})
        for k in need:
            if k not in body:
                raise err("vessel", f"missing {k} (a design vessel needs {', '.join(need)})")
        vals = {k: number(f"vessel.{k}", body[k], positive=True) for k in need}
        if not 0.3 <= vals["cb"] <= 1.0:
            raise err("vessel.cb", f"block coefficient {vals['cb']} outside 0.3–1.0")
        dwt = number("vessel.dwt", body["dwt"], positive=True) if "dwt" in body else None
        vessel = DesignVessel(**vals, dwt=dwt)

    berths = table("berths", doc.get("berths", {}))
    known("berths", berths, {"close", "add"})
    close = berths.get("close", [])
    if not isinstance(close, list) or not all(isinstance(b, str) for b in close):
        raise err("berths.close", "must be a list of berth ids")
    added = []
    raw_add = berths.get("add", [])
    if not isinstance(raw_add, list):
        raise err("berths.add", "must be an array of tables: [[berths.add]]")
    for i, body in enumerate(raw_add):
        key = f"berths.add[{i}]"
        body = table(key, body)
        berth_keys = ("id", "quay", "length_m", "depth_m", "max_dwt", "cargo")
        known(key, body, set(berth_keys))
        for k in berth_keys:
            if k not in body:
                raise err(key, f"missing {k} (a new berth needs {', '.join(berth_keys)})")
        for k in ("id", "cargo"):
            if not isinstance(body[k], str) or not body[k]:
                raise err(f"{key}.{k}", "must be a non-empty string")
        if not isinstance(body["max_dwt"], int) or isinstance(body["max_dwt"], bool) or body["max_dwt"] <= 0:
            raise err(f"{key}.max_dwt", "must be a positive integer (t)")
        added.append(NewBerth(body["id"], shapely.LineString(ring(f"{key}.quay", body["quay"], closed=False)),
                              number(f"{key}.length_m", body["length_m"], positive=True),
                              number(f"{key}.depth_m", body["depth_m"], positive=True),
                              int(body["max_dwt"]), body["cargo"]))

    gates: dict[str, tuple[int, ...]] = {}
    for gid, value in table("gates", doc.get("gates", {})).items():
        key = f"gates.{gid}"
        hours = value if isinstance(value, list) else [value] * 24
        if len(hours) != 24 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                       for v in hours):
            raise err(key, "lanes open: one integer >= 0, or a list of 24 (one per local hour)")
        gates[gid] = tuple(int(v) for v in hours)

    demand: dict[str, float] = {}
    for cls, value in table("demand", doc.get("demand", {})).items():
        if cls not in VESSEL_CLASSES:
            raise err(f"demand.{cls}", f"unknown vessel class; known classes: {list(VESSEL_CLASSES)}")
        demand[cls] = number(f"demand.{cls}", value, minimum=0.0)

    ukc: dict[str, float] = {}
    for part, value in table("ukc", doc.get("ukc", {})).items():
        if part not in CHANNEL_PARTS:
            raise err(f"ukc.{part}", f"unknown channel part; use {list(CHANNEL_PARTS)}")
        frac = number(f"ukc.{part}", value, minimum=0.0)
        if frac >= 1.0:
            raise err(f"ukc.{part}", f"{frac} is a fraction of draught (0.10 = 10 %), not a percentage")
        ukc[part] = frac

    traffic = None
    if "traffic" in doc:
        body = table("traffic", doc["traffic"])
        known("traffic", body, {"scheduling", "one_way_min_dwt", "pilots"})
        method = body.get("scheduling", "fcfs")
        if method not in SCHEDULING_METHODS:
            raise err("traffic.scheduling",
                      f"unknown method {method!r}; use one of {list(SCHEDULING_METHODS)}")
        one_way = (number("traffic.one_way_min_dwt", body["one_way_min_dwt"], positive=True)
                   if "one_way_min_dwt" in body else None)
        pilots = None
        if "pilots" in body:
            raw = table("traffic.pilots", body["pilots"])
            known("traffic.pilots", raw, set(PILOT_KEYS))
            pilots = {k: number(f"traffic.pilots.{k}", v, minimum=0.0) for k, v in raw.items()}
            if "count" in pilots and (pilots["count"] < 1 or pilots["count"] != int(pilots["count"])):
                raise err("traffic.pilots.count", f"must be a whole number of pilots ≥ 1, not {raw['count']}")
            if pilots.get("max_shift_h", 1.0) <= 0:
                raise err("traffic.pilots.max_shift_h", "must be positive")
        traffic = Traffic(scheduling=str(method), one_way_min_dwt=one_way, pilots=pilots)

    return Scenario(name=name, source=source, description=description, dredges=tuple(dredges),
                    tide_offset_m=offset, surge_times=surge_times, surge_m=surge_m, vessel=vessel,
                    close_berths=tuple(close), add_berths=tuple(added), gate_lanes=gates, demand=demand,
                    ukc_fraction=ukc, traffic=traffic, lines=lines)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (see :func:`parse_scenario`); FileNotFoundError if missing."""
    p = Path(path)
    return parse_scenario(p.read_text(encoding="utf-8"), str(p))


def bundled(name: str) -> Path:
    """Path of a scenario shipped in ``twin/scenarios`` (e.g. ``"dredge_outer_1m"``)."""
    p = Path(__file__).parent / "scenarios" / (name if name.endswith(".toml") else f"{name}.toml")
    if not p.exists():
        raise FileNotFoundError(p)
    return p


def check_against(scenario: Scenario, port: Port) -> None:
    """Check the scenario's ids and chainages against a port; ScenarioFileError naming the key."""
    for i, bid in enumerate(scenario.close_berths):
        if bid not in port.berths:
            raise scenario.error("berths.close", f"no berth {bid!r} in port {port.id} (item {i + 1})")
    for i, nb in enumerate(scenario.add_berths):
        if nb.id in port.berths:
            raise scenario.error(f"berths.add[{i}].id", f"berth {nb.id!r} already exists")
    for gid in scenario.gate_lanes:
        if gid not in port.gates:
            raise scenario.error(f"gates.{gid}", f"no gate {gid!r}; gates: {sorted(port.gates)}")
    lo, hi = port.channel.axis_chainage_km[0], port.channel.axis_chainage_km[-1]
    for i, d in enumerate(scenario.dredges):
        if d.to_km is not None and d.to_km > hi + 1e-9:
            raise scenario.error(f"dredge[{i}].to_km", f"beyond the channel end K{hi}")
        if d.from_km is not None and d.from_km < lo - 1e-9:
            raise scenario.error(f"dredge[{i}].from_km", f"before the channel start K{lo}")


# -- applying ---------------------------------------------------------------------------------
def apply_to_depth(depth_grid: xr.DataArray, scenario: Scenario, channel: ChannelRoute | None = None
                   ) -> xr.DataArray:
    """The depth grid (m below CD, dims lat/lon) after the scenario's dredging.

    A cell changes exactly when its centre lies inside a dredged area (polygon, or the channel
    stretch, which needs ``channel``); nowhere else. Later dredges apply on top of earlier ones.
    Raises ValueError for a grid not on lat/lon, or a stretch without a channel.
    """
    if not scenario.dredges:
        return depth_grid.copy()
    if set(map(str, depth_grid.dims)) != {"lat", "lon"}:
        raise ValueError(f"dredging needs a lat/lon grid, got dims {depth_grid.dims}")
    lon, lat = np.meshgrid(depth_grid["lon"].values, depth_grid["lat"].values)
    grid = depth_grid.transpose("lat", "lon")
    values = np.array(grid.values, dtype=np.float64)
    for d in scenario.dredges:
        if d.polygon is None and channel is None:
            raise ValueError("a channel-stretch dredge needs the port's channel (channel=port.channel)")
        area = d.area(channel) if channel is not None else d.polygon
        inside = shapely.contains_xy(area, lon, lat)
        values[inside] = d.new_depth(values[inside])
    out = grid.copy(data=values).transpose(*depth_grid.dims)
    out.attrs = {**depth_grid.attrs, "scenario": scenario.name}
    return out


def dredge_mask(depth_grid: xr.DataArray, scenario: Scenario, channel: ChannelRoute | None = None
                ) -> xr.DataArray:
    """Boolean grid: True where a dredge of the scenario applies (same rule as apply_to_depth)."""
    lon, lat = np.meshgrid(depth_grid["lon"].values, depth_grid["lat"].values)
    mask = np.zeros(lon.shape, dtype=bool)
    for d in scenario.dredges:
        area = d.area(channel) if channel is not None else d.polygon
        mask |= shapely.contains_xy(area, lon, lat)
    return xr.DataArray(mask, dims=("lat", "lon"),
                        coords={"lat": depth_grid["lat"].values, "lon": depth_grid["lon"].values})


def _new_berth(nb: NewBerth, port: Port) -> Berth:
    """A Berth from a scenario's quay line: the pocket is an 80 m strip on the side away from land."""
    quay_m = port.metric.to_m(nb.quay)
    sides = [quay_m.buffer(s * 80.0, single_sided=True) for s in (1.0, -1.0)]
    land_m = port.metric.to_m(port.land)
    pocket_m = min(sides, key=lambda p: p.intersection(land_m).area)
    pocket = port.metric.to_lonlat(pocket_m)
    nearest = min(port.berths.values(), key=lambda b: b.quay.distance(nb.quay))
    assert isinstance(pocket, shapely.Polygon)
    return Berth(id=nb.id, name_zh=nb.id, name_en=nb.id, terminal=nearest.terminal,
                 port_area=nearest.port_area, length_m=nb.length_m, design_depth_m=nb.depth_m,
                 max_dwt=nb.max_dwt, cargo=nb.cargo, quay=nb.quay, pocket=pocket,
                 provenance=Provenance("scenario", "estimate"))


def apply_to_port(port: Port, scenario: Scenario) -> Port:
    """The port after the scenario: closed berths (status "closed"), added berths, gate lanes (the
    day's maximum), and channel segments' design depths where a dredge covers the whole segment.

    A segment only partly covered keeps its design depth (the shallowest stretch sets it); a polygon
    covers a segment when it holds 99 % of its area. Raises ScenarioFileError for unknown ids.
    """
    check_against(scenario, port)
    berths = {bid: dataclasses.replace(b, status="closed") if bid in scenario.close_berths else b
              for bid, b in port.berths.items()}
    for nb in scenario.add_berths:
        berths[nb.id] = _new_berth(nb, port)
    gates = {gid: dataclasses.replace(g, lanes=max(scenario.gate_lanes[gid])) if gid in scenario.gate_lanes
             else g for gid, g in port.gates.items()}
    segments = []
    for seg in port.channel.segments:
        depth = seg.design_depth_m
        for d in scenario.dredges:
            if d.polygon is not None:
                covers = seg.area.intersection(d.polygon).area >= 0.99 * seg.area.area
            else:
                assert d.from_km is not None and d.to_km is not None
                covers = d.from_km <= seg.chainage_from_km + 1e-9 and seg.chainage_to_km <= d.to_km + 1e-9
            if covers:
                depth = float(d.new_depth(np.array([depth]))[0])
        segments.append(dataclasses.replace(seg, design_depth_m=depth))
    channel = dataclasses.replace(port.channel, segments=tuple(segments))
    return dataclasses.replace(port, berths=berths, gates=gates, channel=channel)


@dataclass(frozen=True)
class ScenarioTide:
    """A tide level plus the scenario's constant offset and surge curve (m above chart datum).

    The surge is linear between its points and zero outside them. Satisfies TideLevel.
    """

    base: TideLevel
    offset_m: float = 0.0
    surge_times: NDArray[np.datetime64] | None = None
    surge_m: NDArray[np.float64] | None = None

    def level_m(self, times: ArrayLike) -> NDArray[np.float64]:
        """Base level + offset + surge (m) at UTC ``times``."""
        t = np.asarray(times, dtype="datetime64[ns]")
        level = np.asarray(self.base.level_m(t), dtype=np.float64) + self.offset_m
        if self.surge_times is not None and self.surge_m is not None:
            x0 = self.surge_times.astype("datetime64[ns]").astype(np.int64).astype(np.float64)
            xq = t.astype(np.int64).astype(np.float64)
            level = level + np.interp(xq, x0, self.surge_m, left=0.0, right=0.0)
        return level


def apply_to_tide(tide: TideLevel, scenario: Scenario) -> TideLevel:
    """The tide under the scenario (the base itself when the scenario changes no level)."""
    if scenario.tide_offset_m == 0.0 and scenario.surge_times is None:
        return tide
    return ScenarioTide(tide, scenario.tide_offset_m, scenario.surge_times, scenario.surge_m)


TideTransform = Callable[[TideLevel], TideLevel]

__all__ = ["CHANNEL_PARTS", "SCENARIO_VERSION", "VESSEL_CLASSES", "DesignVessel", "Dredge", "NewBerth",
           "Scenario", "ScenarioFileError", "ScenarioTide", "Traffic", "apply_to_depth", "apply_to_port",
           "apply_to_tide", "bundled", "check_against", "design_vessel", "dredge_mask", "load_scenario",
           "parse_scenario", "ukc_difference", "window_hours_per_day"]


# -- difference layers --------------------------------------------------------------------------
def ukc_difference(baseline_grid: xr.DataArray, scenario_grid: xr.DataArray, vessel: Vessel,
                   time: np.datetime64, tide: float | TideLevel, *, rule: UkcRule | None = None,
                   squat_method: str = "barrass-confined") -> xr.DataArray:
    """Net UKC gain (+) or loss (−) per cell (m), scenario − baseline, for one vessel at one time.

    Both grids are depth below CD (m) on the same cells. Cells whose depth did not change are exactly
    0 (land and no-data cells included), so the layer is zero outside a dredged area. ``tide`` is a
    level (m above CD) or a model; pass the scenario's tide (:func:`apply_to_tide`) to see a surge.
    """
    from twin.ukc import ukc_grid  # keeps the module light for parsing-only callers

    if baseline_grid.shape != scenario_grid.shape:
        raise ValueError(f"grids differ in shape: {baseline_grid.shape} vs {scenario_grid.shape}")
    used_rule = rule or UkcRule()
    base = ukc_grid(baseline_grid, vessel, np.asarray([time]), tide, rule=used_rule,
                    squat_method=squat_method)["net_ukc_m"].isel(time=0)
    scen = ukc_grid(scenario_grid, vessel, np.asarray([time]), tide, rule=used_rule,
                    squat_method=squat_method)["net_ukc_m"].isel(time=0)
    same = np.asarray(baseline_grid.values == scenario_grid.values) | (
        np.isnan(np.asarray(baseline_grid.values, float)) & np.isnan(np.asarray(scenario_grid.values, float)))
    diff = np.where(same, 0.0, np.asarray(scen.values) - np.asarray(base.values))
    return xr.DataArray(diff, dims=base.dims, coords=base.coords,
                        attrs={"units": "m", "long_name": "net UKC difference, scenario minus baseline",
                               "draught_m": vessel.draught_m})


def design_vessel(scenario: Scenario | None, dwt: float | None = None, draught_m: float | None = None,
                  speed_kn: float = 9.0) -> Vessel:
    """The UKC vessel of a scenario's [vessel] table, or one drawn from ``dwt`` (twin.ukc_cli's table of
    particulars; draught by default the simulator's laden draught relation at 400,000 t: 23.0 m)."""
    if scenario is not None and scenario.vessel is not None and dwt is None:
        v = scenario.vessel
        return Vessel(draught_m=draught_m or v.draught_m, speed_kn=v.speed_kn, cb=v.cb, beam_m=v.beam_m,
                      length_m=v.length_m, vessel_id=f"design {v.dwt or ''}".strip())
    from twin.ukc_cli import particulars_from_dwt

    d = float(dwt or 400_000)
    length, beam, cb = particulars_from_dwt(d)
    # laden draught scales with dwt^(1/3) about the simulator's 400 kt / 23.0 m ore carrier
    t = draught_m or round(23.0 * (d / 400_000) ** (1 / 3), 1)
    return Vessel(draught_m=t, speed_kn=speed_kn, cb=cb, beam_m=beam, length_m=length,
                  vessel_id=f"{d:.0f} dwt")


def window_hours_per_day(port: Port, scenario: Scenario, vessel: Vessel, tide: TideLevel,
                         start: np.datetime64, days: int, *, rules: Mapping[str, UkcRule] | None = None,
                         to_km: float | None = None, step_km: float = 0.5, step_s: float = 60.0,
                         outbound: bool = False) -> list[dict[str, Any]]:
    """Tidal-window hours per UTC day for ``vessel`` along the channel, baseline and scenario.

    The route is the channel's control points from K0 to ``to_km`` (default the channel end) at the
    segments' design depths (the scenario's after :func:`apply_to_port`), with ``rules`` per channel part
    (default outer 15 %, inner 10 % of draught, as `twin ukc window`; a scenario's [ukc] replaces them)
    and Barrass squat with blockage. Returns one dict per day: date, baseline_h, scenario_h, gain_h, and
    the number of windows of each (departure windows at the first point, twin.windows).
    """
    from twin.windows import RoutePoint, transit_windows

    base_rules = dict(rules or {"outer": UkcRule(0.15), "inner": UkcRule(0.10)})
    scen_rules = {**base_rules, **{p: UkcRule(f) for p, f in scenario.ukc_fraction.items()}}
    method = "barrass-blockage" if vessel.beam_m else "barrass-confined"
    end_km = to_km if to_km is not None else port.channel.axis_chainage_km[-1]

    def route(p: Port, r: Mapping[str, UkcRule]) -> list[RoutePoint]:
        pts = [RoutePoint(cp.chainage_km, float(cp.design_depth_m), r[cp.part], vessel.speed_kn,
                          channel_width_m=cp.width_m, zone=cp.part)
               for cp in p.channel.control_points(step_km) if cp.chainage_km <= end_km + 1e-9]
        return pts[::-1] if outbound else pts

    t0 = cast(np.datetime64, np.asarray(start, dtype="datetime64[ns]")[()])
    t1: np.datetime64 = t0 + np.timedelta64(days, "D")
    results = {}
    runs = (("baseline", port, base_rules, tide),
            ("scenario", apply_to_port(port, scenario), scen_rules, apply_to_tide(tide, scenario)))
    for label, p, r, tl in runs:
        results[label] = transit_windows(route(p, r), vessel, tl, t0, t1, step_s=step_s,
                                         squat_method=method).windows
    out = []
    for k in range(days):
        d0: np.datetime64 = t0 + np.timedelta64(k, "D")
        d1: np.datetime64 = d0 + np.timedelta64(1, "D")
        row: dict[str, Any] = {"date": str(d0.astype("datetime64[D]"))}
        for label, wins in results.items():
            secs = 0.0
            for w in wins:
                lo = w.start if w.start > d0 else d0
                hi = w.end if w.end < d1 else d1
                secs += max(0.0, float((hi - lo) / np.timedelta64(1, "s")))
            row[f"{label}_h"] = round(secs / 3600.0, 2)
            row[f"{label}_windows"] = sum(1 for w in wins if w.end > d0 and w.start < d1)
        row["gain_h"] = round(row["scenario_h"] - row["baseline_h"], 2)
        out.append(row)
    return out
