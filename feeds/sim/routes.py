"""Water routes for simulated ships: the channel axis plus connectors found over a water grid.

A connector (channel → berth, channel → anchor position, tug base → berth) is the shortest
8-connected path on a 50 m grid of the local metric plane, avoiding land buffered by a clearance
(so that a ship's track keeps off the shore), then simplified while it stays off land. Berth
pockets are always passable: a quay lies on the coastline by construction.

All geometry here is in the port's local metres (`port.metric`); positions go back to lon/lat
only when reports are encoded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from twin.port import Port

CELL_M = 50.0
CLEARANCE_M = 60.0
MARGIN_M = 2500.0


@dataclass(frozen=True)
class Path:
    """A polyline in local metres with its cumulative length (m) at each vertex."""

    xy: np.ndarray  # (n, 2)
    dist_m: np.ndarray  # (n,)

    @staticmethod
    def of(xy: np.ndarray) -> Path:
        xy = np.asarray(xy, float)
        keep = np.concatenate([[True], np.hypot(*np.diff(xy, axis=0).T) > 1e-6])
        xy = xy[keep]
        return Path(xy, np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]))

    @property
    def length_m(self) -> float:
        return float(self.dist_m[-1])

    def reversed(self) -> Path:
        return Path.of(self.xy[::-1])

    def then(self, other: Path) -> Path:
        return Path.of(np.vstack([self.xy, other.xy]))

    def at(self, d_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, course_deg) at distances `d_m` along the path (clipped to its ends)."""
        d = np.clip(d_m, 0.0, self.length_m)
        x = np.interp(d, self.dist_m, self.xy[:, 0])
        y = np.interp(d, self.dist_m, self.xy[:, 1])
        seg = np.clip(np.searchsorted(self.dist_m, d, side="right") - 1, 0, len(self.xy) - 2)
        dx, dy = np.diff(self.xy, axis=0).T
        course = (np.degrees(np.arctan2(dx, dy)) % 360.0)[seg]
        return x, y, course


class Router:
    """Shortest water paths in one port; results are cached per (start, end) rounded to 1 m."""

    def __init__(self, port: Port) -> None:
        self.port = port
        land_m = port.metric.to_m(port.land)
        self._land = land_m
        self._blocked = land_m.buffer(CLEARANCE_M)
        pockets = [port.metric.to_m(b.pocket) for b in port.berths.values()]
        # Pockets (and a cell around them, so the grid can leave them) cut through the shore
        # clearance, never through land itself.
        self._free = shapely.union_all(pockets).buffer(CELL_M).difference(land_m)
        self._obstacle = self._blocked.difference(self._free)
        self._bare = land_m
        shapely.prepare(self._land)
        shapely.prepare(self._obstacle)
        self._cache: dict[tuple[int, int, int, int], Path] = {}

    def on_land(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which metric points lie on land (not buffered)."""
        return shapely.contains_xy(self._land, x, y)

    def path(self, a: tuple[float, float], b: tuple[float, float]) -> Path:
        """Water path from `a` to `b` (metres); a straight line when that stays off the shore.

        Raises ValueError when no path exists inside the search box.
        """
        key = (round(a[0]), round(a[1]), round(b[0]), round(b[1]))
        if key not in self._cache:
            self._cache[key] = self._search(a, b)
        return self._cache[key]

    def _clear(self, line: shapely.LineString) -> bool:
        return not line.intersects(self._obstacle) and not line.intersects(self._land)

    def _clear_bare(self, line: shapely.LineString) -> bool:
        return not line.intersects(self._bare)

    def _search(self, a: tuple[float, float], b: tuple[float, float]) -> Path:
        if self._clear(shapely.LineString([a, b])):
            return Path.of(np.array([a, b]))
        # Narrow basins: retry hugging the shore (no clearance) before giving up.
        for obstacle in (self._obstacle, self._bare):
            for margin in (MARGIN_M, 3 * MARGIN_M):
                found = self._grid_search(a, b, margin, obstacle)
                if found is not None:
                    return found
        raise ValueError(f"no water path from {a} to {b}")

    def _grid_search(self, a: tuple[float, float], b: tuple[float, float], margin: float,
                     obstacle: shapely.Geometry) -> Path | None:
        x0, x1 = min(a[0], b[0]) - margin, max(a[0], b[0]) + margin
        y0, y1 = min(a[1], b[1]) - margin, max(a[1], b[1]) + margin
        nx, ny = int((x1 - x0) / CELL_M) + 1, int((y1 - y0) / CELL_M) + 1
        gx, gy = np.meshgrid(x0 + CELL_M * np.arange(nx), y0 + CELL_M * np.arange(ny))
        box = shapely.box(x0, y0, x1, y1)
        blocked = box.intersection(obstacle)
        ok = ~shapely.contains_xy(blocked, gx, gy)
        ia = (round((a[1] - y0) / CELL_M), round((a[0] - x0) / CELL_M))
        ib = (round((b[1] - y0) / CELL_M), round((b[0] - x0) / CELL_M))
        ok[ia] = ok[ib] = True
        idx = np.arange(nx * ny).reshape(ny, nx)
        rows, cols, wts = [], [], []
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            src = idx[max(0, -dy): ny - max(0, dy), max(0, -dx): nx - max(0, dx)]
            dst = idx[max(0, dy): ny + min(0, dy) or None, max(0, dx): nx + min(0, dx) or None]
            both = ok.ravel()[src] & ok.ravel()[dst]
            s, d = src[both], dst[both]
            w = CELL_M * float(np.hypot(dx, dy))
            rows += [s, d]
            cols += [d, s]
            wts += [np.full(s.size, w), np.full(s.size, w)]
        graph = coo_matrix((np.concatenate(wts), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(nx * ny, nx * ny)).tocsr()
        start, goal = idx[ia], idx[ib]
        dist, pred = dijkstra(graph, indices=start, return_predecessors=True)
        if not np.isfinite(dist[goal]):
            return None
        cells = [goal]
        while cells[-1] != start:
            cells.append(pred[cells[-1]])
        cells.reverse()
        cy, cx = np.divmod(np.array(cells), nx)
        xy = np.column_stack([x0 + cx * CELL_M, y0 + cy * CELL_M])
        xy[0], xy[-1] = a, b
        path = self._simplify(xy, self._clear_bare if obstacle is self._bare else self._clear)
        if shapely.LineString(path.xy).intersects(self._land):
            return Path.of(xy)  # the raw cell path: never simplified across a spit of land
        return path

    def _simplify(self, xy: np.ndarray, clear: Callable[[shapely.LineString], bool]) -> Path:
        """Greedy string pulling: the farthest vertex still in clear line of sight, repeatedly."""
        out = [0]
        i = 0
        n = len(xy)
        while i < n - 1:
            j = n - 1
            while j > i + 1 and not clear(shapely.LineString([xy[i], xy[j]])):
                j = max(i + 1, i + (j - i) // 2) if j - i > 8 else j - 1
            out.append(j)
            i = j
        return Path.of(xy[out])


_ROUTERS: dict[int, tuple[Port, Router]] = {}


def router_for(port: Port) -> Router:
    """The shared `Router` of a port object (routes are pure geometry, so simulations share them)."""
    entry = _ROUTERS.get(id(port))
    if entry is None or entry[0] is not port:
        entry = (port, Router(port))
        _ROUTERS[id(port)] = entry
    return entry[1]
