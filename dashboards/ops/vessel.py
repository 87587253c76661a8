"""The vessel page: identity and particulars (live, from the engine), the track and static data
from the history store (`feeds.store.read_history`), the port-call events the desk has seen, the
keel clearance now and along the rest of the route (`vessel_ukc`), and the call chain vessel →
port call → cargo → customs declarations with their TRS stages (`vessel_chain`).

The history is read when the page opens (a click), not on every refresh; the customs and cargo
rows again only when the store has gained a part of them since. Everything is cut at the shown
time (live or replayed).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from dashboards.ops.i18n import t
from dashboards.ops.store import OpsState, vessel_events
from dashboards.ops.vessel_chain import VesselRecords, call_chain, chain_parts, read_vessel_records
from dashboards.ops.vessel_sections import chain_section, ukc_section
from dashboards.ops.vessel_ukc import RouteUkc, VesselUkc, vessel_ukc
from dashboards.ops.views import esc, events_list, local_time, parse_utc, phase_label, table, zone_name
from feeds.store import read_history
from twin.port import Port

TRACK_HOURS = 6.0


class VesselPage:
    """One session's vessel page: what was read from history for the selected vessel."""

    def __init__(self, port: Port, history_dir: Path | None) -> None:
        self.port = port
        self.history_dir = history_dir
        self.mmsi: int | None = None
        self.hours = TRACK_HOURS
        self.track = pl.DataFrame(
            schema={"ts_utc": pl.Datetime("us", "UTC"), "lon": pl.Float64, "lat": pl.Float64}
        )
        self.static: dict[str, Any] = {}
        self.records: VesselRecords | None = None
        self._route_cache: dict[tuple[Any, ...], RouteUkc] = {}

    def load(self, mmsi: int, until_iso: str | None = None, hours: float = TRACK_HOURS) -> None:
        """Read the vessel's positions of the `hours` up to `until_iso` (the desk's chosen period ending
        at the shown time, live or replayed) and its latest static report."""
        self.mmsi = mmsi
        self.hours = hours
        self.static = {}
        self.records = None
        self.track = self.track.clear()
        if self.history_dir is None:
            return
        end = parse_utc(until_iso)
        self.records = read_vessel_records(self.history_dir, mmsi, end)
        start = None if end is None else end - timedelta(hours=hours)
        positions = read_history(self.history_dir, "ais_position", start=start).filter(pl.col("mmsi") == mmsi)
        if end is not None:
            positions = positions.filter(pl.col("ts_utc") <= end)
        self.track = (
            positions
            .select("ts_utc", "lon", "lat")
            .sort("ts_utc")
            .collect()
        )
        static = (
            read_history(self.history_dir, "ais_static")
            .filter(pl.col("mmsi") == mmsi)
            .sort("ts_utc")
            .tail(1)
            .collect()
        )
        self.static = static.row(0, named=True) if static.height else {}

    def track_frame(self) -> pd.DataFrame | None:
        """The track as one PathLayer row (`path` = [[lon, lat], ...]); None with under two points."""
        if self.track.height < 2:
            return None
        path = [[round(x, 6), round(y, 6)] for x, y in zip(self.track["lon"], self.track["lat"], strict=True)]
        return pd.DataFrame({"path": [path]})

    def html(self, state: OpsState, mmsi: int, lang: str) -> str:
        """Identity, particulars, position, track summary, port-call events and live UKC."""
        v = state.vessels.get(mmsi)
        s = self.static
        name = (v or {}).get("name") or s.get("name") or mmsi
        parts = [
            f"<h2 data-testid='vessel-title' data-mmsi='{mmsi}'>{esc(name)} <small>MMSI {mmsi}</small></h2>"
        ]
        if v is None:
            parts.append(f"<p style='color:#ffb000'>{esc(t('gone', lang))}</p>")
        v = v or {}
        parts.append(f"<h3>{esc(t('identity', lang))}</h3>")
        parts.append(
            table(
                ["", ""],
                [
                    [esc(t("col_mmsi", lang)), esc(mmsi)],
                    [esc(t("imo", lang)), esc(s.get("imo"))],
                    [esc(t("callsign", lang)), esc(s.get("callsign"))],
                    [esc(t("col_class", lang)), esc(v.get("ship_class"))],
                ],
                "vessel-identity",
            )
        )
        parts.append(f"<h3>{esc(t('particulars', lang))}</h3>")
        parts.append(
            table(
                ["", ""],
                [
                    [esc(t("length", lang)), esc(v.get("length_m") or s.get("length_m"))],
                    [esc(t("beam", lang)), esc(v.get("beam_m") or s.get("beam_m"))],
                    [esc(t("col_draught", lang)), esc(v.get("draught_m") or s.get("draught_m"))],
                    [esc(t("col_phase", lang)), esc(phase_label(v.get("phase"), lang))],
                    [esc(t("col_zone", lang)), esc(zone_name(self.port, v.get("zone_id"), lang))],
                    [esc(t("col_speed", lang)), esc(v.get("sog_kn"))],
                    [
                        esc(t("position", lang)),
                        esc(None if v.get("lat") is None else f"{v['lat']:.5f}, {v['lon']:.5f}"),
                    ],
                    [
                        esc(t("last_seen", lang)),
                        esc(local_time(v.get("last_seen_utc"), with_date=True))
                        + (f" <b style='color:#ff5040'>{esc(t('dark', lang))}</b>" if v.get("dark") else ""),
                    ],
                ],
                "vessel-particulars",
            )
        )
        parts.append(
            f"<h3>{esc(t('track', lang))}</h3><p data-testid='track-points'>{self.track.height} "
            f"{esc(t('track_points', lang))} ({self.hours:g} {esc(t('h', lang))})</p>"
        )
        parts.append(f"<h3>{esc(t('port_call_events', lang))}</h3>")
        parts.append(events_list(self.port, state, vessel_events(state, mmsi), lang, "vessel-events"))
        parts.append(ukc_section(self.port, self.ukc(state, mmsi), lang))
        parts.append(self.chain_html(state, mmsi, lang))
        return "".join(parts)

    def ukc(self, state: OpsState, mmsi: int) -> VesselUkc:
        """The vessel's UKC at the shown time (see `vessel_ukc.vessel_ukc`)."""
        ts = parse_utc(state.ts_utc)
        v = state.vessels.get(mmsi)
        if ts is None or v is None:
            return VesselUkc(ts, None, "ukc_no_position")
        latest = next(iter(vessel_events(state, mmsi, limit=1)), None)
        berth = next((bid for bid, b in state.berths.items() if b.get("mmsi") == mmsi), None)
        return vessel_ukc(
            self.port, v, ts, latest, berth, cache=self._route_cache, tide_feed=state.feeds.get("tide")
        )

    def chain_html(self, state: OpsState, mmsi: int, lang: str) -> str:
        """The call chain up to the shown time; re-reads the customs and cargo rows when the store grew."""
        at = parse_utc(state.ts_utc)
        stale = self.records is None or (
            self.history_dir is not None and self.records.parts != chain_parts(self.history_dir)
        )
        if self.history_dir is not None and self.mmsi == mmsi and stale:
            self.records = read_vessel_records(self.history_dir, mmsi, at)
        records = self.records if self.mmsi == mmsi else None
        links = call_chain(records, vessel_events(state, mmsi, limit=10_000), at)
        cargo_stored = records is not None and records.cargo is not None
        v = dict(state.vessels.get(mmsi) or {})
        v.setdefault("name", self.static.get("name"))
        return chain_section(links, v, mmsi, cargo_stored, self.history_dir is not None, self.port, lang)
