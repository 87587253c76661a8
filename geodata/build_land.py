"""Rebuild `geodata/zhanjiang/land.geojson` from real coastline data.

Source: the OpenStreetMap land polygons carried by the `roaring-landmask` package
(`Shapes.wkb(LandmaskProvider.Osm)`), clipped to Zhanjiang Bay and its approaches.
OSM land polygons are derived from the OSM coastline (© OpenStreetMap contributors, ODbL 1.0);
we chose them over GSHHG because they show the modern reclaimed quays at Donghai Island and
the Xiashan piers, which GSHHG (older survey) does not.

Run only to refresh the committed file (needs the `build-geodata` extra):
    python -m geodata.build_land
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely

BBOX = (110.0, 20.7, 111.0, 21.4)  # lon_min, lat_min, lon_max, lat_max (WGS84)
OUT = Path(__file__).parent / "zhanjiang" / "land.geojson"


def build_land() -> shapely.MultiPolygon:
    """Land of the bay area as one MultiPolygon, clipped to BBOX."""
    import roaring_landmask  # build-time only: keeps the 110 MB wheel out of run time

    world = shapely.from_wkb(roaring_landmask.Shapes.wkb(roaring_landmask.LandmaskProvider.Osm))
    parts = shapely.get_parts(world)
    box = shapely.box(*BBOX)
    hits = shapely.STRtree(parts).query(box, predicate="intersects")
    land = shapely.intersection(shapely.union_all(parts[hits]), box)
    land = shapely.set_precision(land, 1e-7)  # ~1 cm: stable output, no spurious slivers
    if land.geom_type == "Polygon":
        land = shapely.MultiPolygon([land])
    assert isinstance(land, shapely.MultiPolygon)
    return land


def main() -> None:
    land = build_land()
    feature = {
        "type": "Feature",
        "id": "land",
        "properties": {
            "id": "land",
            "name_zh": "陆地（湛江湾及其外海）",
            "name_en": "Land (Zhanjiang Bay and approaches)",
            "source": "OpenStreetMap land polygons (© OpenStreetMap contributors, ODbL 1.0) as "
            "bundled in roaring-landmask (LandmaskProvider.Osm), clipped to "
            f"{BBOX[0]}–{BBOX[2]}°E {BBOX[1]}–{BBOX[3]}°N by geodata/build_land.py",
            "confidence": "published",
        },
        "geometry": shapely.geometry.mapping(land),
    }
    collection = {
        "type": "FeatureCollection",
        "name": "land",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [feature],
    }
    OUT.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(land.geoms)} polygons, {shapely.get_num_coordinates(land)} vertices)")


if __name__ == "__main__":
    main()
