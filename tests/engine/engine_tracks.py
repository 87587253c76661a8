"""Hand-built AIS tracks on the real port model, for the engine tests.

A `Track` sails straight legs (in local metres) or along the channel by chainage, stays put, or
falls silent; every report is a row of the canonical `ais_position` frame. `marks` keeps the time
of chosen reports (e.g. the first report of a stay) so tests can state when an event began.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from feeds.schema import AIS_POSITION
from twin.port import Port

T0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
SEA = (111.05, 20.955)  # east of the port limit (lon 110.98)


class Track:
    """One vessel's reports, built leg by leg."""

    def __init__(self, port: Port, mmsi: int, lon: float, lat: float, t0: datetime = T0) -> None:
        self.port = port
        self.mmsi = mmsi
        self.lon, self.lat = lon, lat
        self.t = t0
        self.rows: list[dict[str, object]] = []
        self.marks: dict[str, datetime] = {}

    def _report(self, sog: float, cog: float, nav: int) -> None:
        self.rows.append(
            {
                "ts_utc": self.t,
                "mmsi": self.mmsi,
                "lat": self.lat,
                "lon": self.lon,
                "sog_kn": sog,
                "cog_deg": cog,
                "heading_deg": cog,
                "nav_status": nav,
                "source": "test",
            }
        )

    def sail_to(
        self,
        lon: float,
        lat: float,
        speed_kn: float,
        interval_s: float = 10.0,
        nav: int = 0,
        mark: str | None = None,
    ) -> Track:
        """Reports every `interval_s` on a straight leg to (lon, lat) at `speed_kn` (first one a step on)."""
        x, y = self.port.metric.xy(np.array([self.lon, lon]), np.array([self.lat, lat]))
        dist = math.hypot(x[1] - x[0], y[1] - y[0])
        step = speed_kn * 1852 / 3600 * interval_s
        n = max(1, math.ceil(dist / step))
        cog = math.degrees(math.atan2(x[1] - x[0], y[1] - y[0])) % 360
        for i in range(1, n + 1):
            f = i / n
            px, py = self.port.metric.lonlat(
                np.array([x[0] + f * (x[1] - x[0])]), np.array([y[0] + f * (y[1] - y[0])])
            )
            self.lon, self.lat = float(px[0]), float(py[0])
            self.t += timedelta(seconds=interval_s * min(1.0, dist / step) if n == 1 else interval_s)
            if mark and i == 1:
                self.marks[mark] = self.t
            self._report(speed_kn, cog, nav)
        return self

    def sail_channel(self, km_from: float, km_to: float, speed_kn: float, interval_s: float = 10.0) -> Track:
        """Along the channel axis from one chainage to another (starting where the track is)."""
        step_km = speed_kn * 1.852 / 3600 * interval_s
        n = max(1, math.ceil(abs(km_to - km_from) / step_km))
        for i in range(1, n + 1):
            km = km_from + (km_to - km_from) * i / n
            lon, lat = self.port.channel.position_at(km)
            self.sail_to(lon, lat, speed_kn, interval_s)
        return self

    def stay(
        self,
        seconds: float,
        interval_s: float = 180.0,
        sog: float = 0.0,
        nav: int = 0,
        mark: str | None = None,
    ) -> Track:
        """Reports at the current position every `interval_s` for `seconds` (first one a step on).

        `mark` names the time the stay begins: the time of the previous report (the end of the leg).
        """
        if mark:  # the ship stops where (and when) the previous leg ended
            self.marks[mark] = self.t
        for _ in range(int(seconds // interval_s)):
            self.t += timedelta(seconds=interval_s)
            self._report(sog, 0.0, nav)
        return self

    def frame(self) -> pl.DataFrame:
        """The reports as a canonical `ais_position` frame."""
        return pl.DataFrame(self.rows, schema=AIS_POSITION)


def full_call(port: Port, mmsi: int = 412000001, nav_at_berth: int = 0) -> Track:
    """Sea → port limit → pilot area (slows) → channel K5–K52 → ANC-IN-1 (2 h) → channel → XS-ORE-400K
    (6 h) → channel K60–K0 → sea. Marks: pob, anchor, weigh, all_fast, unberth."""
    pilot = port.anchorages["ANC-PILOT"].area.centroid
    anc = port.anchorages["ANC-IN-1"].area.centroid
    pocket = port.berths["XS-ORE-400K"].pocket.centroid
    tr = Track(port, mmsi, *SEA)
    tr.sail_to(pilot.x, pilot.y, 12.0)
    tr.sail_to(*port.channel.position_at(5.0), 6.0, mark="pob")
    tr.sail_channel(5.0, 52.0, 11.0)
    tr.sail_to(anc.x, anc.y, 6.0)
    tr.stay(2 * 3600, interval_s=180.0, sog=0.2, mark="anchor")
    tr.sail_to(*port.channel.position_at(53.0), 8.0, mark="weigh")
    tr.sail_channel(53.0, 60.0, 10.0)
    tr.sail_to(pocket.x, pocket.y, 4.0)
    tr.stay(6 * 3600, interval_s=180.0, sog=0.0, nav=nav_at_berth, mark="all_fast")
    tr.sail_to(*port.channel.position_at(60.0), 5.0, mark="unberth")
    tr.sail_channel(60.0, 0.0, 12.0)
    tr.sail_to(*SEA, 12.0)
    return tr


def batches(frame: pl.DataFrame, minutes: float) -> list[tuple[datetime, pl.DataFrame]]:
    """The frame cut into consecutive windows of `minutes`, each with its end time as `now`."""
    start = frame["ts_utc"].min()
    end = frame["ts_utc"].max()
    assert isinstance(start, datetime) and isinstance(end, datetime)
    out = []
    t = start
    step = timedelta(minutes=minutes)
    while t <= end:
        part = frame.filter((pl.col("ts_utc") >= t) & (pl.col("ts_utc") < t + step))
        out.append((t + step, part))
        t += step
    return out
