"""Read a port geodata set (GeoJSON files or a GeoPackage) into raw layers and the port model.

A set is a directory holding `port.toml` (identity and which files hold what) and one layer per
kind — `<layer>.geojson`, or `<layer>.gpkg`, or one GeoPackage with a table per layer named in
`port.toml` — plus `bathymetry.nc` and `tide.toml`. Reading is separated from checking:
`read_layers` only parses, `geodata.validate` judges, `build_port` turns valid layers into
`twin.port` objects.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from twin.port import (
    Anchorage,
    Berth,
    ChannelRoute,
    ChannelSegment,
    Gate,
    LocalMetric,
    Port,
    Provenance,
    Sensor,
    Shoal,
    Zone,
)

BUNDLED = Path(__file__).parent / "zhanjiang"
LAYERS = ("land", "channel", "channel_axis", "berths", "berth_pockets", "anchorages", "gates",
          "zones", "sensors", "shoals")
OPTIONAL_LAYERS = ("shoals",)
WGS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326",
               "urn:ogc:def:crs:EPSG::4326", "OGC:CRS84"}


class GeodataError(ValueError):
    """A geodata set that cannot be read; the message names the file and what is wrong."""


@dataclass
class Feature:
    """One feature as read: its file, position in the file, properties and geometry."""

    file: str
    index: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None

    @property
    def id(self) -> str:
        value = self.properties.get("id")
        return str(value) if value is not None else f"#{self.index}"


@dataclass
class RawSet:
    """A geodata set as read from disk, before any judgement."""

    root: Path
    manifest: dict[str, Any]
    layers: dict[str, list[Feature]] = field(default_factory=dict)
    crs: dict[str, str | None] = field(default_factory=dict)  # layer -> CRS as declared
    files: dict[str, str] = field(default_factory=dict)  # layer -> file it came from


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / "port.toml"
    if not path.is_file():
        raise GeodataError(f"{path}: missing; a geodata set needs port.toml (see docs/geodata.md)")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise GeodataError(f"{path}: not valid TOML: {exc}") from exc


def _read_geojson(path: Path) -> tuple[list[Feature], str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeodataError(f"{path}: cannot be read as GeoJSON: {exc}") from exc
    if data.get("type") != "FeatureCollection":
        raise GeodataError(f"{path}: expected a GeoJSON FeatureCollection, got {data.get('type')!r}")
    crs = data.get("crs", {}).get("properties", {}).get("name") if data.get("crs") else None
    features = []
    for i, raw in enumerate(data.get("features", [])):
        geom = None
        if raw.get("geometry"):
            try:
                geom = shapely.geometry.shape(raw["geometry"])
            except (ValueError, TypeError, AttributeError, KeyError):
                geom = None  # reported by the validator as an invalid geometry
        features.append(Feature(path.name, i, dict(raw.get("properties") or {}), geom))
    return features, crs or "urn:ogc:def:crs:OGC:1.3:CRS84"  # RFC 7946: no crs member = WGS84


def _read_gpkg(path: Path, layer: str) -> tuple[list[Feature], str | None]:
    import pyogrio  # GeoPackage support only when a set uses it

    try:
        info = pyogrio.read_info(path, layer=layer)
        table = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several driver-specific types; all mean "unreadable"
        raise GeodataError(f"{path}: layer {layer!r} cannot be read: {exc}") from exc
    features = []
    geoms = table.geometry.to_numpy()
    for i, (props, geom) in enumerate(zip(table.drop(columns="geometry").to_dict("records"),
                                          geoms, strict=True)):
        clean = {k: _gpkg_value(v) for k, v in props.items()}
        features.append(Feature(f"{path.name}:{layer}", i, clean, geom))
    return features, info.get("crs")


def _gpkg_value(value: Any) -> Any:
    """A GeoPackage cell as GeoJSON would give it: NaN → None, JSON-text lists → lists."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_layers(root: str | Path | None = None) -> RawSet:
    """Read every layer of a set; raises GeodataError only when a file cannot be read at all."""
    root = Path(root) if root is not None else BUNDLED
    if not root.is_dir():
        raise GeodataError(f"{root}: not a directory")
    manifest = read_manifest(root)
    raw = RawSet(root, manifest)
    gpkg = manifest.get("files", {}).get("geopackage")
    for layer in LAYERS:
        geojson = root / f"{layer}.geojson"
        own_gpkg = root / f"{layer}.gpkg"
        if geojson.is_file():
            raw.layers[layer], raw.crs[layer] = _read_geojson(geojson)
            raw.files[layer] = geojson.name
        elif own_gpkg.is_file():
            raw.layers[layer], raw.crs[layer] = _read_gpkg(own_gpkg, layer)
            raw.files[layer] = own_gpkg.name
        elif gpkg and (root / gpkg).is_file():
            raw.layers[layer], raw.crs[layer] = _read_gpkg(root / gpkg, layer)
            raw.files[layer] = f"{gpkg}:{layer}"
        elif layer not in OPTIONAL_LAYERS:
            raise GeodataError(f"{root}: layer {layer!r} missing (no {layer}.geojson or .gpkg)")
    return raw


def _prov(props: dict[str, Any]) -> Provenance:
    return Provenance(str(props["source"]), props["confidence"])


def build_port(raw: RawSet) -> Port:
    """The port model from a raw set that `geodata.validate` passed (no checks repeated here)."""
    man = raw.manifest
    metric = LocalMetric(float(man["metric"]["lon0"]), float(man["metric"]["lat0"]))
    L = raw.layers
    land = L["land"][0].geometry
    if isinstance(land, shapely.Polygon):
        land = shapely.MultiPolygon([land])
    assert isinstance(land, shapely.MultiPolygon)

    axis_f = L["channel_axis"][0]
    segments = tuple(sorted((ChannelSegment(
        id=f.id, name_zh=f.properties["name_zh"], name_en=f.properties["name_en"],
        chainage_from_km=float(f.properties["chainage_from_km"]),
        chainage_to_km=float(f.properties["chainage_to_km"]),
        width_m=float(f.properties["width_m"]), design_depth_m=float(f.properties["design_depth_m"]),
        one_way=bool(f.properties["one_way"]),
        one_way_min_dwt=(int(f.properties["one_way_min_dwt"])
                         if f.properties.get("one_way_min_dwt") is not None else None),
        part=f.properties["part"], kind=f.properties["kind"], area=f.geometry,
        centreline=shapely.LineString(), provenance=_prov(f.properties),
    ) for f in L["channel"]), key=lambda s: s.chainage_from_km))
    assert isinstance(axis_f.geometry, shapely.LineString)
    route = ChannelRoute(segments, axis_f.geometry,
                         tuple(float(c) for c in axis_f.properties["chainage_km"]), metric)
    segments = tuple(_with_centreline(s, route) for s in segments)
    route = ChannelRoute(segments, route.axis, route.axis_chainage_km, metric)

    pockets = {f.properties.get("berth_id", f.id): f.geometry for f in L["berth_pockets"]}
    berths = {f.id: Berth(
        id=f.id, name_zh=f.properties["name_zh"], name_en=f.properties["name_en"],
        terminal=f.properties["terminal"], port_area=f.properties["port_area"],
        length_m=float(f.properties["length_m"]), design_depth_m=float(f.properties["design_depth_m"]),
        max_dwt=int(f.properties["max_dwt"]), cargo=f.properties["cargo"],
        quay=f.geometry, pocket=pockets[f.id],
        provenance=_prov(f.properties), status=f.properties.get("status", "operational"),
    ) for f in L["berths"]}
    anchorages = {f.id: Anchorage(
        id=f.id, name_zh=f.properties["name_zh"], name_en=f.properties["name_en"],
        kind=f.properties["kind"],
        max_dwt=int(f.properties["max_dwt"]) if f.properties.get("max_dwt") is not None else None,
        depth_m=float(f.properties["depth_m"]), area=f.geometry,
        provenance=_prov(f.properties),
    ) for f in L["anchorages"]}
    gates = {f.id: Gate(
        id=f.id, name_zh=f.properties["name_zh"], name_en=f.properties["name_en"],
        terminal=f.properties["terminal"], lanes=int(f.properties["lanes"]),
        direction=f.properties["direction"], location=f.geometry,
        provenance=_prov(f.properties),
    ) for f in L["gates"]}
    zones = {f.id: Zone(
        id=f.id, name_zh=f.properties["name_zh"], name_en=f.properties["name_en"],
        kind=f.properties["kind"], area=f.geometry,
        members=tuple(_as_list(f.properties.get("members"))), provenance=_prov(f.properties),
    ) for f in L["zones"]}
    sensors = {f.id: Sensor(
        id=f.id, name_zh=f.properties["name_zh"], name_en=f.properties["name_en"],
        kind=f.properties["kind"], location=f.geometry,
        range_m=float(f.properties["range_m"]), status=f.properties.get("status", "operational"),
        provenance=_prov(f.properties),
    ) for f in L["sensors"]}
    shoals = tuple(Shoal(
        id=f.id, depth_m=float(f.properties["depth_m"]), location=f.geometry,
        surveyed=str(f.properties.get("surveyed", "")), provenance=_prov(f.properties),
    ) for f in L.get("shoals", []))
    files = {layer: str(raw.root / name) for layer, name in raw.files.items()}
    for kind in ("bathymetry", "tide"):
        name = man.get("files", {}).get(kind)
        if name:
            files[kind] = str(raw.root / name)
    return Port(
        id=man["port"]["id"], name_zh=man["port"]["name_zh"], name_en=man["port"]["name_en"],
        unlocode=man["port"].get("unlocode", ""), metric=metric, land=land, channel=route,
        berths=berths, anchorages=anchorages, gates=gates, zones=zones, sensors=sensors,
        shoals=shoals, files=files,
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # GeoPackage stores lists as JSON text
        return [str(v) for v in json.loads(value)] if value.startswith("[") else [value]
    return [str(v) for v in value]


def _with_centreline(seg: ChannelSegment, route: ChannelRoute) -> ChannelSegment:
    from dataclasses import replace

    km = [seg.chainage_from_km]
    km += [c for c in route.axis_chainage_km if seg.chainage_from_km < c < seg.chainage_to_km]
    km.append(seg.chainage_to_km)
    return replace(seg, centreline=shapely.LineString([route.position_at(k) for k in km]))
