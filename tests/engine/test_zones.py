"""The H3 zone index answers exactly as plain shapely point-in-polygon does."""

from __future__ import annotations

import numpy as np
import polars as pl
import shapely

from twin.port import Port
from twin.zones import LOCATION_SCHEMA, ZoneIndex


def brute(index: ZoneIndex, lon: np.ndarray, lat: np.ndarray) -> pl.DataFrame:
    rows, feats = [], []
    for i, fid in enumerate(index.fids):
        r = np.flatnonzero(shapely.contains_xy(index.geoms[fid], lon, lat))
        rows.append(r)
        feats.append(np.full(r.size, i, dtype=np.int32))
    return index.resolve_hits(lon.size, np.concatenate(rows), np.concatenate(feats))


def test_batch_scalar_and_brute_force_agree_on_points_near_every_feature(port: Port) -> None:
    index = ZoneIndex(port)
    rng = np.random.default_rng(5)
    centres = [g.centroid for g in index.geoms.values() if g.area < 0.01]  # all but the port limit
    pick = rng.integers(0, len(centres), 20_000)
    lon = np.array([centres[i].x for i in pick]) + rng.normal(0, 0.003, pick.size)
    lat = np.array([centres[i].y for i in pick]) + rng.normal(0, 0.003, pick.size)
    batch = index.locate(lon, lat)
    assert batch.schema == pl.Schema(LOCATION_SCHEMA)
    assert batch.equals(brute(index, lon, lat))
    scalar = pl.DataFrame([index.lookup(x, y).__dict__ for x, y in zip(lon[:3000], lat[:3000], strict=True)],
                          schema=LOCATION_SCHEMA)
    assert scalar.equals(batch.head(3000))
    assert batch["berth_id"].drop_nulls().n_unique() > 20  # the sample did reach the berth pockets


def test_known_places(port: Port) -> None:
    index = ZoneIndex(port)
    pocket = port.berths["XS-ORE-400K"].pocket.centroid
    loc = index.lookup(pocket.x, pocket.y)
    assert (loc.berth_id, loc.zone_id, loc.in_port_limit) == ("XS-ORE-400K", "Z-PA-XIASHAN", True)
    anc = port.anchorages["ANC-IN-1"].area.centroid
    assert index.lookup(anc.x, anc.y).anchorage_id == "ANC-IN-1"
    pilot = port.anchorages["ANC-PILOT"].area.centroid
    loc = index.lookup(pilot.x, pilot.y)
    assert (loc.anchorage_id, loc.in_pilot_area) == ("ANC-PILOT", True)
    loc = index.lookup(*port.channel.position_at(50.0))
    assert (loc.segment_id, loc.zone_id) == ("CH-IN-1", "Z-CH-INNER")
    assert not index.lookup(111.5, 20.5).in_port_limit
    assert index.locate(np.array([]), np.array([])).is_empty()
