"""The desk's replay bar: a time slider over the stored AIS, play at ×1…×600, step, back to live.

One `ReplayBar` per session. While `at` is None the desk is live and the slider follows the newest
stored time; moving the slider, playing or stepping sets `at`, and `state(live)` then returns an
`OpsState` built from the history store instead of the stream's: the session's own replay engine
(`feeds.replay.ReplaySession`: newest engine checkpoint before `at` plus the stored inputs after
it) gives the whole twin at `at` (phases, zones, berths, anchorages, gates, events, alerts, KPIs);
where no checkpoint covers `at` (a history written before checkpoints existed) it falls back to
positions only (`feeds.replay.positions_at`). The rules live in `feeds.replay`; this only wires
widgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import panel as pn

from dashboards.ops.i18n import t
from dashboards.ops.store import MAX_EVENTS, OpsState, ZoneEntry
from dashboards.ops.views import parse_utc
from feeds.replay import ReplaySession, history_span, positions_at
from twin.port import Port
from twin.zones import ZoneIndex

SPEEDS = (1, 10, 60, 300, 600)
STEP_S = 60
SPAN_EVERY_S = 10.0  # the history grows with each flush; re-reading its span per refresh is wasted I/O
# Light grey, not white, text: the desk's tests find the selected zone's white outline by pure-white pixels.
BAR_CSS = ".bk-btn { color: #cfd8e3 !important; }"
HANDLE_CSS = ".noUi-handle { background: #9fb3c8 !important; border-color: #6f8399 !important; }"


def _epoch(ts: datetime) -> int:
    return int(ts.timestamp())


def _before(iso: Any, at: datetime) -> bool:
    ts = parse_utc(iso) if isinstance(iso, str) else None
    return ts is not None and ts <= at


def _utc(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class ReplayBar:
    """The replay widgets of one session and the replayed state they select."""

    def __init__(
        self,
        history_dir: Path | None,
        index: ZoneIndex | None,
        on_change: Callable[[], None],
        port: Port | None = None,
    ) -> None:
        self.history_dir = history_dir
        self.index = index
        self.on_change = on_change
        self.port = port  # None: the bundled port model (the one `twin demo` runs)
        self.session: ReplaySession | None = None
        # the replay engine's snapshot at `at` (None: positions only, or live)
        self.snapshot: dict[str, Any] | None = None
        self.at: datetime | None = None
        self.lang = "zh"
        self.version = 0
        self._state: OpsState | None = None
        self._state_at: datetime | None = None
        self._span_read = 0.0
        self.slider = pn.widgets.IntSlider(
            start=0, end=1, value=1, step=1, show_value=False, sizing_mode="stretch_width", min_width=100,
            disabled=True, css_classes=["replay-slider"], stylesheets=[HANDLE_CSS],
        )
        self.slider.param.watch(self._on_slide, "value_throttled")
        # a button that cycles the speeds, not a <select>: the desk's other pickers are found as selects
        self.speed_x = 60
        self.speed = pn.widgets.Button(
            label="×60", width=64, css_classes=["replay-speed"], stylesheets=[BAR_CSS]
        )
        self.speed.on_click(lambda _e: self._next_speed())
        self.play = pn.widgets.Toggle(width=84, css_classes=["replay-play"], stylesheets=[BAR_CSS])
        self.play.param.watch(self._on_play, "value")
        self.back = pn.widgets.Button(width=72, css_classes=["replay-back"], stylesheets=[BAR_CSS])
        self.back.on_click(lambda _e: self.go(self._now() - STEP_S))
        self.fwd = pn.widgets.Button(width=72, css_classes=["replay-fwd"], stylesheets=[BAR_CSS])
        self.fwd.on_click(lambda _e: self.go(self._now() + STEP_S))
        self.live = pn.widgets.Button(
            width=96, color="success", css_classes=["replay-live"], stylesheets=[BAR_CSS]
        )
        self.live.on_click(lambda _e: self.back_to_live())
        self.layout = pn.Row(
            self.back, self.play, self.fwd, self.speed, self.slider, self.live,
            sizing_mode="stretch_width", height=42,
        )

    def _next_speed(self) -> None:
        self.speed_x = SPEEDS[(SPEEDS.index(self.speed_x) + 1) % len(SPEEDS)]
        self.speed.label = f"×{self.speed_x}"

    def set_lang(self, lang: str) -> None:
        """Label the buttons in `lang`."""
        self.lang = lang
        self.play.label = t("replay_pause" if self.play.value else "replay_play", lang)
        self.back.label = t("replay_back", lang)
        self.fwd.label = t("replay_fwd", lang)
        self.live.label = t("back_to_live", lang)

    # -- the history's span ---------------------------------------------------------------------
    def update_span(self, force: bool = False) -> None:
        """Re-read the oldest/newest stored time (at most every `SPAN_EVERY_S`); live pins the slider end."""
        if self.history_dir is None or (not force and time.monotonic() - self._span_read < SPAN_EVERY_S):
            return
        self._span_read = time.monotonic()
        span = history_span(self.history_dir)
        if span is None:
            return
        lo, hi = _epoch(span[0]), max(_epoch(span[1]), _epoch(span[0]) + 1)
        self.slider.param.update(start=lo, end=hi, disabled=False)
        if self.at is None:
            self.slider.value = hi

    def _now(self) -> int:
        return _epoch(self.at) if self.at is not None else int(self.slider.value or self.slider.end)

    # -- moving the time ------------------------------------------------------------------------
    def go(self, epoch_s: int) -> None:
        """Replay at `epoch_s` (clamped to the stored span) and redraw."""
        if self.history_dir is None:
            return
        if self.slider.disabled:
            self.update_span(force=True)
            if self.slider.disabled:
                return
        epoch_s = min(max(int(epoch_s), self.slider.start), self.slider.end)
        self.at = _utc(epoch_s)
        self.version += 1
        self.slider.value = epoch_s
        self.on_change()

    def _on_slide(self, event: Any) -> None:
        # the browser echoes a value set from Python; only a real move is a new replay time
        if event.new is not None and (self.at is None or int(event.new) != _epoch(self.at)):
            self.go(int(event.new))

    def _on_play(self, event: Any) -> None:
        self.play.label = t("replay_pause" if event.new else "replay_play", self.lang)
        if event.new and self.at is None:
            self.go(self._now() - 3600)  # play from an hour back: playing from "now" shows nothing new

    def tick(self, elapsed_s: float) -> None:
        """Advance a playing replay by `elapsed_s` wall seconds × speed; stops at the newest stored time."""
        if not self.play.value or self.at is None:
            return
        target = _epoch(self.at) + round(elapsed_s * self.speed_x)
        self.update_span()
        if target >= self.slider.end:
            self.play.value = False
        self.go(target)

    def back_to_live(self) -> None:
        """Leave the replay: the desk shows the stream again."""
        self.play.value = False
        self.at = None
        self._state = None
        self._state_at = None
        self.snapshot = None
        self.version += 1
        self.update_span(force=True)
        self.on_change()

    # -- the replayed state ---------------------------------------------------------------------
    @property
    def note_key(self) -> str:
        """The i18n key of the note saying what the replay shows (whole twin, or positions only)."""
        return "replay_note" if self.snapshot is None else "replay_note_engine"

    def _session(self) -> ReplaySession:
        if self.session is None:
            from feeds.live import real_engine_factory

            assert self.history_dir is not None
            port = self.port
            if port is None:
                from geodata import load_port

                port = load_port()
            self.session = ReplaySession(self.history_dir, real_engine_factory(port))
        return self.session

    def state(self, live: OpsState) -> OpsState:
        """The port at `at` from the history store: the replay engine's snapshot, or positions only
        where no checkpoint covers `at`; `live` when not replaying."""
        if self.at is None or self.history_dir is None:
            return live
        if self._state is not None and self._state_at == self.at:
            return self._state
        session = self._session()
        self.snapshot = session.snapshot_at(self.at)
        if self.snapshot is not None:
            events = tuple(session.recent_events(MAX_EVENTS))
            self._state = state_of_snapshot(self.snapshot, -self.version, events, session.zone_since())
        else:
            self._state = self._positions_state(live)
        self._state_at = self.at
        return self._state

    def _positions_state(self, live: OpsState) -> OpsState:
        assert self.at is not None and self.history_dir is not None
        frame = positions_at(self.history_dir, self.at, self.index)
        vessels = {
            int(row["mmsi"]): {
                **row,
                "ts_utc": None,
                "last_seen_utc": row["ts_utc"].isoformat().replace("+00:00", "Z"),
                "phase": None,
            }
            for row in frame.iter_rows(named=True)
        }
        return OpsState(
            version=-self.version,
            ts_utc=self.at.isoformat().replace("+00:00", "Z"),
            vessels=MappingProxyType(vessels),
            events=tuple(e for e in live.events if _before(e.get("ts_utc"), self.at)),
        )


def state_of_snapshot(
    snapshot: dict[str, Any],
    version: int,
    events: tuple[dict[str, Any], ...] | None = None,
    zone_since: Mapping[int, str | None] | None = None,
) -> OpsState:
    """An `OpsState` from one protocol v1 snapshot, merged as `OpsStore` merges a snapshot message;
    `events` (oldest first) replaces the snapshot's latest ones when given. `zone_since` (MMSI →
    ISO time of the first report in the current zone, from the replay engine) makes "time in zone"
    exact; without it a ship counts as there since the snapshot's time, marked as a lower bound."""
    vessels: dict[int, dict[str, Any]] = {}
    entry: dict[int, ZoneEntry] = {}
    columns = snapshot["vessels"]["columns"]
    for row in snapshot["vessels"]["rows"]:
        rec = dict(zip(columns, row, strict=False))
        mmsi = int(rec["mmsi"])
        vessels[mmsi] = rec
        since = (zone_since or {}).get(mmsi) or rec.get("zone_since_utc")
        entry[mmsi] = ZoneEntry(
            rec.get("zone_id"), str(since or snapshot.get("ts_utc")), exact=since is not None
        )
    return OpsState(
        version=version,
        seq=snapshot.get("seq"),
        ts_utc=snapshot.get("ts_utc"),
        vessels=MappingProxyType(vessels),
        zone_entry=MappingProxyType(entry),
        berths=MappingProxyType({str(b["id"]): dict(b) for b in snapshot.get("berths") or []}),
        anchorages=MappingProxyType({str(a["id"]): dict(a) for a in snapshot.get("anchorages") or []}),
        gates=MappingProxyType({str(g["id"]): dict(g) for g in snapshot.get("gates") or []}),
        events=events if events is not None else tuple(snapshot.get("events") or []),
        alerts=MappingProxyType({str(a["id"]): dict(a) for a in snapshot.get("alerts") or []}),
        feeds=MappingProxyType(dict(snapshot.get("feeds") or {})),
    )
