"""Fast geofencing: which berth pocket, anchorage, channel segment and zone holds a position.

An H3 index (resolution 9 by default, cells ≈ 0.1 km²) is built once from the port polygons. Each
cell maps to the features that touch it, marked *sure* when the cell lies wholly inside the feature
(no geometry test needed) or *edge* when the cell straddles the feature's boundary (a shapely
point-in-polygon test decides). Most positions fall in sure cells, so a lookup is one H3 cell
computation and one dict access; only positions in the boundary ring pay for a polygon test.

Features indexed (ids as in the port model):
- berth pockets, grown by `berth_tolerance_m` so that ±30 m AIS jitter of a moored ship stays inside;
- anchorages (including the pilot boarding area `ANC-PILOT`);
- channel segments (`CH-…`);
- zones (`Z-…`, the drill-down units, `Z-PORT-LIMIT` among them).

`ZoneIndex.lookup(lon, lat)` answers one position; `ZoneIndex.locate(frame)` a whole batch,
vectorised (polars for the cell join, `shapely.contains_xy` per feature for the edge cells).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import h3
import numpy as np
import polars as pl
import shapely
from shapely.geometry.base import BaseGeometry

from twin.port import Port

FeatureKind = Literal["berth", "anchorage", "segment", "zone"]

# When several zones hold a point, the most specific kind names the vessel's zone.
_ZONE_PRIORITY = {"anchorage": 0, "port_area": 1, "gate_complex": 2, "channel": 3, "port_limit": 9}

PORT_LIMIT_ID = "Z-PORT-LIMIT"
PILOT_AREA_ID = "ANC-PILOT"


@dataclass(frozen=True)
class Location:
    """Where one position lies. Ids are null (None) when the position is in no such feature."""

    berth_id: str | None
    anchorage_id: str | None
    segment_id: str | None
    zone_id: str | None
    in_port_limit: bool
    in_pilot_area: bool


LOCATION_SCHEMA: dict[str, pl.DataType] = {
    "berth_id": pl.String(),
    "anchorage_id": pl.String(),
    "segment_id": pl.String(),
    "zone_id": pl.String(),
    "in_port_limit": pl.Boolean(),
    "in_pilot_area": pl.Boolean(),
}


def cells_of(lat: pl.Series | np.ndarray, lon: pl.Series | np.ndarray, res: int) -> np.ndarray:
    """H3 cells (uint64) of arrays of lat/lon, vectorised with polars-h3 when it is installed."""
    frame = pl.DataFrame({"lat": np.asarray(lat, float), "lon": np.asarray(lon, float)})
    try:
        import polars_h3 as plh3
    except ImportError:  # the scalar h3 loop is twice as slow but gives the same cells
        return np.array([h3.str_to_int(h3.latlng_to_cell(a, o, res)) for a, o in
                         zip(frame["lat"], frame["lon"], strict=True)], dtype=np.uint64)
    return frame.select(plh3.latlng_to_cell("lat", "lon", res).alias("c"))["c"].to_numpy().astype(np.uint64)


class ZoneIndex:
    """H3 cell → candidate features, built from a port model (pure CPU, ~0.1 s for Zhanjiang)."""

    def __init__(self, port: Port, res: int = 9, berth_tolerance_m: float = 40.0) -> None:
        self.res = res
        self.geoms: dict[str, BaseGeometry] = {}
        self.kinds: dict[str, FeatureKind] = {}
        self.zone_kind: dict[str, str] = {}
        self.zone_area: dict[str, float] = {}
        for berth in port.berths.values():
            grown = port.metric.to_lonlat(port.metric.to_m(berth.pocket).buffer(berth_tolerance_m))
            self._add(berth.id, "berth", grown)
        for anc in port.anchorages.values():
            self._add(anc.id, "anchorage", anc.area)
        for seg in port.channel.segments:
            self._add(seg.id, "segment", seg.area)
        for zone in port.zones.values():
            self._add(zone.id, "zone", zone.area)
            self.zone_kind[zone.id] = zone.kind
            self.zone_area[zone.id] = float(zone.area.area)
        for geom in self.geoms.values():
            shapely.prepare(geom)
        sure: dict[int, list[str]] = {}
        edge: dict[int, list[str]] = {}
        for fid, geom in self.geoms.items():
            inside, ring = self._cover(geom)
            for cell in inside:
                sure.setdefault(cell, []).append(fid)
            for cell in ring:
                edge.setdefault(cell, []).append(fid)
        self._sure = {c: tuple(v) for c, v in sure.items()}
        self._edge = {c: tuple(v) for c, v in edge.items()}
        rows = [(c, f, True) for c, fs in self._sure.items() for f in fs]
        rows += [(c, f, False) for c, fs in self._edge.items() for f in fs]
        self.table = pl.DataFrame(rows, schema={"cell": pl.UInt64, "fid": pl.String, "sure": pl.Boolean},
                                  orient="row")

    def _add(self, fid: str, kind: FeatureKind, geom: BaseGeometry) -> None:
        self.geoms[fid] = geom
        self.kinds[fid] = kind

    def _cover(self, geom: BaseGeometry) -> tuple[set[int], set[int]]:
        """(cells wholly inside, boundary-ring cells) of a polygon at the index resolution.

        The ring is the cells that overlap the polygon without lying inside it, widened by one
        cell on each side so that a point on a cell edge is never missed by floating-point luck.
        """
        parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        full: set[int] = set()
        overlap: set[int] = set()
        for part in parts:
            shape = h3.geo_to_h3shape(part)
            full.update(h3.str_to_int(c) for c in h3.h3shape_to_cells_experimental(shape, self.res, "full"))
            overlap.update(h3.str_to_int(c) for c in
                           h3.h3shape_to_cells_experimental(shape, self.res, "overlap"))
        ring = overlap - full
        widened: set[int] = set()
        for cell in ring:
            widened.update(h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(cell), 1))
        return full, (ring | widened) - full

    @property
    def cell_count(self) -> int:
        """Distinct cells in the index."""
        return len(self._sure.keys() | self._edge.keys())

    def features_at(self, lon: float, lat: float) -> list[str]:
        """Ids of every indexed feature holding (lon, lat): O(1) for a sure cell."""
        cell = h3.str_to_int(h3.latlng_to_cell(lat, lon, self.res))
        found = list(self._sure.get(cell, ()))
        for fid in self._edge.get(cell, ()):
            if shapely.contains_xy(self.geoms[fid], lon, lat):
                found.append(fid)
        return found

    def lookup(self, lon: float, lat: float) -> Location:
        """The location of one position."""
        return self._resolve(self.features_at(lon, lat))

    def _resolve(self, fids: list[str]) -> Location:
        berth = anchorage = segment = None
        zones: list[str] = []
        for fid in fids:
            kind = self.kinds[fid]
            if kind == "berth":
                berth = fid if berth is None else min(berth, fid)
            elif kind == "anchorage":
                # an anchorage wins over the pilot area it may overlap; else the smallest id
                key = (fid == PILOT_AREA_ID, fid)
                if anchorage is None or key < (anchorage == PILOT_AREA_ID, anchorage):
                    anchorage = fid
            elif kind == "segment":
                segment = fid if segment is None else min(segment, fid)
            else:
                zones.append(fid)
        zone = min(zones, key=lambda z: (_ZONE_PRIORITY.get(self.zone_kind[z], 5), self.zone_area[z], z),
                   default=None)
        return Location(berth, anchorage, segment, zone, PORT_LIMIT_ID in zones, PILOT_AREA_ID in fids)

    def locate(self, lon: np.ndarray | pl.Series, lat: np.ndarray | pl.Series) -> pl.DataFrame:
        """Locations of a batch of positions, one row per input row (columns `LOCATION_SCHEMA`).

        Vectorised: H3 cells for the batch, a join with the index, then one `contains_xy` call per
        feature over its edge-cell candidates. Ties (two pockets, two segments) go to the
        smallest id, as in `lookup`; an anchorage wins over the pilot area it may overlap.
        """
        lon_a = np.asarray(lon, float)
        lat_a = np.asarray(lat, float)
        n = lon_a.size
        if n == 0:
            return pl.DataFrame(schema=LOCATION_SCHEMA)
        cells = cells_of(lat_a, lon_a, self.res)
        pts = pl.DataFrame({"row": np.arange(n, dtype=np.int64), "cell": cells})
        cand = pts.join(self.table, on="cell", how="inner")
        keep = np.asarray(cand["sure"].to_numpy(), bool).copy()
        rows = cand["row"].to_numpy()
        fids = cand["fid"].to_numpy()
        edge_idx = np.flatnonzero(~keep)
        if edge_idx.size:
            edge_fids = fids[edge_idx]
            for fid in np.unique(edge_fids):
                sel = edge_idx[edge_fids == fid]
                r = rows[sel]
                keep[sel] = shapely.contains_xy(self.geoms[str(fid)], lon_a[r], lat_a[r])
        hits = cand.filter(pl.Series(keep)).with_columns(
            kind=pl.col("fid").replace_strict(self.kinds, return_dtype=pl.String),
            zprio=pl.col("fid").replace_strict(
                {z: _ZONE_PRIORITY.get(k, 5) for z, k in self.zone_kind.items()}, default=99,
                return_dtype=pl.Int64),
            zarea=pl.col("fid").replace_strict(self.zone_area, default=0.0, return_dtype=pl.Float64),
            pilot=pl.col("fid") == PILOT_AREA_ID,
        )
        berth = hits.filter(pl.col("kind") == "berth").group_by("row").agg(berth_id=pl.col("fid").min())
        anc = (hits.filter(pl.col("kind") == "anchorage").sort("row", "pilot", "fid")
               .group_by("row", maintain_order=True)
               .agg(anchorage_id=pl.col("fid").first(), in_pilot_area=pl.col("pilot").any()))
        seg = hits.filter(pl.col("kind") == "segment").group_by("row").agg(segment_id=pl.col("fid").min())
        zone = (hits.filter(pl.col("kind") == "zone").sort("row", "zprio", "zarea", "fid")
                .group_by("row", maintain_order=True)
                .agg(zone_id=pl.col("fid").first(), in_port_limit=(pl.col("fid") == PORT_LIMIT_ID).any()))
        out = pl.DataFrame({"row": np.arange(n, dtype=np.int64)})
        for part in (berth, anc, seg, zone):
            out = out.join(part, on="row", how="left")
        return out.sort("row").select(
            pl.col("berth_id"), pl.col("anchorage_id"), pl.col("segment_id"), pl.col("zone_id"),
            pl.col("in_port_limit").fill_null(False), pl.col("in_pilot_area").fill_null(False))
