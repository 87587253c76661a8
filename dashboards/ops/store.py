"""The ops desk's one shared view of the twin: a bus follower that keeps the whole engine state.

`dashboards.bus_client.BusSubscriber` keeps what the cockpit's Python charts need and drops the
vessels; the desk needs them (who is in a zone, a vessel page), so `OpsStore` merges every part of
the protocol v1 stream (docs/protocol.md §2). One store serves every browser session: sessions
read `state()`, an immutable `OpsState` rebuilt at most once per merged message, and never touch
the socket.

The query helpers below only filter and join what the engine sent (by zone membership from the
port model); they compute nothing the engine should own.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import shapely
import shapely.affinity

from dashboards.bus_client import BusSubscriber
from twin.port import Port

# Events kept for timelines; the engine's snapshot carries its own latest ones, deltas append.
MAX_EVENTS = 5000
PRIORITY_ORDER = ("emergency_alarm", "alarm", "warning", "caution")


@dataclass(frozen=True)
class ZoneEntry:
    """When the desk saw a vessel enter its current zone.

    `exact` is False when the vessel was already in the zone in the first snapshot the desk got,
    so `since_utc` is only a lower bound (the engine does not send zone entry times).
    """

    zone_id: str | None
    since_utc: str
    exact: bool


@dataclass(frozen=True)
class OpsState:
    """One consistent copy of the engine state as the desk last merged it (read-only)."""

    version: int = 0
    seq: int | None = None
    ts_utc: str | None = None
    vessels: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    zone_entry: Mapping[int, ZoneEntry] = field(default_factory=dict)
    berths: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    anchorages: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    gates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    events: tuple[Mapping[str, Any], ...] = ()
    alerts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    feeds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class OpsStore(BusSubscriber):
    """A `BusSubscriber` that merges the whole stream, vessels included; `state()` for the views."""

    def __init__(self, url: str, *, reconnect_s: float = 1.5) -> None:
        super().__init__(url, reconnect_s=reconnect_s)
        self._vessels: dict[int, dict[str, Any]] = {}
        self._entry: dict[int, ZoneEntry] = {}
        self._parts: dict[str, dict[str, dict[str, Any]]] = {"berths": {}, "anchorages": {}, "gates": {}}
        self._events: list[dict[str, Any]] = []
        self._alerts: dict[str, dict[str, Any]] = {}
        self._feeds: dict[str, dict[str, Any]] = {}
        self._seq: int | None = None
        self._ts: str | None = None
        self._version = 0
        self._frozen = OpsState()
        self._frozen_lock = threading.Lock()

    @property
    def version(self) -> int:
        """Rises by one per merged message: a session redraws only when it changed."""
        return self._version

    def state(self) -> OpsState:
        """The latest merged state; the same object for every caller until the next message."""
        with self._frozen_lock:
            if self._frozen.version == self._version:
                return self._frozen
            with self._lock:
                frozen = OpsState(
                    version=self._version,
                    seq=self._seq,
                    ts_utc=self._ts,
                    vessels=MappingProxyType({m: dict(v) for m, v in self._vessels.items()}),
                    zone_entry=MappingProxyType(dict(self._entry)),
                    berths=MappingProxyType(dict(self._parts["berths"])),
                    anchorages=MappingProxyType(dict(self._parts["anchorages"])),
                    gates=MappingProxyType(dict(self._parts["gates"])),
                    events=tuple(self._events),
                    alerts=MappingProxyType(dict(self._alerts)),
                    feeds=MappingProxyType(dict(self._feeds)),
                )
            self._frozen = frozen
            return frozen

    def _merge(self, msg: dict[str, Any]) -> None:
        # The parent's cockpit state is not kept: the desk reads only `state()`.
        with self._lock:
            snapshot = msg.get("type") == "snapshot"
            ts = msg.get("ts_utc")
            if snapshot:
                self._vessels, self._events, self._alerts = {}, [], {}
                self._parts = {"berths": {}, "anchorages": {}, "gates": {}}
                self._feeds = {}
            vessels = msg.get("vessels") or {}
            columns = vessels.get("columns") or []
            for row in vessels.get("rows") or []:
                rec = dict(zip(columns, row, strict=False))
                mmsi = int(rec["mmsi"])
                entry = self._entry.get(mmsi)
                if entry is None or entry.zone_id != rec.get("zone_id"):
                    # Met first in a snapshot, a vessel entered its zone at some unknown earlier time.
                    self._entry[mmsi] = ZoneEntry(rec.get("zone_id"), str(ts), exact=not snapshot)
                self._vessels[mmsi] = rec
            for mmsi in vessels.get("removed") or []:
                self._vessels.pop(int(mmsi), None)
                self._entry.pop(int(mmsi), None)
            if snapshot:
                for mmsi in set(self._entry) - set(self._vessels):
                    del self._entry[mmsi]
            for key in ("berths", "anchorages", "gates"):
                for item in msg.get(key) or []:
                    self._parts[key][str(item["id"])] = dict(item)
            self._events.extend(msg.get("events") or [])
            del self._events[:-MAX_EVENTS]
            for alert in msg.get("alerts") or []:
                aid = str(alert["id"])
                self._alerts[aid] = {**self._alerts.get(aid, {}), **alert}
            if isinstance(msg.get("feeds"), dict):
                self._feeds.update(msg["feeds"])
            self._seq = msg.get("seq")
            self._ts = ts
            self._version += 1


# -- queries over one OpsState (filters and joins only) ----------------------------------------


def zone_of_feature(port: Port) -> dict[str, str]:
    """Feature id (berth, anchorage, channel segment, gate, and the zone itself) → zone id."""
    out: dict[str, str] = {}
    for zone in port.zones.values():
        out[zone.id] = zone.id
        for member in zone.members:
            out.setdefault(member, zone.id)
    for berth in port.berths.values():
        # berths may be listed only under their port area's zone; the berth says which one
        for zone in port.zones.values():
            if zone.kind == "port_area" and berth.id in zone.members:
                out[berth.id] = zone.id
    return out


def vessels_in_zone(state: OpsState, zone_id: str) -> list[Mapping[str, Any]]:
    """The vessels the engine places in `zone_id` (its `zone_id` column), longest there first."""
    here = [v for v in state.vessels.values() if v.get("zone_id") == zone_id]
    return sorted(here, key=lambda v: (_entry_key(state, int(v["mmsi"])), int(v["mmsi"])))


def _entry_key(state: OpsState, mmsi: int) -> str:
    entry = state.zone_entry.get(mmsi)
    return entry.since_utc if entry else ""


def gates_in_zone(port: Port, state: OpsState, zone_id: str) -> list[Mapping[str, Any]]:
    """The engine's gate items (queue, passages) of the gates the zone gathers."""
    members = port.zones[zone_id].members
    return [
        state.gates.get(g, {"id": g, "queue": None, "tx_last_hour": None}) for g in members if g in port.gates
    ]


def alert_zone(alert: Mapping[str, Any], state: OpsState, zones: Mapping[str, str]) -> str | None:
    """The zone an alert belongs to: its own `zone_id`, else its subject's zone (a feature or a vessel)."""
    if alert.get("zone_id"):
        return str(alert["zone_id"])
    subject = alert.get("subject")
    if subject is None:
        return None
    if str(subject) in zones:
        return zones[str(subject)]
    mmsi = alert.get("mmsi", subject)
    if isinstance(mmsi, int) or (isinstance(mmsi, str) and mmsi.isdigit()):
        vessel = state.vessels.get(int(mmsi))
        return None if vessel is None else vessel.get("zone_id")
    return None


RING_M = 400.0  # radius of the ring drawn round an alert's ship


def alert_context_area(
    port: Port, alert: Mapping[str, Any], state: OpsState, zones: Mapping[str, str]
) -> shapely.Polygon | shapely.MultiPolygon | None:
    """An alert's context on the map: the outline of its zone (`alert_zone`) and, when its subject is
    a ship the state has a position for, a ring of `RING_M` round the ship; None when neither is known."""
    parts: list[shapely.Polygon] = []
    zone = port.zones.get(alert_zone(alert, state, zones) or "")
    if zone is not None:
        parts += list(zone.area.geoms) if isinstance(zone.area, shapely.MultiPolygon) else [zone.area]
    mmsi = alert.get("mmsi", alert.get("subject"))
    vessel = state.vessels.get(int(mmsi)) if str(mmsi).isdigit() else None
    if vessel is not None and vessel.get("lon") is not None and vessel.get("lat") is not None:
        lon, lat = float(vessel["lon"]), float(vessel["lat"])
        dlat = RING_M / 111_320.0
        ring = shapely.affinity.scale(
            shapely.Point(lon, lat).buffer(dlat, 32), xfact=1.0 / math.cos(math.radians(lat)), yfact=1.0
        )
        parts.append(ring)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def is_open(alert: Mapping[str, Any]) -> bool:
    """Open = not cleared. An acknowledged alert stays open until its condition ends (IMO BAM)."""
    return alert.get("state") != "cleared"


def needs_ack(alert: Mapping[str, Any]) -> bool:
    """Open and not yet acknowledged (`twin.alerts` sets state `acknowledged` and `acknowledged_by`)."""
    return is_open(alert) and alert.get("state") != "acknowledged" and not alert.get("acknowledged_by")


def open_alerts(
    state: OpsState,
    zones: Mapping[str, str],
    *,
    zone_id: str | None = None,
    kind: str | None = None,
) -> list[Mapping[str, Any]]:
    """Open alerts, most urgent priority first, then newest; optionally of one zone / rule kind."""
    rank = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    out = [
        a
        for a in state.alerts.values()
        if is_open(a)
        and (zone_id is None or alert_zone(a, state, zones) == zone_id)
        and (kind is None or a.get("rule") == kind)
    ]
    out.sort(key=lambda a: str(a.get("raised_utc") or a.get("ts_utc") or ""), reverse=True)
    return sorted(out, key=lambda a: rank.get(str(a.get("priority")), len(rank)))


def zone_events(
    port: Port, state: OpsState, zone_id: str, zones: Mapping[str, str], limit: int = 30
) -> list[Mapping[str, Any]]:
    """Recent port-call events at the zone's features, or of vessels now in it; newest first."""
    here = {int(v["mmsi"]) for v in vessels_in_zone(state, zone_id)}
    picked = [
        e
        for e in state.events
        if (e.get("location_id") and zones.get(str(e["location_id"])) == zone_id)
        or (not e.get("location_id") and int(e.get("mmsi") or 0) in here)
    ]
    return sorted(picked, key=lambda e: str(e.get("ts_utc")), reverse=True)[:limit]


def vessel_events(state: OpsState, mmsi: int, limit: int = 50) -> list[Mapping[str, Any]]:
    """The port-call events of one vessel the desk has seen, newest first."""
    mine = [e for e in state.events if int(e.get("mmsi") or 0) == mmsi]
    return sorted(mine, key=lambda e: str(e.get("ts_utc")), reverse=True)[:limit]
