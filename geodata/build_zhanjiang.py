"""Rebuild the bundled Zhanjiang geodata (everything but land and tide) from `zhanjiang_facts`.

    python -m geodata.build_zhanjiang

Reads `zhanjiang/land.geojson` (made by `geodata.build_land` from OSM) and writes the channel,
berths (quays snapped onto the real coastline, pockets on the water side), anchorages, gates,
zones, sensors, shoals and the bathymetry grid. Deterministic: the same facts give the same files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

from geodata import zhanjiang_facts as F
from geodata.bathymetry_build import build_bathymetry
from twin.port import LocalMetric

OUT = Path(__file__).parent / "zhanjiang"
METRIC = LocalMetric(lon0=110.5, lat0=21.1)
CRS84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
BBOX = (110.0, 20.7, 111.0, 21.4)


def _m(geom: Any) -> Any:
    return METRIC.to_m(geom)


def _ll(geom: Any) -> Any:
    return shapely.set_precision(METRIC.to_lonlat(geom), 1e-7)


def _write(layer: str, features: list[dict[str, Any]]) -> None:
    collection = {"type": "FeatureCollection", "name": layer, "crs": CRS84, "features": features}
    text = json.dumps(collection, ensure_ascii=False, indent=1)
    (OUT / f"{layer}.geojson").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {layer}.geojson ({len(features)} features)")


def _feature(props: dict[str, Any], geom: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": props["id"], "properties": props,
            "geometry": shapely.geometry.mapping(geom)}


def load_land() -> shapely.MultiPolygon:
    data = json.loads((OUT / "land.geojson").read_text(encoding="utf-8"))
    land = shapely.geometry.shape(data["features"][0]["geometry"])
    assert isinstance(land, shapely.MultiPolygon)
    return land


# ---- channel ------------------------------------------------------------------------------


def build_axis() -> tuple[shapely.LineString, list[float]]:
    """Channel axis in metres with the chainage of each vertex (sea end first)."""
    ax, ay = METRIC.xy(np.array([F.K34_32[1]]), np.array([F.K34_32[2]]))
    bx, by = METRIC.xy(np.array([F.K40_29[1]]), np.array([F.K40_29[2]]))
    a, b = np.array([ax[0], ay[0]]), np.array([bx[0], by[0]])
    seaward = (a - b) / np.linalg.norm(a - b)
    k0 = a + seaward * F.K34_32[0] * 1000.0  # straight extension of the official B axis
    inner_ll = [F.MOUTH, *F.INNER_WAYPOINTS]
    ix, iy = METRIC.xy(np.array([p[0] for p in inner_ll]), np.array([p[1] for p in inner_ll]))
    inner = shapely.LineString(np.column_stack([ix, iy]))
    inner_km = F.CHANNEL_LENGTH_KM - F.MOUTH_CHAINAGE_KM
    if inner.length < inner_km * 1000:
        raise ValueError(f"inner waypoints give {inner.length:.0f} m, need {inner_km * 1000:.0f} m")
    inner = substring(inner, 0, inner_km * 1000)  # the inner end lies where 16.9 km run out
    coords = [tuple(k0), tuple(a), tuple(b), *inner.coords]
    along = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(np.array(inner.coords), axis=0).T))])
    chain = [0.0, F.K34_32[0], F.K40_29[0]] + [F.MOUTH_CHAINAGE_KM + d / 1000 for d in along]
    return shapely.LineString(coords), [round(c, 4) for c in chain]


def axis_point(axis: shapely.LineString, chain: list[float], km: float) -> float:
    """Distance along the metric axis (m) of a chainage, linear between vertices."""
    xy = np.array(axis.coords)
    dist = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    return float(np.interp(km, chain, dist))


SEGMENTS = (
    # id, zh, en, from_km, to_km, width, depth, one_way, part, kind, source, confidence
    ("CH-OUT-1", "外航道K0–K17", "Outer channel K0–K17", 0.0, 17.0, F.CHANNEL_WIDTH_M,
     F.OUTER_DEPTH_M, True, "outer", "channel",
     "S3 width/depth (official); route seaward of K34.32 is the straight extension of the official "
     "B axis (estimate)", "estimate"),
    ("CH-OUT-2", "外航道K17–K34.32", "Outer channel K17–K34.32", 17.0, 34.32, F.CHANNEL_WIDTH_M,
     F.OUTER_DEPTH_M, True, "outer", "channel", "as CH-OUT-1", "estimate"),
    ("CH-OUT-B1", "外航道B段K34.32–K34.796", "Outer channel B K34.32–K34.796", 34.32, 34.796,
     F.CHANNEL_WIDTH_M, F.OUTER_DEPTH_M, True, "outer", "channel",
     "S1 (official): bottom −23.6 m, width 340 m, CGCS2000 axis points", "official"),
    ("CH-OUT-B2", "外航道B段K34.796–K40.29", "Outer channel B K34.796–K40.29", 34.796, 40.29,
     F.CHANNEL_WIDTH_M, F.B_DEEP_DEPTH_M, True, "outer", "channel",
     "S1 (official): bottom −23.9 m, navigable depth 23.2 m, width 340 m", "official"),
    ("CH-PASS-OUT", "会船区（湾外段）", "Passing area (outer part)", 40.29, F.MOUTH_CHAINAGE_KM,
     F.PASSING_WIDTH_M, F.OUTER_DEPTH_M, False, "outer", "passing_area",
     "S3 (official): 7,408 m × 510 m near the bay mouth, same depth, 300k laden + 150k laden "
     "two-way; its placement K40.29–K47.698 is an estimate", "estimate"),
    ("CH-PASS-IN", "会船区（湾内段）", "Passing area (inner part)", F.MOUTH_CHAINAGE_KM,
     40.29 + F.PASSING_LENGTH_M / 1000, F.PASSING_WIDTH_M, F.INNER_DEPTH_M, False, "inner",
     "passing_area", "as CH-PASS-OUT; inner design depth −23.0 m (S3)", "estimate"),
    ("CH-IN-1", "内航道（湾口–特呈岛）", "Inner channel (mouth–Techeng)",
     40.29 + F.PASSING_LENGTH_M / 1000, 57.0, F.CHANNEL_WIDTH_M, F.INNER_DEPTH_M, True, "inner",
     "channel", "S3 (official) depth/width; route estimate", "estimate"),
    ("CH-IN-2", "内航道（特呈岛–霞山）", "Inner channel (Techeng–Xiashan)", 57.0,
     F.CHANNEL_LENGTH_KM, F.CHANNEL_WIDTH_M, F.INNER_DEPTH_M, True, "inner", "channel",
     "S3 (official) depth/width; route estimate", "estimate"),
)


def build_channel() -> tuple[list[dict[str, Any]], list[dict[str, Any]], shapely.LineString, list[float]]:
    axis, chain = build_axis()
    segments = []
    for sid, zh, en, k_from, k_to, width, depth, one_way, part, kind, source, conf in SEGMENTS:
        centre = substring(axis, axis_point(axis, chain, k_from), axis_point(axis, chain, k_to))
        area = centre.buffer(width / 2, cap_style="flat", join_style="mitre", mitre_limit=3)
        props = {
            "id": sid, "name_zh": zh, "name_en": en,
            "chainage_from_km": round(k_from, 4), "chainage_to_km": round(k_to, 4),
            "width_m": width, "design_depth_m": depth, "one_way": one_way,
            "one_way_min_dwt": F.ONE_WAY_MIN_DWT if one_way else None,
            "part": part, "kind": kind, "source": source, "confidence": conf,
        }
        segments.append(_feature(props, _ll(area)))
    axis_props = {
        "id": "CH-AXIS", "name_zh": "湛江港30万吨级航道中心线", "name_en": "Main channel axis",
        "chainage_km": chain,
        "source": "K34.32 and K40.29 from S1 (official); bay mouth K47.2 from S3 lengths; other "
        "vertices estimate", "confidence": "estimate",
    }
    axis_features = [_feature(axis_props, _ll(axis))]
    return segments, axis_features, axis, chain


# ---- berths -------------------------------------------------------------------------------

BEAM_BY_DWT = [(3_000, 16), (5_000, 18), (10_000, 22), (20_000, 27), (35_000, 32), (50_000, 32),
               (70_000, 38), (100_000, 44), (150_000, 50), (250_000, 57), (300_000, 60), (400_000, 65)]


def pocket_width_m(max_dwt: int) -> float:
    """Berth pocket width: 1.5 design beams + 20 m (estimate; beams typical for the DWT class)."""
    beam = next(b for dwt, b in BEAM_BY_DWT if max_dwt <= dwt)
    return 1.5 * beam + 20.0


def _coast_rings(land_m: Any) -> list[shapely.LineString]:
    """Coastline rings in metres, without the artificial edges of the clipping box."""
    box_m = _m(shapely.box(*BBOX)).exterior.buffer(5.0)
    rings = []
    for poly in land_m.geoms:
        for ring in [poly.exterior, *poly.interiors]:
            # quays are straight: a 40 m generalisation keeps them off small pier outlines
            rings.append(shapely.LineString(ring.coords).simplify(40.0))
    return [r for r in rings if r.difference(box_m).length > 0]


def _ring_piece(ring: shapely.LineString, a: float, b: float) -> shapely.LineString:
    """Piece of a closed ring from distance a to b (either order, may wrap past the start)."""
    length = ring.length
    doubled = shapely.LineString(list(ring.coords) + list(ring.coords)[1:])
    lo, hi = min(a, b), max(a, b)
    if lo < 0:
        lo, hi = lo + length, hi + length
    piece = substring(doubled, lo, hi)
    return piece if a <= b else piece.reverse()


def build_berths(land: shapely.MultiPolygon) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    land_m = _m(land)
    rings = _coast_rings(land_m)
    berths, pockets = [], []
    for term in F.TERMINALS:
        ax, ay = METRIC.xy(np.array([term.anchor[0]]), np.array([term.anchor[1]]))
        tx, ty = METRIC.xy(np.array([term.toward[0]]), np.array([term.toward[1]]))
        anchor, toward = shapely.Point(ax[0], ay[0]), shapely.Point(tx[0], ty[0])
        ring = min(rings, key=lambda r: r.distance(anchor))
        s = ring.project(anchor)
        ahead = (ring.project(toward) - s) % ring.length
        direction = 1.0 if ahead < ring.length / 2 else -1.0
        for berth in term.berths:
            start = s + direction * berth.gap_m
            end = start + direction * berth.length_m
            quay = _ring_piece(ring, start, end).simplify(3.0)
            s = end
            width = pocket_width_m(berth.max_dwt)
            sides = [quay.buffer(d, single_sided=True, cap_style="flat") for d in (width, -width)]
            pocket = min(sides, key=lambda p: p.intersection(land_m).area).difference(land_m.buffer(1.0))
            if pocket.geom_type == "MultiPolygon":
                pocket = max(pocket.geoms, key=lambda p: p.area)
            common = {
                "id": berth.id, "name_zh": berth.name_zh, "name_en": berth.name_en,
                "terminal": term.id, "terminal_zh": term.name_zh, "terminal_en": term.name_en,
                "port_area": term.port_area, "length_m": berth.length_m,
                "design_depth_m": berth.design_depth_m, "max_dwt": berth.max_dwt,
                "cargo": berth.cargo, "status": berth.status,
                "source": berth.source + "; quay position snapped onto the OSM coastline (estimate)",
                "confidence": berth.confidence,
            }
            berths.append(_feature(common, _ll(quay)))
            pocket_props = {"id": berth.id, "berth_id": berth.id, "pocket_width_m": width,
                            "design_depth_m": berth.design_depth_m,
                            "source": "pocket = 1.5 design beams + 20 m on the water side of the "
                            "quay (estimate)", "confidence": "estimate"}
            pockets.append(_feature(pocket_props, _ll(pocket)))
    return berths, pockets


# ---- anchorages, gates, sensors, zones ----------------------------------------------------


def _rectangle(centre: tuple[float, float], along_m: float, across_m: float, heading_deg: float) -> Any:
    cx, cy = METRIC.xy(np.array([centre[0]]), np.array([centre[1]]))
    h = np.radians(heading_deg)
    u = np.array([np.sin(h), np.cos(h)])  # along the long side (compass heading)
    v = np.array([u[1], -u[0]])
    c = np.array([cx[0], cy[0]])
    corners = [c + sa * along_m / 2 * u + sb * across_m / 2 * v
               for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    return shapely.Polygon(corners)


def build_anchorages() -> list[dict[str, Any]]:
    out = []
    for aid, zh, en, kind, max_dwt, depth, centre, along, across, heading, source in F.ANCHORAGES:
        area = _rectangle(centre, along, across, heading)
        props = {"id": aid, "name_zh": zh, "name_en": en, "kind": kind, "max_dwt": max_dwt,
                 "depth_m": depth, "source": source, "confidence": "estimate"}
        out.append(_feature(props, _ll(area)))
    return out


def build_gates() -> list[dict[str, Any]]:
    return [
        _feature({"id": gid, "name_zh": zh, "name_en": en, "terminal": terminal, "lanes": lanes,
                  "direction": direction, "source": source, "confidence": "estimate"},
                 shapely.Point(*pos))
        for gid, zh, en, terminal, lanes, direction, pos, source in F.GATES
    ]


def build_sensors() -> list[dict[str, Any]]:
    return [
        _feature({"id": sid, "name_zh": zh, "name_en": en, "kind": kind, "range_m": rng,
                  "status": status, "source": source, "confidence": "estimate"},
                 shapely.Point(*pos))
        for sid, zh, en, kind, pos, rng, status, source in F.SENSORS
    ]


def build_zones(channel: list[dict[str, Any]], berths: list[dict[str, Any]],
                pockets: list[dict[str, Any]], anchorages: list[dict[str, Any]],
                gates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def shape(f: dict[str, Any]) -> Any:
        return _m(shapely.geometry.shape(f["geometry"]))

    zones = []
    for anc in anchorages:
        p = anc["properties"]
        zones.append(_feature({"id": f"Z-{p['id']}", "name_zh": p["name_zh"], "name_en": p["name_en"],
                               "kind": "anchorage", "members": [p["id"]],
                               "source": "same polygon as the anchorage", "confidence": "estimate"},
                              shapely.geometry.shape(anc["geometry"])))
    for part, zh, en in (("outer", "湾外航道", "Outer channel"), ("inner", "湾内航道", "Inner channel")):
        members = [f for f in channel if f["properties"]["part"] == part]
        area = shapely.union_all([shape(f).buffer(2.0) for f in members]).buffer(-2.0)
        zones.append(_feature({"id": f"Z-CH-{part.upper()}", "name_zh": zh, "name_en": en,
                               "kind": "channel", "members": [f["id"] for f in members],
                               "source": "union of the channel segments", "confidence": "estimate"},
                              _ll(area)))
    pocket_by_id = {f["id"]: f for f in pockets}
    for area_id, (zh, en) in F.PORT_AREAS.items():
        members = [f for f in berths if f["properties"]["port_area"] == area_id]
        parts = [shape(f) for f in members] + [shape(pocket_by_id[f["id"]]) for f in members]
        area = shapely.union_all(parts).convex_hull.buffer(400.0)
        zones.append(_feature({"id": f"Z-PA-{area_id.upper()}", "name_zh": zh, "name_en": en,
                               "kind": "port_area", "members": [f["id"] for f in members],
                               "source": "convex hull of the area's quays and pockets + 400 m "
                               "(estimate)", "confidence": "estimate"}, _ll(area)))
    complexes = {"BM-CT": ("宝满集装箱闸口区", "Baoman container gate complex"),
                 "ZJ-CBZ": ("综保区卡口区", "Bonded zone gate complex")}
    for terminal, (zh, en) in complexes.items():
        members = [g for g in gates if g["properties"]["terminal"] == terminal]
        area = shapely.union_all([shape(g) for g in members]).convex_hull.buffer(250.0)
        zones.append(_feature({"id": f"Z-GATE-{terminal}", "name_zh": zh, "name_en": en,
                               "kind": "gate_complex", "members": [g["id"] for g in members],
                               "source": "gates + 250 m (estimate)", "confidence": "estimate"},
                              _ll(area)))
    limit = shapely.box(*F.PORT_LIMIT_BOX)
    zones.append(_feature({"id": "Z-PORT-LIMIT", "name_zh": "湛江港港界", "name_en": "Port limits",
                           "kind": "port_limit", "members": [],
                           "source": F.PORT_LIMIT_SOURCE, "confidence": "estimate"}, limit))
    return zones


def build_shoals() -> list[dict[str, Any]]:
    s = F.SHOAL_B_SEGMENT
    props = {"id": s["id"], "depth_m": s["depth_m"], "surveyed": s["surveyed"],
             "source": s["source"], "confidence": "official"}
    return [_feature(props, shapely.Point(s["lon"], s["lat"]))]


def main() -> None:
    land = load_land()
    channel, axis_features, _axis, _chain = build_channel()
    berths, pockets = build_berths(land)
    anchorages = build_anchorages()
    gates = build_gates()
    sensors = build_sensors()
    zones = build_zones(channel, berths, pockets, anchorages, gates)
    shoals = build_shoals()
    _write("channel", channel)
    _write("channel_axis", axis_features)
    _write("berths", berths)
    _write("berth_pockets", pockets)
    _write("anchorages", anchorages)
    _write("gates", gates)
    _write("sensors", sensors)
    _write("zones", zones)
    _write("shoals", shoals)
    build_bathymetry(OUT, land, channel, pockets, shoals, anchorages, METRIC)


if __name__ == "__main__":
    main()
