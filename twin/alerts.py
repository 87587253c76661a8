"""Alerts of the live twin: rules evaluated on every engine step, one alert per situation.

```python
alerts = AlertEngine(port, load_rules()).attach(eng)   # evaluates after every eng.apply
eng.apply(frames, now)                                  # the delta carries raised/updated/cleared alerts
alerts.acknowledge("channel_speed:412345678", by="VTS duty officer", note="called on VHF 09", now=now)
alerts.history_frame()                                  # every transition, as a polars frame
```

Priorities are IMO MSC.302(87) bridge alert management: emergency_alarm, alarm, warning, caution.
Lifecycle of one alert (id `<rule id>:<subject>`, stable for the situation, so no floods):

- **raise** when a rule's condition starts (state `raised`);
- **update** when its rounded value, priority, text or place changes (state kept); an acknowledged
  alert whose priority rises above the acknowledged one goes back to `raised`;
- **escalate**: a `warning` still unacknowledged `escalate_after_s` after it was raised becomes an
  `alarm` (and stays one until cleared);
- **acknowledge** (`AlertEngine.acknowledge`): state `acknowledged`, with who, a note and when —
  the caller checks the operator's token first;
- **clear** when the condition ends, with each rule's hysteresis (state `cleared`). The same
  situation later raises again under the same id.

Every transition is appended to `history` (`AlertTransition`); the engine gets the public alert
(contracts §6 shape plus `mmsi`, `lon`, `lat`, `zone_id`, `value`, `unit` …) through
`Engine.set_alert` only when that dict changed. Time is the engine's (`engine.now_us`), never read
from a clock.

What the engine does not keep and the alerts need, gathered from outside the engine:
the gate queue per gate comes from the deltas' `gates` (and one snapshot at `attach`); truck turn
times need the visit ids of `gate_event` rows, which the engine's gate log drops, so when a
`truck_turn_time` rule is enabled `attach` wraps the engine instance's `apply` to see the frames
first (`observe_frames`, which a caller may also call directly).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
import shapely
import xarray as xr

from twin.alert_rules import (
    CHECKS,
    PRIORITY_RANK,
    Context,
    Finding,
    RuleSet,
    RuleSpec,
    load_rules,
)
from twin.engine import Delta, Engine, load_state_json
from twin.port import Port
from twin.state import DAY_US, US, dt_of, iso, us_of

EVENTS = ("raise", "update", "escalate", "acknowledge", "clear")
ALERT_STATE_FORMAT = "zjtwin-alert-state/1"
# A moving ship's alert follows it in steps of this much (an update per report would flood deltas)
MOVE_UPDATE_KM = 0.5

HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "ts_utc": pl.Datetime("us", "UTC"),
    "alert_id": pl.String(),
    "rule": pl.String(),
    "subject": pl.String(),
    "event": pl.String(),
    "state": pl.String(),
    "priority": pl.String(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "mmsi": pl.UInt32(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "zone_id": pl.String(),
    "by": pl.String(),
    "note": pl.String(),
    "text_zh": pl.String(),
    "text_en": pl.String(),
}


@dataclass(frozen=True)
class AlertTransition:
    """One step in the life of an alert: `event` (one of EVENTS) at `ts_us` (µs since epoch, UTC),
    with the alert's state, priority and value after it; `by`/`note` for acknowledgements."""

    ts_us: int
    alert_id: str
    rule: str
    subject: str
    event: str
    state: str
    priority: str
    value: float | None
    unit: str
    mmsi: int | None
    lon: float | None
    lat: float | None
    zone_id: str | None
    by: str | None
    note: str | None
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record, the time as ISO 8601 UTC (`ts_utc`)."""
        d = asdict(self)
        d["ts_utc"] = iso(d.pop("ts_us"))
        return {"ts_utc": d.pop("ts_utc"), **d}


@dataclass
class _Alert:
    """Internal state of one alert."""

    id: str
    rule: str
    subject: str
    priority: str
    state: str
    raised_us: int
    updated_us: int
    unacked_since_us: int
    finding: Finding
    escalated: bool = False
    ack_by: str | None = None
    ack_note: str | None = None
    ack_us: int | None = None
    ack_priority: str | None = None
    cleared_us: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The alert as the bus carries it (contracts §6 plus the optional keys)."""
        f = self.finding
        return {
            "id": self.id,
            "rule": self.rule,
            "priority": self.priority,
            "state": self.state,
            "subject": self.subject,
            "text_zh": f.text_zh,
            "text_en": f.text_en,
            "mmsi": f.mmsi,
            "lon": _r(f.lon, 5),
            "lat": _r(f.lat, 5),
            "zone_id": f.zone_id,
            "value": f.value,
            "unit": f.unit,
            "escalated": self.escalated,
            "raised_utc": iso(self.raised_us),
            "updated_utc": iso(self.updated_us),
            "acknowledged_by": self.ack_by,
            "acknowledged_utc": iso(self.ack_us),
            "note": self.ack_note,
            "cleared_utc": iso(self.cleared_us),
            **f.extra,
        }


def _moved_km(a: Finding, b: Finding) -> float:
    """Distance (km, flat earth) between two findings' places; 0 when either has none."""
    if a.lon is None or a.lat is None or b.lon is None or b.lat is None:
        return 0.0 if (a.lon is None) == (b.lon is None) else math.inf
    return 111.2 * math.hypot((b.lon - a.lon) * math.cos(math.radians(a.lat)), b.lat - a.lat)


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def _higher(a: str, b: str) -> str:
    return a if PRIORITY_RANK[a] >= PRIORITY_RANK[b] else b


def _encode(value: Any) -> Any:
    """JSON-able form of nested dicts whose keys may be ints (MMSIs): such a dict becomes
    `{"__items__": [[key, value], ...]}` so `_decode` gives the keys back with their type."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"__items__": [[k, _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    """Inverse of `_encode`."""
    if isinstance(value, dict):
        if set(value) == {"__items__"}:
            return {k: _decode(v) for k, v in value["__items__"]}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class AlertEngine:
    """Evaluates a `RuleSet` against an engine's state and keeps the alerts' lifecycle.

    `depth_below_cd` (bathymetry, m below CD) and `tide` (a model with `level_m(times)`, m above
    CD) default to the port's bundled files, read on first need (not at construction). Raises
    RulesFileError when a rule names an area the port does not have.
    """

    def __init__(
        self,
        port: Port,
        rules: RuleSet | None = None,
        *,
        depth_below_cd: xr.DataArray | None = None,
        tide: Any = None,
    ) -> None:
        self.port = port
        self.rules = rules if rules is not None else load_rules()
        self.history: list[AlertTransition] = []
        self._alerts: dict[str, _Alert] = {}
        self._pushed: dict[str, dict[str, Any]] = {}
        self._memory: dict[str, dict[str, Any]] = {}
        self._gate_queue: dict[str, int] = {}
        self._visits: dict[str, tuple[int, str]] = {}  # visit id → (gate-in µs, terminal)
        self._turns: list[tuple[int, str, float]] = []
        self._depth = depth_below_cd
        self._tide = tide
        self._engine: Engine | None = None
        self._areas: dict[str, Any] = {}
        for rule in self.rules.rules:
            if rule.kind == "restricted_zone":
                for aid in rule.params["areas"]:
                    self._areas[aid] = self._area(rule, aid)

    def _area(self, rule: RuleSpec, aid: str) -> Any:
        try:
            feat = self.port.find(aid)
        except KeyError:
            feat = next((s for s in self.port.channel.segments if s.id == aid), None)
        geom = getattr(feat, "area", None) or getattr(feat, "pocket", None)
        if geom is None:
            raise rule.error(
                "areas", f"no anchorage, zone, channel segment or berth {aid!r} in port {self.port.id}"
            )
        shapely.prepare(geom)
        return geom

    # -- wiring ---------------------------------------------------------------------------------
    def attach(self, engine: Engine) -> AlertEngine:
        """Evaluate after every `engine.apply`; adopt the engine's open alerts (a restored engine).

        Returns self. With an enabled `truck_turn_time` rule, wraps this engine instance's
        `apply` so that gate frames reach `observe_frames` first (see the module docstring).
        """
        self._engine = engine
        self._adopt_engine(engine)
        engine.add_observer(self)
        if any(r.enabled and r.kind == "truck_turn_time" for r in self.rules.rules):
            original: Callable[[dict[str, pl.DataFrame], datetime], Delta] = engine.apply

            def apply(frames: dict[str, pl.DataFrame], now: datetime) -> Delta:
                self.observe_frames(frames)
                return original(frames, now)

            engine.apply = apply  # type: ignore[method-assign]  # the engine has no frame hook yet
        return self

    def _adopt_engine(self, engine: Engine) -> None:
        """Take over the engine's open alerts not known here, and its gate queues."""
        known = {r.id for r in self.rules.rules}
        for aid, a in engine.alerts.items():
            if a.get("state") != "cleared" and a.get("rule") in known and aid not in self._alerts:
                self._adopt(aid, a)
        if engine.now_us is not None:
            self._gate_queue = {
                g["id"]: int(g["queue"]) for g in engine.snapshot(dt_of(engine.now_us))["gates"]
            }

    def _adopt(self, aid: str, a: dict[str, Any]) -> None:
        f = Finding(
            str(a.get("subject")),
            str(a.get("priority")),
            a.get("value"),
            str(a.get("unit") or ""),
            str(a.get("text_zh") or ""),
            str(a.get("text_en") or ""),
            a.get("mmsi"),
            a.get("lon"),
            a.get("lat"),
            a.get("zone_id"),
        )

        def us(key: str) -> int | None:
            return None if a.get(key) is None else us_of(datetime.fromisoformat(str(a[key])))

        raised = us("raised_utc") or 0
        self._alerts[aid] = _Alert(
            aid,
            str(a["rule"]),
            str(a.get("subject")),
            str(a["priority"]),
            str(a["state"]),
            raised,
            us("updated_utc") or raised,
            raised,
            f,
            bool(a.get("escalated")),
            a.get("acknowledged_by"),
            a.get("note"),
            us("acknowledged_utc"),
            str(a["priority"]) if a.get("state") == "acknowledged" else None,
        )
        self._pushed[aid] = dict(a)

    def observe_frames(self, frames: dict[str, pl.DataFrame]) -> None:
        """Take the truck visits (gate in → gate out, by `visit_id`) out of a `gate_event` frame."""
        df = frames.get("gate_event")
        if df is None or df.is_empty() or "visit_id" not in df.columns or "direction" not in df.columns:
            return
        terminal = {g.id: g.terminal for g in self.port.gates.values()}
        rows = df.sort("ts_utc").select(
            pl.col("ts_utc").dt.epoch("us"), "gate_id", "visit_id", pl.col("direction").cast(pl.String)
        )
        for ts, gate, visit, direction in rows.iter_rows():
            if ts is None or visit is None:
                continue
            if direction == "in":
                self._visits[visit] = (ts, terminal.get(gate, gate))
            elif direction == "out" and visit in self._visits:
                t_in, term = self._visits.pop(visit)
                self._turns.append((ts, term, (ts - t_in) / US))
        newest = max((t for t, _g, _s in self._turns), default=0)
        self._turns = [t for t in self._turns if t[0] > newest - DAY_US]
        self._visits = {k: v for k, v in self._visits.items() if v[0] > newest - DAY_US}

    def __call__(self, engine: Engine, delta: Delta) -> None:
        """The engine observer: `evaluate` at the engine's time."""
        self.evaluate(engine, delta)

    # -- evaluation -----------------------------------------------------------------------------
    def _tide_at(self, t_us: int) -> float:
        if self._tide is None:
            from twin.tide import read_constituents_toml  # read on first need, never at import

            self._tide = read_constituents_toml(self.port.files["tide"])
        return float(np.asarray(self._tide.level_m(np.array([np.datetime64(t_us, "us")])))[0])

    def _depth_grid(self) -> xr.DataArray:
        if self._depth is None:
            from twin.bathymetry import load_bathymetry

            self._depth = load_bathymetry(self.port.files["bathymetry"])
        return self._depth

    def evaluate(self, engine: Engine, delta: Delta | None = None) -> None:
        """Run every enabled rule at `engine.now_us`; raise, update, escalate and clear alerts and
        push the changed ones with `engine.set_alert`. No-op before the engine's first apply."""
        if engine.now_us is None:
            return
        now = engine.now_us
        if delta is not None:
            for g in delta.gates:
                self._gate_queue[str(g["id"])] = int(g["queue"])
        ctx = Context(
            engine,
            now,
            self._memory,
            self._gate_queue,
            self._turns,
            self._tide_at,
            self._depth_grid,
            self._areas,
        )
        for rule in self.rules.rules:
            if not rule.enabled:
                continue
            prefix = f"{rule.id}:"
            open_ = {a.subject for a in self._alerts.values() if a.rule == rule.id and a.state != "cleared"}
            seen: set[str] = set()
            for f in CHECKS[rule.kind](rule, ctx, open_):
                if f.subject not in seen:
                    seen.add(f.subject)
                    self._upsert(rule, prefix + f.subject, f, now)
            for subject in sorted(open_ - seen):
                self._clear(prefix + subject, now)
            if rule.escalate_after_s is not None:
                self._escalate(rule, now)
        self._push(engine)

    def _record(
        self, a: _Alert, event: str, ts_us: int, by: str | None = None, note: str | None = None
    ) -> None:
        f = a.finding
        self.history.append(
            AlertTransition(
                ts_us,
                a.id,
                a.rule,
                a.subject,
                event,
                a.state,
                a.priority,
                f.value,
                f.unit,
                f.mmsi,
                f.lon,
                f.lat,
                f.zone_id,
                by,
                note,
                f.text_zh,
                f.text_en,
            )
        )

    def _upsert(self, rule: RuleSpec, aid: str, f: Finding, now: int) -> None:
        a = self._alerts.get(aid)
        if a is None or a.state == "cleared":
            a = self._alerts[aid] = _Alert(aid, rule.id, f.subject, f.priority, "raised", now, now, now, f)
            self._record(a, "raise", now)
            return
        priority = _higher(f.priority, "alarm") if a.escalated else f.priority
        note = None
        if (
            a.state == "acknowledged"
            and a.ack_priority is not None
            and PRIORITY_RANK[priority] > PRIORITY_RANK[a.ack_priority]
        ):
            a.state, a.unacked_since_us = "raised", now  # worse than what the operator acknowledged
            note = f"priority rose above the acknowledged {a.ack_priority}"
        old = a.finding
        moved = old.zone_id != f.zone_id or _moved_km(old, f) > MOVE_UPDATE_KM
        if (
            note
            or priority != a.priority
            or (old.value, old.text_en, old.extra) != (f.value, f.text_en, f.extra)
            or moved
        ):
            a.priority, a.finding, a.updated_us = priority, f, now
            self._record(a, "update", now, note=note)

    def _clear(self, aid: str, now: int) -> None:
        a = self._alerts[aid]
        a.state, a.cleared_us, a.updated_us = "cleared", now, now
        self._record(a, "clear", now)

    def _escalate(self, rule: RuleSpec, now: int) -> None:
        assert rule.escalate_after_s is not None
        for a in self._alerts.values():
            if (
                a.rule == rule.id
                and a.state == "raised"
                and a.priority == "warning"
                and not a.escalated
                and now - a.unacked_since_us >= rule.escalate_after_s * US
            ):
                a.priority, a.escalated, a.updated_us = "alarm", True, now
                self._record(
                    a, "escalate", now, note=f"unacknowledged for {rule.escalate_after_s / 60:g} min"
                )

    def _push(self, engine: Engine) -> None:
        for aid, a in self._alerts.items():
            pub = a.public()
            if self._pushed.get(aid) != pub:
                engine.set_alert(pub)
                self._pushed[aid] = pub

    # -- operators ------------------------------------------------------------------------------
    def acknowledge(self, alert_id: str, by: str, note: str, now: datetime) -> dict[str, Any]:
        """Acknowledge an open alert: records `by` (who), `note` and `now` (tz-aware), state
        `acknowledged`; returns the public alert and hands it to the attached engine (next delta).

        The caller checks the operator's token before calling. Raises KeyError for an unknown id,
        ValueError for a cleared alert, an empty `by` or a naive `now`.
        """
        now_us = us_of(now)
        a = self._alerts.get(alert_id)
        if a is None:
            raise KeyError(f"no alert {alert_id!r}")
        if a.state == "cleared":
            raise ValueError(f"alert {alert_id!r} is cleared; there is nothing to acknowledge")
        if not by.strip():
            raise ValueError("an acknowledgement needs the name of who acknowledges (by)")
        a.state, a.ack_by, a.ack_note, a.ack_us, a.ack_priority = "acknowledged", by, note, now_us, a.priority
        a.updated_us = now_us
        self._record(a, "acknowledge", now_us, by=by, note=note)
        if self._engine is not None:
            self._push(self._engine)
        return a.public()

    # -- state round trip -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The alert lifecycle state as JSON-able data (restore with `load_state`).

        Holds every alert with its acknowledgement (who, note, when, at which priority), the time
        it became unacknowledged (escalation), the rules' dwell memory, gate queues and truck
        visits. The transition `history` is a log, not state: it is not included.
        """
        return {
            "format": ALERT_STATE_FORMAT,
            "alerts": [
                {**{k: v for k, v in asdict(a).items() if k != "finding"}, "finding": asdict(a.finding)}
                for a in self._alerts.values()
            ],
            "pushed": self._pushed,
            "memory": _encode(self._memory),
            "gate_queue": self._gate_queue,
            "visits": {k: list(v) for k, v in self._visits.items()},
            "turns": [list(t) for t in self._turns],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace the lifecycle state with `state_dict` output; ValueError for another format.

        Call before `attach` (which then adopts nothing new: the alerts are already known).
        """
        if state.get("format") != ALERT_STATE_FORMAT:
            raise ValueError(f"not an alert state of format {ALERT_STATE_FORMAT}: {state.get('format')!r}")
        self._alerts = {}
        for item in state["alerts"]:
            data = dict(item)
            data["finding"] = Finding(**data["finding"])
            self._alerts[str(data["id"])] = _Alert(**data)
        self._pushed = {str(k): dict(v) for k, v in state["pushed"].items()}
        self._memory = _decode(state["memory"])
        self._gate_queue = {str(k): int(v) for k, v in state["gate_queue"].items()}
        self._visits = {str(k): (int(v[0]), str(v[1])) for k, v in state["visits"].items()}
        self._turns = [(int(t[0]), str(t[1]), float(t[2])) for t in state["turns"]]
        self.history = []  # a log of what happened after this state, not before it

    def reset(self) -> None:
        """Forget every alert, transition and rule memory (the rules and loaded grids stay)."""
        self.history, self._alerts, self._pushed, self._memory = [], {}, {}, {}
        self._gate_queue, self._visits, self._turns = {}, {}, []

    # -- views ----------------------------------------------------------------------------------
    def alerts(self, include_cleared: bool = False) -> list[dict[str, Any]]:
        """Public alerts, most urgent first (then oldest first); open ones unless asked."""
        items = [a for a in self._alerts.values() if include_cleared or a.state != "cleared"]
        items.sort(key=lambda a: (-PRIORITY_RANK[a.priority], a.raised_us, a.id))
        return [a.public() for a in items]

    def history_records(self) -> list[dict[str, Any]]:
        """The full history as JSON-able dicts, in order."""
        return [t.to_dict() for t in self.history]

    def history_frame(self) -> pl.DataFrame:
        """The full history as a polars frame (columns `HISTORY_SCHEMA`), in order."""
        if not self.history:
            return pl.DataFrame(schema=HISTORY_SCHEMA)
        rows = [asdict(t) for t in self.history]
        for r in rows:
            r["ts_utc"] = r.pop("ts_us")
        frame = pl.DataFrame(
            rows,
            schema_overrides={k: v for k, v in HISTORY_SCHEMA.items() if k != "ts_utc"},
            infer_schema_length=None,
        )
        return frame.with_columns(pl.col("ts_utc").cast(pl.Datetime("us", "UTC"))).select(
            list(HISTORY_SCHEMA)
        )


class AlertingEngine:
    """An engine with its `AlertEngine` attached, taking operator acknowledgements as input frames.

    `apply(frames, now)` first acknowledges each `alert_ack` row (feeds.control: ts_utc, alert_id,
    by, note) — acknowledgements travel the journalled ingest path, so a restart replays them —
    then applies the rest to the engine. A refused acknowledgement (unknown or cleared alert, no
    `by`) never raises: it is counted in `refused_acks` with its reason. Everything else is the
    engine's (`snapshot`, `to_snapshot_bytes`, `state_hash`, ...).
    """

    def __init__(self, engine: Engine, alerts: AlertEngine) -> None:
        self.engine = engine
        self.alert_engine = alerts.attach(engine)
        self.refused_acks: list[dict[str, Any]] = []

    def apply(self, frames: dict[str, Any], now: datetime) -> Any:
        acks = frames.get("alert_ack")
        if acks is not None:
            for row in acks.iter_rows(named=True):
                when = row.get("ts_utc") or now
                try:
                    self.alert_engine.acknowledge(str(row.get("alert_id")), str(row.get("by") or ""),
                                                  str(row.get("note") or ""), when)
                except (KeyError, ValueError) as exc:
                    self.refused_acks.append({"alert_id": row.get("alert_id"), "reason": str(exc)})
        return self.engine.apply({k: v for k, v in frames.items() if k != "alert_ack"}, now)

    def to_snapshot_bytes(self) -> bytes:
        """The engine's state with the alert engine's (`alert_engine`: lifecycle, acknowledgements,
        rule memory) and the refused acknowledgements: restore with `from_snapshot`."""
        extra = {"alert_engine": {**self.alert_engine.state_dict(), "refused_acks": self.refused_acks}}
        return self.engine.to_snapshot_bytes(extra)

    @classmethod
    def from_snapshot(cls, port: Port, data: bytes, alerts: AlertEngine) -> AlertingEngine:
        """The alerting engine restored from `to_snapshot_bytes` output, with `alerts` (a fresh
        `AlertEngine` holding the rules) given the stored alert state. A plain engine snapshot
        (no `alert_engine` key) restores the engine, and `attach` adopts its open alerts.
        Raises ValueError for a snapshot of another format."""
        state = load_state_json(data)
        stored = state.get("alert_engine")
        if isinstance(stored, dict):
            alerts.load_state(stored)
        wrapped = cls(Engine.from_state(port, state), alerts)
        if isinstance(stored, dict):
            wrapped.refused_acks = list(stored.get("refused_acks", []))
        return wrapped

    def load_snapshot(self, data: bytes) -> None:
        """Replace the state of this engine and its alert engine with `to_snapshot_bytes` output, in
        place (the zone index, the rules and the loaded bathymetry and tide stay): what a replay
        moving back in time does. ValueError for another format or another `EngineConfig`."""
        state = load_state_json(data)
        self.engine.load_state(state)
        self.alert_engine.reset()
        stored = state.get("alert_engine")
        if isinstance(stored, dict):
            self.alert_engine.load_state(stored)
            self.refused_acks = list(stored.get("refused_acks", []))
        else:
            self.alert_engine._adopt_engine(self.engine)
            self.refused_acks = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)
