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
import h3.api.basic_int as h3i
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
        return np.array([h3i.latlng_to_cell(a, o, res) for a, o in
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
        self._build_arrays()

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
        cell = h3i.latlng_to_cell(lat, lon, self.res)  # the int API: no hex-string round trip
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

    def _build_arrays(self) -> None:
        """The index as integer arrays for `locate`: cells sorted, a CSR of (feature, sure) per cell.

        Features get integer ids in sorted-name order; per kind a preference rank (smaller wins)
        implements the tie rules of `_resolve` with a vectorised minimum.
        """
        self.fids = sorted(self.geoms)
        fnum = {f: i for i, f in enumerate(self.fids)}
        cells = sorted(self._sure.keys() | self._edge.keys())
        self._cells = np.array(cells, dtype=np.uint64)
        feat: list[int] = []
        sure: list[bool] = []
        ptr = [0]
        for c in cells:
            for f in self._sure.get(c, ()):
                feat.append(fnum[f])
                sure.append(True)
            for f in self._edge.get(c, ()):
                feat.append(fnum[f])
                sure.append(False)
            ptr.append(len(feat))
        self._feat = np.array(feat, dtype=np.int32)
        self._sure_arr = np.array(sure, dtype=bool)
        self._ptr = np.array(ptr, dtype=np.int64)
        kinds = ("berth", "anchorage", "segment", "zone")
        self._kind_code = np.array([kinds.index(self.kinds[f]) for f in self.fids], dtype=np.int8)
        rank = np.zeros(len(self.fids), dtype=np.int64)
        zones = sorted((f for f in self.fids if self.kinds[f] == "zone"),
                       key=lambda z: (_ZONE_PRIORITY.get(self.zone_kind[z], 5), self.zone_area[z], z))
        for i, f in enumerate(self.fids):
            if self.kinds[f] == "anchorage":
                rank[i] = i + (len(self.fids) if f == PILOT_AREA_ID else 0)
            elif self.kinds[f] == "zone":
                rank[i] = zones.index(f)
            else:
                rank[i] = i
        self._rank = rank
        # rank → id per kind (ranks are unique within a kind)
        self._rank_names: list[dict[int, str]] = [
            {int(rank[i]): f for i, f in enumerate(self.fids) if self._kind_code[i] == code}
            for code in range(4)]
        self._rank_table: list[np.ndarray] = []
        for names in self._rank_names:
            table = np.full(max(names, default=0) + 2, None, dtype=object)
            for r, f in names.items():
                table[r] = f
            self._rank_table.append(table)

    def locate(self, lon: np.ndarray | pl.Series, lat: np.ndarray | pl.Series) -> pl.DataFrame:
        """Locations of a batch of positions, one row per input row (columns `LOCATION_SCHEMA`).

        Vectorised: H3 cells for the batch, a binary search in the sorted index cells, then one
        `contains_xy` call per feature over its edge-cell candidates only, and a per-kind minimum of
        preference ranks. Ties follow `lookup`: two pockets or segments → the smallest id; an
        anchorage wins over the pilot area it may overlap; zones by kind priority, then area.
        """
        lon_a = np.asarray(lon, float)
        lat_a = np.asarray(lat, float)
        n = lon_a.size
        if n == 0:
            return pl.DataFrame(schema=LOCATION_SCHEMA)
        cells = cells_of(lat_a, lon_a, self.res)
        pos = np.searchsorted(self._cells, cells)
        pos_c = np.minimum(pos, self._cells.size - 1)
        hit = self._cells[pos_c] == cells
        rows_hit = np.flatnonzero(hit)
        start = self._ptr[pos_c[rows_hit]]
        count = self._ptr[pos_c[rows_hit] + 1] - start
        rows = np.repeat(rows_hit, count)
        # positions of each candidate in the CSR: start of its cell + 0..count-1
        offs = np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
        cand = np.repeat(start, count) + offs
        feat = self._feat[cand]
        keep = self._sure_arr[cand].copy()
        edge = np.flatnonzero(~keep)
        if edge.size:
            order = edge[np.argsort(feat[edge], kind="stable")]
            fs = feat[order]
            bounds = np.flatnonzero(np.diff(fs)) + 1
            for grp in np.split(order, bounds):
                r = rows[grp]
                keep[grp] = shapely.contains_xy(self.geoms[self.fids[feat[grp[0]]]], lon_a[r], lat_a[r])
        return self.resolve_hits(n, rows[keep], feat[keep])

    def resolve_hits(self, n: int, rows: np.ndarray, feat: np.ndarray) -> pl.DataFrame:
        """The location frame of `n` positions from (row, feature number) hits (any order).

        Shared by `locate` and by any other way of finding hits (the benchmark's brute force), so
        both answer with the same tie rules. Feature numbers index `self.fids`.
        """
        kind = self._kind_code[feat]
        rank = self._rank[feat]
        big = np.iinfo(np.int64).max
        out: dict[str, pl.Series] = {}
        for code, name in enumerate(("berth_id", "anchorage_id", "segment_id", "zone_id")):
            sel = kind == code
            best = np.full(n, big, dtype=np.int64)
            np.minimum.at(best, rows[sel], rank[sel])
            names = self._rank_table[code]
            picked = names[np.minimum(best, names.size - 1)]  # the last slot is None: "no feature"
            out[name] = pl.Series(name, picked.tolist(), dtype=pl.String)
        fnum_limit = self.fids.index(PORT_LIMIT_ID) if PORT_LIMIT_ID in self.fids else -1
        fnum_pilot = self.fids.index(PILOT_AREA_ID) if PILOT_AREA_ID in self.fids else -1
        in_limit = np.zeros(n, dtype=bool)
        in_limit[rows[feat == fnum_limit]] = True
        in_pilot = np.zeros(n, dtype=bool)
        in_pilot[rows[feat == fnum_pilot]] = True
        return pl.DataFrame({**out, "in_port_limit": in_limit, "in_pilot_area": in_pilot})
