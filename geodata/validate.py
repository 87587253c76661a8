"""Judge a geodata set: every rule broken becomes a Finding naming the file, feature and property.

Errors make `twin geodata check` exit non-zero; warnings are printed and do not (for example a
surveyed shoal inside the channel, which is a fact to show, not a fault of the data).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely

from geodata.load import WGS84_NAMES, Feature, GeodataError, RawSet, read_layers
from twin.port import CONFIDENCES, LocalMetric

COMMON = ("id", "source", "confidence")
NAMED = ("name_zh", "name_en")
REQUIRED: dict[str, tuple[str, ...]] = {
    "land": COMMON,
    "channel": COMMON + NAMED + ("chainage_from_km", "chainage_to_km", "width_m", "design_depth_m",
                                 "one_way", "part", "kind"),
    "channel_axis": (*COMMON, "chainage_km"),
    "berths": COMMON + NAMED + ("terminal", "port_area", "length_m", "design_depth_m", "max_dwt",
                                "cargo"),
    "berth_pockets": (*COMMON, "design_depth_m"),
    "anchorages": COMMON + NAMED + ("kind", "depth_m"),
    "gates": COMMON + NAMED + ("terminal", "lanes", "direction"),
    "zones": COMMON + NAMED + ("kind",),
    "sensors": COMMON + NAMED + ("kind", "range_m"),
    "shoals": (*COMMON, "depth_m"),
}
GEOM_TYPES: dict[str, tuple[str, ...]] = {
    "land": ("Polygon", "MultiPolygon"),
    "channel": ("Polygon",),
    "channel_axis": ("LineString",),
    "berths": ("LineString",),
    "berth_pockets": ("Polygon",),
    "anchorages": ("Polygon",),
    "gates": ("Point",),
    "zones": ("Polygon", "MultiPolygon"),
    "sensors": ("Point",),
    "shoals": ("Point",),
}
QUAY_MAX_FROM_COAST_M = 100.0
# Share of an area allowed on land before it counts as "on land": coastline data is generalised
# at the metre scale, so a polygon drawn to the waterline may graze it.
ON_LAND_TOLERANCE = 0.01
DEPTH_TOLERANCE_M = 0.1
SHOAL_RADIUS_M = 300.0


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    file: str
    feature: str
    prop: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: feature {self.feature}" + (f": property {self.prop}" if self.prop else "")
        return f"{self.level.upper()} {where}: {self.message}"


@dataclass
class Report:
    root: Path
    findings: list[Finding]
    summary: dict[str, Any]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _err(out: list[Finding], feat: Feature | str, prop: str, message: str, feature_id: str = "") -> None:
    if isinstance(feat, Feature):
        out.append(Finding("error", feat.file, feat.id, prop, message))
    else:
        out.append(Finding("error", feat, feature_id or "-", prop, message))


def check_schema(raw: RawSet, out: list[Finding]) -> None:
    """CRS, required properties, confidence vocabulary, geometry presence/validity/type, ids."""
    for layer, features in raw.layers.items():
        file = raw.files.get(layer, layer)
        crs = raw.crs.get(layer)
        if crs is not None and str(crs) not in WGS84_NAMES:
            _err(out, file, "crs", f"CRS is {crs!r}; the twin needs WGS84 lon/lat "
                 "(OGC:CRS84 or EPSG:4326)", "(layer)")
        seen: set[str] = set()
        for feat in features:
            for prop in REQUIRED[layer]:
                if feat.properties.get(prop) in (None, ""):
                    _err(out, feat, prop, "required property is missing or empty")
            conf = feat.properties.get("confidence")
            if conf not in (None, "") and conf not in CONFIDENCES:
                _err(out, feat, "confidence", f"{conf!r} is not one of {', '.join(CONFIDENCES)}")
            if feat.id in seen:
                _err(out, feat, "id", "duplicate id in this layer")
            seen.add(feat.id)
            geom = feat.geometry
            if geom is None or geom.is_empty:
                _err(out, feat, "geometry", "geometry is missing or empty")
            elif not geom.is_valid:
                _err(out, feat, "geometry", f"invalid geometry: {shapely.is_valid_reason(geom)}")
            elif geom.geom_type not in GEOM_TYPES[layer]:
                _err(out, feat, "geometry", f"{geom.geom_type} where {layer} needs "
                     f"{' or '.join(GEOM_TYPES[layer])}")


def _usable(feat: Feature) -> bool:
    return feat.geometry is not None and not feat.geometry.is_empty and feat.geometry.is_valid


def check_geography(raw: RawSet, metric: LocalMetric, out: list[Finding]) -> dict[str, Any]:
    """Quays on the shore, pockets/anchorages/channel in water, channel joins and chainage."""
    land_feats = [f for f in raw.layers["land"] if _usable(f)]
    if not land_feats:
        return {}
    land_m = metric.to_m(shapely.union_all([f.geometry for f in land_feats]))
    shapely.prepare(land_m)
    coast_m = land_m.boundary

    def land_share(geom: Any) -> float:
        area_m = metric.to_m(geom)
        return float(area_m.intersection(land_m).area / area_m.area) if area_m.area > 0 else 1.0

    pockets = {f.properties.get("berth_id", f.id): f for f in raw.layers["berth_pockets"]}
    for berth in raw.layers["berths"]:
        if _usable(berth):
            quay_m = metric.to_m(berth.geometry)
            gap = max(shapely.Point(c).distance(coast_m) for c in quay_m.coords)
            if gap > QUAY_MAX_FROM_COAST_M:
                _err(out, berth, "geometry", f"quay is {gap:.0f} m from the coastline "
                     f"(at most {QUAY_MAX_FROM_COAST_M:.0f} m)")
        pocket = pockets.get(berth.id)
        if pocket is None:
            _err(out, berth, "id", "berth has no pocket in berth_pockets")
        elif _usable(pocket) and (share := land_share(pocket.geometry)) > ON_LAND_TOLERANCE:
            _err(out, pocket, "geometry", f"berth pocket is {share:.0%} on land")
    for layer in ("anchorages", "channel"):
        for feat in raw.layers[layer]:
            if _usable(feat) and (share := land_share(feat.geometry)) > ON_LAND_TOLERANCE:
                kind = "anchorage" if layer == "anchorages" else "channel segment"
                _err(out, feat, "geometry", f"{kind} is {share:.0%} on land")
    fairway = [metric.to_m(f.geometry) for f in raw.layers["channel"] if _usable(f)]
    for anc in raw.layers["anchorages"]:
        if _usable(anc) and any(metric.to_m(anc.geometry).intersects(seg) for seg in fairway):
            _err(out, anc, "geometry", "anchorage overlaps the channel")
    return check_channel(raw, metric, out)


def check_channel(raw: RawSet, metric: LocalMetric, out: list[Finding]) -> dict[str, Any]:
    segs = [f for f in raw.layers["channel"] if _usable(f)]
    try:
        segs.sort(key=lambda f: float(f.properties["chainage_from_km"]))
    except (KeyError, TypeError, ValueError):
        return {}  # missing chainage already reported by check_schema
    prev: Feature | None = None
    for seg in segs:
        k_from = float(seg.properties["chainage_from_km"])
        k_to = float(seg.properties["chainage_to_km"])
        if not k_to > k_from:
            _err(out, seg, "chainage_to_km", f"chainage does not rise: K{k_from} → K{k_to}")
        if prev is not None:
            p_to = float(prev.properties["chainage_to_km"])
            if abs(p_to - k_from) > 1e-6:
                _err(out, seg, "chainage_from_km", f"starts at K{k_from} but {prev.id} ends at K{p_to}")
            gap = metric.to_m(prev.geometry).distance(metric.to_m(seg.geometry))
            if gap > 1.0:
                _err(out, seg, "geometry", f"does not join {prev.id}: {gap:.0f} m apart")
        prev = seg
    axis = raw.layers["channel_axis"][0] if raw.layers["channel_axis"] else None
    if axis is None or not _usable(axis):
        return {}
    assert axis.geometry is not None  # _usable checked it
    chain = [float(c) for c in axis.properties.get("chainage_km") or []]
    if len(chain) != len(axis.geometry.coords):
        _err(out, axis, "chainage_km", f"{len(chain)} chainages for {len(axis.geometry.coords)} vertices")
        return {}
    if any(b <= a for a, b in itertools.pairwise(chain)):
        _err(out, axis, "chainage_km", f"chainage is not monotonic along the axis: {chain}")
        return {}
    return {"channel_km": chain[-1] - chain[0], "segments": len(segs)}


def check_bathymetry(raw: RawSet, metric: LocalMetric, out: list[Finding]) -> dict[str, Any]:
    """Every grid cell inside a segment against its design depth (shoal notices excepted)."""
    import xarray as xr

    name = raw.manifest.get("files", {}).get("bathymetry")
    if not name:
        return {}
    path = raw.root / name
    try:
        with xr.open_dataset(path) as ds:
            depth = ds["depth"].load()
    except (OSError, KeyError, ValueError) as exc:
        _err(out, name, "depth", f"bathymetry cannot be read: {exc}", "(grid)")
        return {}
    if depth.attrs.get("positive") != "down":
        _err(out, name, "depth", "variable 'depth' must say positive='down' (metres below chart datum)",
             "(grid)")
        return {}
    lon2, lat2 = np.meshgrid(depth["lon"].to_numpy(), depth["lat"].to_numpy())
    grid = depth.to_numpy()
    shoals = [metric.to_m(f.geometry) for f in raw.layers.get("shoals", []) if _usable(f)]
    samples = 0
    for seg in raw.layers["channel"]:
        if not _usable(seg):
            continue
        design = float(seg.properties["design_depth_m"])
        inside = shapely.contains_xy(seg.geometry, lon2, lat2)
        samples += int(inside.sum())
        worst: tuple[float, float, float] | None = None
        for r, c in zip(*np.nonzero(inside & ~(grid >= design - DEPTH_TOLERANCE_M)), strict=True):
            lon, lat, value = float(lon2[r, c]), float(lat2[r, c]), float(grid[r, c])
            here = metric.to_m(shapely.Point(lon, lat))
            if not np.isnan(value) and any(here.distance(s) <= SHOAL_RADIUS_M for s in shoals):
                out.append(Finding("warning", name, seg.id, "design_depth_m",
                                   f"grid {value:.2f} m < design {design} m at {lat:.5f}N {lon:.5f}E, "
                                   "a surveyed shoal listed in shoals"))
                continue
            if worst is None or np.isnan(value) or value < worst[2]:
                worst = (lon, lat, value)
        if worst is not None:
            lon, lat, value = worst
            got = "land (no depth)" if np.isnan(value) else f"{value:.2f} m"
            _err(out, name, "design_depth_m", f"grid gives {got} at {lat:.5f}N {lon:.5f}E inside "
                 f"the segment, shallower than its design depth {design} m", seg.id)
    return {"bathymetry_samples": samples, "grid_cells": int(depth.size)}


def check_references(raw: RawSet, out: list[Finding]) -> None:
    known = {f.id for layer in ("berths", "anchorages", "channel", "gates") for f in raw.layers[layer]}
    for zone in raw.layers["zones"]:
        members = zone.properties.get("members") or []
        if isinstance(members, str):
            continue
        for member in members:
            if member not in known:
                _err(out, zone, "members", f"member {member!r} is not a berth, anchorage, segment or gate")


def validate(root: str | Path | None = None) -> Report:
    """Read and judge a geodata set; GeodataError only when it cannot be read at all."""
    raw = read_layers(root)
    findings: list[Finding] = []
    check_schema(raw, findings)
    metric_cfg = raw.manifest.get("metric", {})
    try:
        metric = LocalMetric(float(metric_cfg["lon0"]), float(metric_cfg["lat0"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise GeodataError(f"{raw.root / 'port.toml'}: [metric] lon0/lat0 missing or not numbers") from exc
    summary: dict[str, Any] = {layer: len(feats) for layer, feats in raw.layers.items()}
    summary.update(check_geography(raw, metric, findings))
    summary.update(check_bathymetry(raw, metric, findings))
    check_references(raw, findings)
    return Report(raw.root, findings, summary)
