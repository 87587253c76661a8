"""The live engine: canonical feed frames in, port state, port-call events, KPIs and deltas out.

```python
eng = Engine(port, EngineConfig())
delta = eng.apply({"ais_position": df, "gate_event": gates}, now)   # time passed in, never read
msg = delta.to_message()          # body of a protocol v1 "delta" (docs/contracts.md §6)
eng.snapshot(now)                 # body of a protocol v1 "snapshot"
eng.events                        # port-call events (contracts §3)
blob = eng.to_snapshot_bytes(); Engine.from_snapshot(port, blob)      # exact round trip
```

Frames accepted by `apply` (keys): the canonical kinds of `feeds.schema` (`ais_position`,
`ais_static`, `gate_event`, `customs_event`, `tide_obs`) and `port_call_cargo` (call_id, tonnes,
teu, optionally mmsi and cargo: a call's cargo as the simulator's `sim.calls` or a port system
knows it; a row whose call_id the engine does not know is bound, by mmsi, to that ship's next
call that leaves its berth).

Snapshots and deltas carry, beside the keys of contracts §6 (docs/protocol.md lets v1 add keys
that clients ignore): `charts` (series for the cockpit's charts, `twin.charts`) and `channel`
(every channel segment with the MMSIs in it by direction: `{"id", "inbound", "outbound",
"unknown"}`, changed segments only in a delta). Rows of each
frame are applied in time order. The state per vessel is plain Python (dicts keyed by MMSI, one
report at a time, because port-call rules are sequential); the geometry of a whole batch (H3 cell,
zone, berth pocket, anchorage, channel segment, chainage) is computed vectorised first.

Observers (`add_observer`) are called after every `apply`, once the vessel state and events are
updated and before KPIs and alerts are put in the delta, so an alert engine can evaluate its rules
and `set_alert` in the same step.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import h3
import numpy as np
import polars as pl
import shapely

from twin.charts import CUSTOMS_STAGES, charts
from twin.kpi_live import KPIS, TREND_LEN, TREND_STEP_US
from twin.port import Port
from twin.portcall import DetectorConfig, PortCallDetector, Report
from twin.state import (
    HOUR_US,
    US,
    CallRecord,
    Declaration,
    FeedState,
    VesselState,
    dataclass_from,
    iso,
    us_of,
)
from twin.zones import ZoneIndex, cells_of

FEED_OF_KIND = {
    "ais_position": "ais",
    "ais_static": "ais",
    "gate_event": "gate",
    "customs_event": "customs",
    "tide_obs": "tide",
}
FEEDS = ("ais", "gate", "customs", "tide")
KINDS = (*FEED_OF_KIND, "port_call_cargo")

VESSEL_COLUMNS = ["mmsi", "name", "ship_class", "lon", "lat", "sog_kn", "cog_deg", "heading_deg",
                  "length_m", "beam_m", "draught_m", "phase", "zone_id", "h3", "last_seen_utc", "dark"]

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "ts_utc": pl.Datetime("us", "UTC"),
    "mmsi": pl.UInt32(),
    "call_id": pl.String(),
    "event": pl.String(),
    "location_id": pl.String(),
}

STATE_FORMAT = "zjtwin-engine-state/1"
_KN_TO_MS = 1852.0 / 3600.0


@dataclass(frozen=True)
class EngineConfig:
    """Engine settings. Ages in seconds; `detector` holds the port-call thresholds."""

    h3_res: int = 9
    berth_tolerance_m: float = 40.0  # pockets grown by this for the geofence (AIS jitter, antenna offset)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    ais_stale_s: float = 120.0
    gate_stale_s: float = 900.0  # the same ages as the live process's health endpoint (feeds.live)
    customs_stale_s: float = 3600.0
    tide_stale_s: float = 1200.0
    dark_factor: float = 6.0  # dark after this many expected reporting intervals without a report …
    dark_min_s: float = 300.0  # … and never before this age (AIS reception in a bay is lossy)
    outside_ttl_s: float = 1800.0  # forget a ship outside the port limit unheard for this long
    inside_ttl_s: float = 12 * 3600.0  # … and one inside (a dark ship stays on the picture meanwhile)
    gate_queue_window_s: float = 900.0
    snapshot_events: int = 50
    keep_closed_calls_s: float = 3 * 86400.0  # call records (for today's KPIs) kept after the call closed
    keep_declarations_s: float = 7 * 86400.0  # declarations kept after their last stage
    max_event_log: int = 200_000  # port-call events kept in memory (≈ 3 years of Zhanjiang calls)
    # AIS ship types that make no port calls (ITU-R M.1371 table 53: towing 31/32, pilot 50, SAR 51,
    # tug 52, port tender 53, anti-pollution 54, law enforcement 55, medical 58): a tug idling at a
    # quay is not a call
    service_ship_types: tuple[int, ...] = (31, 32, 50, 51, 52, 53, 54, 55, 58)

    def stale_after_s(self, feed: str) -> float:
        """Age (s) after which a feed's newest message makes it stale."""
        return float(getattr(self, f"{feed}_stale_s"))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for the state snapshot)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Inverse of `to_dict`."""
        data = dict(data)
        data["detector"] = dataclass_from(DetectorConfig, data["detector"])
        data["service_ship_types"] = tuple(data["service_ship_types"])
        return dataclass_from(cls, data)


@dataclass
class Delta:
    """What one `apply` changed: the body of a protocol v1 `delta` message (contracts §6)."""

    seq: int
    ts_utc: str
    vessels: dict[str, Any]
    removed: list[int]
    berths: list[dict[str, Any]]
    anchorages: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    events: list[dict[str, Any]]
    kpis: dict[str, dict[str, Any]]
    alerts: list[dict[str, Any]]
    feeds: dict[str, dict[str, Any]]
    charts: dict[str, Any] = field(default_factory=dict)
    channel: list[dict[str, Any]] = field(default_factory=list)

    def to_message(self) -> dict[str, Any]:
        """The JSON-able delta body: every key present, each holding only what changed."""
        return {
            "v": 1,
            "type": "delta",
            "seq": self.seq,
            "ts_utc": self.ts_utc,
            "vessels": {**self.vessels, "removed": list(self.removed)},
            "berths": self.berths,
            "anchorages": self.anchorages,
            "gates": self.gates,
            "events": self.events,
            "kpis": self.kpis,
            "alerts": self.alerts,
            "feeds": self.feeds,
            "charts": self.charts,
            "channel": self.channel,
        }

    def is_empty(self) -> bool:
        """True when nothing changed (a server may skip sending it; seq was still used)."""
        return self.empty

    @property
    def empty(self) -> bool:
        """True when nothing changed (a server may skip sending it; seq was still used)."""
        return not (self.vessels["rows"] or self.removed or self.berths or self.anchorages or self.gates
                    or self.events or self.kpis or self.alerts or self.feeds or self.charts or self.channel)


Observer = Callable[["Engine", Delta], None]


def ship_class_of(ship_type: int | None) -> str | None:
    """A coarse class from the AIS ship type (ITU-R M.1371 table 53); None when unknown."""
    if ship_type is None or ship_type == 0:
        return None
    tens = ship_type // 10
    return {3: "special", 4: "hsc", 5: "service", 6: "passenger", 7: "cargo", 8: "tanker"}.get(tens, "other")


def expected_interval_s(v: VesselState) -> float:
    """Nominal class A reporting interval (s) for the ship's state (ITU-R M.1371 table 1)."""
    sog = v.sog_kn
    if v.nav_status in (1, 5) or v.phase in ("at_anchor", "at_berth") or sog is None or sog < 0.5:
        return 180.0
    if sog <= 14.0:
        return 10.0
    return 6.0 if sog <= 23.0 else 2.0


def _dist_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance (m) on a local flat earth: plenty for outlier tests at port scale."""
    k = math.cos(math.radians(0.5 * (lat1 + lat2)))
    return math.hypot((lon2 - lon1) * 111_320.0 * k, (lat2 - lat1) * 110_574.0)


class Engine:
    """Live state of one port (see the module docstring).

    State that rules and KPIs may read (plain data, times in epoch µs UTC; do not mutate):
    `vessels` (MMSI → `VesselState`), `calls` (call_id → `CallRecord`), `event_log`,
    `declarations` (id → `Declaration`), `gate_log` ((ts_us, gate_id, processing_s), last hour+),
    `cargo` (call_id → tonnes/teu/cargo), `tide_level_m`, `feeds` (name → `FeedState`),
    `alerts` (id → alert dict, written through `set_alert`), `now_us` (time of the last apply).
    """

    def __init__(self, port: Port, config: EngineConfig | None = None) -> None:
        self.port = port
        self.config = config or EngineConfig()
        self.index = ZoneIndex(port, self.config.h3_res, self.config.berth_tolerance_m)
        pockets = {b: self.index.geoms[b] for b in port.berths}
        self.detector = PortCallDetector(port, self.config.detector, pockets)
        axis_m = port.metric.to_m(port.channel.axis)
        assert isinstance(axis_m, shapely.LineString)
        self._axis_m = axis_m
        xy = np.asarray(axis_m.coords)
        self._axis_dist_m = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        self._axis_km = np.asarray(port.channel.axis_chainage_km, float)
        self._observers: list[Observer] = []
        self._reset_state()

    def _reset_state(self) -> None:
        self.seq = 0
        self.now_us: int | None = None
        self.vessels: dict[int, VesselState] = {}
        self.call_counts: dict[int, int] = {}
        self.calls: dict[str, CallRecord] = {}
        self.event_log: list[tuple[int, int, str, str, str | None]] = []
        self.declarations: dict[str, Declaration] = {}
        self.gate_log: list[tuple[int, str, float | None]] = []
        self.feeds: dict[str, FeedState] = {f: FeedState() for f in FEEDS}
        self.tide_level_m: float | None = None
        self.tide_station: str | None = None
        self.cargo: dict[str, dict[str, Any]] = {}
        self.cargo_by_mmsi: dict[int, list[dict[str, Any]]] = {}
        self.alerts: dict[str, dict[str, Any]] = {}
        self.trend: dict[str, list[float | None]] = {k.id: [] for k in KPIS}
        self.next_trend_us: int | None = None
        self.ignored: dict[str, int] = {"out_of_order": 0, "outlier": 0}
        self._sent: dict[str, Any] = {"kpis": {}, "feeds": {}, "berths": {}, "anchorages": {}, "gates": {},
                                      "charts": {}, "channel": {}}
        self._dirty_vessels: set[int] = set()
        self._removed: list[int] = []
        self._new_events: list[tuple[int, int, str, str, str | None]] = []
        self._dirty_alerts: list[str] = []

    # -- public API ---------------------------------------------------------------------------
    def add_observer(self, observer: Observer) -> None:
        """Call `observer(engine, delta)` after each `apply`, before KPIs and alerts are computed."""
        self._observers.append(observer)

    def set_alert(self, alert: dict[str, Any]) -> None:
        """Raise, update or clear (state `cleared`) one alert, keyed by its `id` (contracts §6 shape)."""
        if "id" not in alert:
            raise ValueError("an alert needs an 'id'")
        self.alerts[str(alert["id"])] = dict(alert)
        self._dirty_alerts.append(str(alert["id"]))

    def apply(self, frames: dict[str, pl.DataFrame], now: datetime) -> Delta:
        """Apply a batch of canonical frames (rows in any order; applied in time order) at `now`.

        Raises ValueError for an unknown frame kind or a naive `now`. Returns what changed.
        """
        now_us = us_of(now)
        unknown = set(frames) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown frame kinds {sorted(unknown)}; expected some of {list(KINDS)}")
        self.now_us = now_us
        for kind, frame in frames.items():
            if kind in FEED_OF_KIND and frame.height:
                self._count_feed(FEED_OF_KIND[kind], frame)
        if (df := frames.get("port_call_cargo")) is not None:
            self._apply_cargo(df)
        if (df := frames.get("ais_static")) is not None and df.height:
            self._apply_static(df)
        if (df := frames.get("ais_position")) is not None and df.height:
            self._apply_positions(df)
        if (df := frames.get("gate_event")) is not None and df.height:
            self._apply_gate(df)
        if (df := frames.get("customs_event")) is not None and df.height:
            self._apply_customs(df)
        if (df := frames.get("tide_obs")) is not None and df.height:
            self._apply_tide(df)
        self._sweep(now_us)
        self.seq += 1
        delta = self._delta(now_us)
        for observer in self._observers:
            observer(self, delta)
        self._finish_delta(delta, now_us)
        return delta

    @property
    def events(self) -> pl.DataFrame:
        """Detected port-call events (contracts §3), in time order."""
        if not self.event_log:
            return pl.DataFrame(schema=EVENT_SCHEMA)
        cols = list(zip(*self.event_log, strict=True))
        frame = pl.DataFrame({"ts_utc": pl.Series(cols[0], dtype=pl.Int64), "mmsi": cols[1],
                              "call_id": cols[2], "event": cols[3], "location_id": list(cols[4])},
                             schema_overrides={"location_id": pl.String})
        return frame.with_columns(pl.col("ts_utc").cast(pl.Datetime("us", "UTC")),
                                  pl.col("mmsi").cast(pl.UInt32)).sort("ts_utc", maintain_order=True)

    def _channel(self) -> dict[str, dict[str, Any]]:
        """Every channel segment with the ships in it by direction (the snapshot's `channel` part)."""
        occ = self.channel_occupancy()
        empty: dict[str, list[int]] = {"inbound": [], "outbound": [], "unknown": []}
        return {seg.id: {"id": seg.id, **occ.get(seg.id, empty)} for seg in self.port.channel.segments}

    def channel_occupancy(self) -> dict[str, dict[str, list[int]]]:
        """Ships in the channel per segment id, split by direction: {seg: {"inbound": [...], ...}}."""
        out: dict[str, dict[str, list[int]]] = {}
        for v in sorted(self.vessels.values(), key=lambda x: x.mmsi):
            if v.phase == "in_channel" and v.segment_id is not None:
                seg = out.setdefault(v.segment_id, {"inbound": [], "outbound": [], "unknown": []})
                seg[v.direction or "unknown"].append(v.mmsi)
        return out

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """The body of a protocol v1 `snapshot` message at `now` (read-only: sends nothing)."""
        now_us = us_of(now)
        rows = [self._vessel_row(v) for v in sorted(self.vessels.values(), key=lambda x: x.mmsi)]
        return {
            "v": 1,
            "type": "snapshot",
            "seq": self.seq,
            "ts_utc": iso(now_us),
            "vessels": {"columns": list(VESSEL_COLUMNS), "rows": rows},
            "berths": list(self._berths().values()),
            "anchorages": list(self._anchorages(now_us).values()),
            "gates": list(self._gates(now_us).values()),
            # the latest events to become known, shown in time order (newest last)
            "events": [self._event_dict(e)
                       for e in sorted(self.event_log[-self.config.snapshot_events:], key=lambda e: e[0])],
            "kpis": self._kpis(now_us),
            # by id, not insertion order: a restored engine (keys sorted in its JSON) lists them alike
            "alerts": [self.alerts[aid] for aid in sorted(self.alerts)],
            "feeds": self._feeds(now_us),
            "charts": charts(self, now_us),
            "channel": list(self._channel().values()),
        }

    # -- state round trip ---------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "config": self.config.to_dict(),
            "seq": self.seq,
            "now_us": self.now_us,
            "vessels": [v.to_dict() for _, v in sorted(self.vessels.items())],
            "call_counts": {str(k): n for k, n in sorted(self.call_counts.items())},
            "calls": [asdict(c) for c in self.calls.values()],
            "events": [list(e) for e in self.event_log],
            "declarations": [asdict(d) for d in self.declarations.values()],
            "gate_log": [list(g) for g in self.gate_log],
            "feeds": {k: asdict(f) for k, f in self.feeds.items()},
            "tide": [self.tide_level_m, self.tide_station],
            "cargo": self.cargo,
            "cargo_by_mmsi": {str(k): v for k, v in sorted(self.cargo_by_mmsi.items())},
            "alerts": self.alerts,
            "trend": self.trend,
            "next_trend_us": self.next_trend_us,
            "ignored": self.ignored,
        }

    def to_snapshot_bytes(self, extra: dict[str, Any] | None = None) -> bytes:
        """The whole engine state as UTF-8 JSON (restore with `Engine.from_snapshot`).

        `extra` adds top-level keys that `from_snapshot` ignores and `load_state_json` returns
        (a wrapper's own state, e.g. the alert engine's); they must not clash with the engine's.
        """
        state = self._state()
        state["sent"] = self._sent
        if extra:
            clash = set(extra) & set(state)
            if clash:
                raise ValueError(f"extra snapshot keys clash with the engine's: {sorted(clash)}")
            state.update(extra)
        return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def state_hash(self) -> str:
        """SHA-256 (hex) of the essential state: equal for engines that saw the same input."""
        text = json.dumps(self._state(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_snapshot(cls, port: Port, data: bytes) -> Engine:
        """An engine restored from `to_snapshot_bytes` output; ValueError for another format.

        Observers are code, not state: add them again to the restored engine.
        """
        return cls.from_state(port, load_state_json(data))

    @classmethod
    def from_state(cls, port: Port, state: dict[str, Any]) -> Engine:
        """An engine restored from the parsed JSON of `to_snapshot_bytes` (see `load_state_json`)."""
        eng = cls(port, EngineConfig.from_dict(state["config"]))
        eng.load_state(state)
        return eng

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace this engine's state with a parsed `to_snapshot_bytes` (see `load_state_json`),
        keeping its port geometry, zone index and observers: much cheaper than `from_state` where an
        engine on the same port is at hand (a replay moving back in time). ValueError when the
        state was written under another `EngineConfig`."""
        if EngineConfig.from_dict(state["config"]) != self.config:
            raise ValueError("the state was written under another EngineConfig; build a new engine")
        self._reset_state()
        self.seq = state["seq"]
        self.now_us = state["now_us"]
        self.vessels = {d["mmsi"]: VesselState.from_dict(d) for d in state["vessels"]}
        self.call_counts = {int(k): n for k, n in state["call_counts"].items()}
        self.calls = {c["call_id"]: dataclass_from(CallRecord, c) for c in state["calls"]}
        self.event_log = [tuple(e) for e in state["events"]]
        self.declarations = {d["declaration_id"]: dataclass_from(Declaration, d)
                             for d in state["declarations"]}
        self.gate_log = [tuple(g) for g in state["gate_log"]]
        self.feeds = {k: dataclass_from(FeedState, f) for k, f in state["feeds"].items()}
        self.tide_level_m, self.tide_station = state["tide"]
        self.cargo = state["cargo"]
        self.cargo_by_mmsi = {int(k): v for k, v in state["cargo_by_mmsi"].items()}
        self.alerts = state["alerts"]
        self.trend = state["trend"]
        self.next_trend_us = state["next_trend_us"]
        self.ignored = state["ignored"]
        self._sent = state.get("sent", self._sent)

    @classmethod
    def from_snapshot_bytes(cls, port: Port, data: bytes) -> Engine:
        """Alias of `from_snapshot` (the name the live process's engine factory calls)."""
        return cls.from_snapshot(port, data)

    # -- feeds ----------------------------------------------------------------------------------
    def _count_feed(self, feed: str, frame: pl.DataFrame) -> None:
        st = self.feeds[feed]
        # numpy, not a polars group_by: a few rows per batch, where polars' per-query overhead dominated
        secs = frame.get_column("ts_utc").dt.epoch("s").drop_nulls().to_numpy()
        for s, n in zip(*np.unique(secs, return_counts=True), strict=True):
            key = str(int(s))
            st.per_second[key] = st.per_second.get(key, 0) + int(n)
        newest = frame["ts_utc"].max()
        if isinstance(newest, datetime):
            st.last_us = max(st.last_us or 0, us_of(newest))

    def _feeds(self, now_us: int) -> dict[str, dict[str, Any]]:
        out = {}
        for name, st in self.feeds.items():
            recent = sum(n for s, n in st.per_second.items() if now_us - 300 * US < int(s) * US <= now_us)
            stale = st.last_us is None or now_us - st.last_us > self.config.stale_after_s(name) * US
            out[name] = {"last_utc": iso(st.last_us), "msgs_per_min": recent / 5.0, "stale": stale}
        # the gauge's latest level (m above CD): a client adds its surge to the prediction as the UKC
        # alert does (twin.ukc_live.observed_surge_m)
        out["tide"]["level_m"] = self.tide_level_m
        return out

    def declarations_frame(self) -> pl.DataFrame:
        """Customs declarations now: id, mode, call_id, latest stage, channel, and the time of each
        WCO TRS stage reached (null where not reached)."""
        rows = [{"declaration_id": d.declaration_id, "mode": d.mode, "call_id": d.call_id, "stage": d.stage,
                 "channel": d.channel, **{f"{s}_us": d.stage_us.get(s) for s in CUSTOMS_STAGES}}
                for d in self.declarations.values()]
        schema: dict[str, Any] = {"declaration_id": pl.String, "mode": pl.String, "call_id": pl.String,
                                  "stage": pl.String, "channel": pl.String,
                                  **{f"{s}_us": pl.Int64 for s in CUSTOMS_STAGES}}
        frame = pl.DataFrame(rows, schema=schema)
        return frame.with_columns(
            pl.col(f"{s}_us").cast(pl.Datetime("us", "UTC")).alias(f"{s}_utc") for s in CUSTOMS_STAGES
        ).drop(f"{s}_us" for s in CUSTOMS_STAGES)

    def feed_stale(self, feed: str, now_us: int) -> bool:
        """Whether a feed's newest message is older than its configured age (or never came)."""
        st = self.feeds[feed]
        return st.last_us is None or now_us - st.last_us > self.config.stale_after_s(feed) * US

    # -- AIS ------------------------------------------------------------------------------------
    def _vessel(self, mmsi: int) -> VesselState:
        v = self.vessels.get(mmsi)
        if v is None:
            v = self.vessels[mmsi] = VesselState(mmsi=mmsi)
        return v

    def _apply_static(self, df: pl.DataFrame) -> None:
        keys = ("imo", "name", "callsign", "ship_type", "length_m", "beam_m", "draught_m", "destination")
        cols = [c for c in keys if c in df.columns]
        rows = df.filter(pl.col("mmsi").is_not_null()).sort("ts_utc", maintain_order=True)
        for row in rows.select("mmsi", *cols).iter_rows(named=True):
            v = self._vessel(int(row["mmsi"]))
            for c in cols:
                if row[c] is not None:
                    setattr(v, c, float(row[c]) if c.endswith("_m") else row[c])
            self._dirty_vessels.add(v.mmsi)

    def _chainage_km(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        x, y = self.port.metric.xy(lon, lat)
        along = shapely.line_locate_point(self._axis_m, shapely.points(x, y))
        return np.interp(along, self._axis_dist_m, self._axis_km)

    def _apply_positions(self, df: pl.DataFrame) -> None:
        # canonical frames have these, but a row without them cannot be placed: skip, never crash
        placed = pl.all_horizontal(pl.col(c).is_not_null() for c in ("ts_utc", "mmsi", "lon", "lat"))
        df = df.filter(placed).sort("ts_utc", maintain_order=True)
        if df.is_empty():
            return
        lon = df["lon"].to_numpy()
        lat = df["lat"].to_numpy()
        loc = self.index.locate(lon, lat)
        cells = cells_of(lat, lon, self.config.h3_res)
        need = loc["in_port_limit"].to_numpy()  # chainage also off the axis: pilot-area exits, approaches
        chain = np.full(lon.size, np.nan)
        if need.any():
            chain[need] = self._chainage_km(lon[need], lat[need])
        ts_list = df["ts_utc"].dt.epoch("us").to_list()
        cols = [df[c].to_list() if c in df.columns else [None] * df.height
                for c in ("mmsi", "sog_kn", "cog_deg", "heading_deg", "nav_status")]
        rows = zip(ts_list, *cols, lon.tolist(), lat.tolist(), cells.tolist(), chain.tolist(),
                   *(loc[c].to_list() for c in loc.columns), strict=True)
        for (ts, mmsi, sog, cog, hdg, nav, x, y, cell, km, berth, anc, seg, zone, inside, pilot) in rows:
            self._position(ts, int(mmsi), sog, cog, hdg, nav, x, y, int(cell),
                           None if math.isnan(km) else km, berth, anc, seg, zone, inside, pilot)

    def _position(self, ts: int, mmsi: int, sog: float | None, cog: float | None, hdg: float | None,
                  nav: int | None, lon: float, lat: float, cell: int, km: float | None, berth: str | None,
                  anc: str | None, seg: str | None, zone: str | None, inside: bool, pilot: bool) -> None:
        v = self._vessel(mmsi)
        cfg = self.config.detector
        if v.ts_us is not None and v.lon is not None and v.lat is not None:
            if ts < v.ts_us:
                self.ignored["out_of_order"] += 1
                return
            reach_m = max(cfg.jump_min_m, cfg.max_speed_kn * _KN_TO_MS * (ts - v.ts_us) / US)
            if _dist_m(v.lon, v.lat, lon, lat) > reach_m:
                agrees = (v.pending_ts_us is not None and v.pending_lon is not None
                          and v.pending_lat is not None
                          and _dist_m(v.pending_lon, v.pending_lat, lon, lat)
                          <= max(cfg.jump_min_m, cfg.max_speed_kn * _KN_TO_MS * (ts - v.pending_ts_us) / US))
                if not agrees:  # a single impossible jump: hold it until a second report confirms it
                    v.pending_ts_us, v.pending_lon, v.pending_lat = ts, lon, lat
                    v.outliers += 1
                    self.ignored["outlier"] += 1
                    return
        v.pending_ts_us = v.pending_lon = v.pending_lat = None
        prev = (v.ts_us, v.lon, v.lat, v.sog_kn)
        if v.first_seen_us is None:
            v.first_seen_us = ts
        if zone != v.zone_id or v.zone_since_us is None:
            v.zone_since_us = ts  # the zone's time in zone counts from the first report in it
        v.ts_us, v.lon, v.lat = ts, lon, lat
        v.sog_kn, v.cog_deg, v.heading_deg, v.nav_status = sog, cog, hdg, nav
        v.h3, v.zone_id, v.berth_here, v.anchorage_here, v.segment_id = cell, zone, berth, anc, seg
        v.chainage_km = km
        if km is not None and seg is not None:
            # direction from a change of more than 100 m: position jitter must not flip it
            if v.ref_chainage_km is None or abs(km - v.ref_chainage_km) > 0.1:
                if v.ref_chainage_km is not None:
                    v.direction = "inbound" if km > v.ref_chainage_km else "outbound"
                v.ref_chainage_km = km
        else:
            v.ref_chainage_km = None
            v.direction = None
        if v.ship_type in self.config.service_ship_types:
            v.limit_inside = inside  # tracked and shown, but never a port call
            if v.call_id is not None:
                self._close_call(v, ts)
        else:
            report = Report(ts, lon, lat, sog, nav, berth, anc, inside, pilot, km, *prev)
            self.detector.update(v, report, self._emit, self._open_call, self._close_call)
        v.dark = False
        v.phase = self._phase(v)
        self._dirty_vessels.add(mmsi)

    def _phase(self, v: VesselState) -> str:
        """outside | service (tugs, pilot boats…) | at_berth | at_anchor | in_channel | departing |
        approaching, in that order of precedence."""
        if not v.limit_inside:
            return "outside"
        if v.ship_type in self.config.service_ship_types:
            return "service"
        if v.berth_id is not None:
            return "at_berth"
        if v.anchor_id is not None:
            return "at_anchor"
        if v.segment_id is not None:
            return "in_channel"
        return "departing" if v.departed_berth else "approaching"

    def _open_call(self, v: VesselState, ts_us: int) -> None:
        n = self.call_counts.get(v.mmsi, 0) + 1
        self.call_counts[v.mmsi] = n
        v.call_id = f"{v.mmsi}-{n:04d}"
        self.calls[v.call_id] = CallRecord(call_id=v.call_id, mmsi=v.mmsi, opened_us=ts_us)
        v.pob_done = v.berthed_this_call = v.departed_berth = False
        v.pilot_enter_us = v.pilot_enter_km = v.pilot_slow_us = None
        v.pilot_slow_n = 0

    def _close_call(self, v: VesselState, ts_us: int) -> None:
        if v.call_id is not None and v.call_id in self.calls:
            self.calls[v.call_id].closed_us = ts_us
        v.call_id = None
        v.anchor_id = v.anchor_since_us = v.anchor_cand_id = v.anchor_cand_us = v.anchor_leave_us = None
        v.berth_id = v.berth_since_us = v.berth_cand_id = v.berth_cand_us = v.berth_leave_us = None
        v.anchor_leave_n = v.berth_leave_n = 0

    def _emit(self, v: VesselState, ts_us: int, event: str, location_id: str | None) -> None:
        if v.call_id is None:
            self._open_call(v, ts_us)
        assert v.call_id is not None
        rec = self.calls[v.call_id]
        if event == "all_fast":
            rec.all_fast_us = ts_us
            if location_id is not None:
                rec.berth_ids.append(location_id)
        elif event == "departure_from_berth":
            rec.departed_us = ts_us
            self._bind_cargo(v.call_id, v.mmsi)
        item = (ts_us, v.mmsi, v.call_id, event, location_id)
        self.event_log.append(item)
        self._new_events.append(item)

    # -- cargo, gates, customs, tide ------------------------------------------------------------
    def _apply_cargo(self, df: pl.DataFrame) -> None:
        if "call_id" not in df.columns:
            raise ValueError("port_call_cargo needs a call_id column")
        for row in df.iter_rows(named=True):
            item = {"tonnes": _num(row.get("tonnes")), "teu": _num(row.get("teu")),
                    "cargo": None if row.get("cargo") is None else str(row["cargo"])}
            cid = str(row["call_id"])
            if cid in self.calls or row.get("mmsi") is None:
                self.cargo[cid] = item
            else:  # the sender's call id: bind it to this ship's next call that leaves its berth
                self.cargo_by_mmsi.setdefault(int(row["mmsi"]), []).append({**item, "source_call_id": cid})

    def _bind_cargo(self, call_id: str, mmsi: int) -> None:
        waiting = self.cargo_by_mmsi.get(mmsi)
        if call_id not in self.cargo and waiting:
            item = waiting.pop(0)
            self.cargo[call_id] = {"tonnes": item["tonnes"], "teu": item["teu"], "cargo": item.get("cargo")}

    def _apply_gate(self, df: pl.DataFrame) -> None:
        proc = df["processing_s"].to_list() if "processing_s" in df.columns else [None] * df.height
        times = df["ts_utc"].dt.epoch("us").to_list()
        for ts, gate, p in zip(times, df["gate_id"].to_list(), proc, strict=True):
            if ts is not None and gate is not None:
                self.gate_log.append((ts, str(gate), None if p is None else float(p)))
        self.gate_log.sort(key=lambda g: g[0])

    def _apply_customs(self, df: pl.DataFrame) -> None:
        frame = df.sort("ts_utc", maintain_order=True).with_columns(us=pl.col("ts_utc").dt.epoch("us"))
        for row in frame.iter_rows(named=True):
            did = str(row["declaration_id"])
            d = self.declarations.get(did) or Declaration(declaration_id=did)
            self.declarations[did] = d
            stage = None if row.get("stage") is None else str(row["stage"])
            if stage is not None:
                d.stage_us.setdefault(stage, row["us"])
                d.stage = stage
            for key in ("mode", "call_id", "channel"):
                if row.get(key) is not None:
                    setattr(d, key, str(row[key]))

    def _apply_tide(self, df: pl.DataFrame) -> None:
        last = df.drop_nulls("level_m").sort("ts_utc").tail(1)
        if last.height:
            self.tide_level_m = float(last["level_m"][0])
            self.tide_station = None if last["station_id"][0] is None else str(last["station_id"][0])

    # -- sweeps and views -----------------------------------------------------------------------
    def _sweep(self, now_us: int) -> None:
        cfg = self.config
        for mmsi, v in list(self.vessels.items()):
            if v.ts_us is None:
                continue
            age_us = now_us - v.ts_us
            if (not v.limit_inside and age_us > cfg.outside_ttl_s * US) or age_us > cfg.inside_ttl_s * US:
                del self.vessels[mmsi]
                self._removed.append(mmsi)
                self._dirty_vessels.discard(mmsi)
                continue
            limit_s = max(cfg.dark_min_s, cfg.dark_factor * expected_interval_s(v))
            dark = bool(v.limit_inside) and age_us > limit_s * US
            if dark != v.dark:
                v.dark = dark
                self._dirty_vessels.add(mmsi)
        # bounded memory for a process that runs for months: the snapshot stays small
        old_call = now_us - int(cfg.keep_closed_calls_s * US)
        for cid in [c.call_id for c in self.calls.values()
                    if c.closed_us is not None and c.closed_us < old_call]:
            del self.calls[cid]
            self.cargo.pop(cid, None)
        old_decl = now_us - int(cfg.keep_declarations_s * US)
        for did in [d.declaration_id for d in self.declarations.values()
                    if d.stage_us and max(d.stage_us.values()) < old_decl]:
            del self.declarations[did]
        if len(self.event_log) > cfg.max_event_log:
            del self.event_log[: len(self.event_log) - cfg.max_event_log]
        keep_from = now_us - max(HOUR_US, int(cfg.gate_queue_window_s * US))
        if self.gate_log and self.gate_log[0][0] <= keep_from:
            self.gate_log = [g for g in self.gate_log if g[0] > keep_from]
        for st in self.feeds.values():
            old = [s for s in st.per_second if int(s) * US <= now_us - 300 * US]
            for s in old:
                del st.per_second[s]

    def _vessel_row(self, v: VesselState) -> list[Any]:
        # AIS speeds/courses come as float32: round to their resolution (0.1) so 12.3 is not 12.30000019
        return [v.mmsi, v.name, ship_class_of(v.ship_type), v.lon, v.lat, _r(v.sog_kn, 1), _r(v.cog_deg, 1),
                _r(v.heading_deg, 1), _r(v.length_m, 2), _r(v.beam_m, 2), _r(v.draught_m, 2), v.phase,
                v.zone_id,
                None if v.h3 is None else h3.int_to_str(v.h3), iso(v.ts_us), v.dark]

    def _berths(self) -> dict[str, dict[str, Any]]:
        held: dict[str, VesselState] = {}
        for v in self.vessels.values():
            if v.berth_id is not None:
                other = held.get(v.berth_id)
                if other is None or (v.berth_since_us or 0, v.mmsi) < (other.berth_since_us or 0, other.mmsi):
                    held[v.berth_id] = v
        out = {}
        for bid in self.port.berths:
            ship = held.get(bid)
            out[bid] = {"id": bid, "mmsi": None if ship is None else ship.mmsi,
                        "since_utc": None if ship is None else iso(ship.berth_since_us)}
        return out

    def _anchorages(self, now_us: int) -> dict[str, dict[str, Any]]:
        out = {}
        for aid in self.port.anchorages:
            here = sorted((v for v in self.vessels.values() if v.anchor_id == aid), key=lambda x: x.mmsi)
            waits = [(now_us - v.anchor_since_us) / HOUR_US for v in here if v.anchor_since_us is not None]
            out[aid] = {"id": aid, "mmsis": [v.mmsi for v in here],
                        "median_wait_h": round(statistics.median(waits), 3) if waits else None}
        return out

    def _gates(self, now_us: int) -> dict[str, dict[str, Any]]:
        """Per gate: transactions in the last hour and an estimated queue.

        The gate log records passages, not waiting trucks, so the queue is Little's law over the
        last `gate_queue_window_s`: arrival rate (trucks/s) × mean processing time (s), rounded.
        """
        window_us = int(self.config.gate_queue_window_s * US)
        ids = list(self.port.gates) + sorted({g for _, g, _ in self.gate_log} - set(self.port.gates))
        out = {}
        for gid in ids:
            hour = [(ts, p) for ts, g, p in self.gate_log if g == gid and now_us - HOUR_US < ts <= now_us]
            recent = [p for ts, p in hour if now_us - window_us < ts]
            procs = [p for p in recent if p is not None]
            queue = round(len(recent) / (window_us / US) * statistics.fmean(procs)) if procs else 0
            out[gid] = {"id": gid, "queue": int(queue), "tx_last_hour": len(hour)}
        return out

    def _kpis(self, now_us: int) -> dict[str, dict[str, Any]]:
        out = {}
        for k in KPIS:
            value = k.compute(self, now_us)
            stale = False if k.feed is None else self.feed_stale(k.feed, now_us)
            updated = now_us if k.feed is None else self.feeds[k.feed].last_us
            out[k.id] = {"value": value, "unit": k.unit, "label_zh": k.label_zh, "label_en": k.label_en,
                         "updated_utc": iso(updated), "stale": stale, "trend": list(self.trend[k.id])}
            if k.extra is not None:
                out[k.id].update(k.extra(self, now_us))
        return out

    @staticmethod
    def _event_dict(e: tuple[int, int, str, str, str | None]) -> dict[str, Any]:
        return {"ts_utc": iso(e[0]), "mmsi": e[1], "call_id": e[2], "event": e[3], "location_id": e[4]}

    def _delta(self, now_us: int) -> Delta:
        rows = [self._vessel_row(self.vessels[m]) for m in sorted(self._dirty_vessels) if m in self.vessels]
        delta = Delta(seq=self.seq, ts_utc=iso(now_us) or "", vessels={"columns": list(VESSEL_COLUMNS),
                      "rows": rows}, removed=sorted(self._removed), berths=[], anchorages=[], gates=[],
                      events=[self._event_dict(e) for e in self._new_events], kpis={}, alerts=[], feeds={})
        self._dirty_vessels = set()
        self._removed = []
        self._new_events = []
        for key, current in (("berths", self._berths()), ("anchorages", self._anchorages(now_us)),
                             ("gates", self._gates(now_us)), ("channel", self._channel())):
            sent = self._sent.setdefault(key, {})
            changed = [item for iid, item in current.items() if sent.get(iid) != item]
            for item in changed:
                sent[item["id"]] = item
            setattr(delta, key, changed)
        return delta

    def _finish_delta(self, delta: Delta, now_us: int) -> None:
        """KPIs (with their trend sample), alerts and feeds: after the observers had their say."""
        if self.next_trend_us is None or now_us >= self.next_trend_us:
            for k in KPIS:
                series = self.trend[k.id]
                series.append(k.compute(self, now_us))
                del series[:-TREND_LEN]
            self.next_trend_us = (now_us // TREND_STEP_US + 1) * TREND_STEP_US
        for kid, tile in self._kpis(now_us).items():
            sent = self._sent["kpis"].get(kid)
            key = [tile["value"], tile["stale"], tile["trend"], tile.get("unknown_calls")]
            if sent is None or sent[0] != key or _age_us(tile["updated_utc"], sent[1]) >= 60 * US:
                delta.kpis[kid] = tile
                self._sent["kpis"][kid] = [key, tile["updated_utc"]]
        seen: set[str] = set()
        for aid in self._dirty_alerts:
            if aid not in seen and aid in self.alerts:
                delta.alerts.append(self.alerts[aid])
                seen.add(aid)
        self._dirty_alerts = []
        for name, item in self._feeds(now_us).items():
            if self._sent["feeds"].get(name) != item:
                delta.feeds[name] = item
                self._sent["feeds"][name] = item
        sent_charts = self._sent.setdefault("charts", {})
        for name, chart in charts(self, now_us).items():
            if sent_charts.get(name) != chart:
                delta.charts[name] = chart
                sent_charts[name] = chart


def load_state_json(data: bytes) -> dict[str, Any]:
    """Parse `Engine.to_snapshot_bytes` output; ValueError when it is not JSON of `STATE_FORMAT`."""
    try:
        state = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not an engine state (unreadable JSON: {exc})") from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"not an engine state of format {STATE_FORMAT}: {got!r}")
    return state


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _age_us(new_iso: str | None, old_iso: str | None) -> int:
    """How much later `new_iso` is than `old_iso` (µs); 0 when either is unknown."""
    if new_iso is None or old_iso is None:
        return 0
    return us_of(datetime.fromisoformat(new_iso)) - us_of(datetime.fromisoformat(old_iso))
