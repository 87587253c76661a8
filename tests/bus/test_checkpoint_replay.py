"""Replay from checkpoints: the real simulator → journal → engine (with alert rules) path runs for
three simulated hours at ×600; the engine's own snapshots recorded at several engine times equal
what `feeds.replay.ReplaySession` rebuilds from the history directory alone (checkpoint + stored
inputs), phases, alerts (states, acknowledgement) and KPIs included. Torn checkpoints are skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from feeds.replay import (
    CheckpointError,
    ReplaySession,
    list_checkpoints,
    newest_checkpoint,
    read_checkpoint,
    write_checkpoint,
)

pytest.importorskip("feeds.simulate")

START = datetime(2026, 11, 28, tzinfo=UTC)
RECORD_EVERY_S = 25 * 60  # not a multiple of the 15-min checkpoints: most times need stored inputs
# Thresholds low enough that three simulated hours raise, escalate and clear alerts of rules with
# memory (dwell timers, truck visits, over-speed since): the checkpoints must carry that memory.
RULES = """
[defaults]
escalate_after_min = 10.0

[rules.channel_speed]
kind = "channel_speed"
priority = "warning"
limit_kn = 9.0
clear_margin_kn = 0.5
min_duration_s = 60.0

[rules.anchor_wait]
kind = "anchor_wait"
priority = "caution"
hours_by_class = { default = 0.25 }

[rules.busy_anchorage]
kind = "restricted_zone"
priority = "warning"
areas = ["ANC-IN-1", "ANC-IN-2", "ANC-OUT-LS"]
except_classes = []
min_dwell_s = 600.0
clear_after_s = 300.0

[rules.gate_queue]
kind = "gate_queue"
priority = "warning"
queue_max = 2.0
clear_margin = 1.0

[rules.truck_turn_time]
kind = "truck_turn_time"
priority = "caution"
turn_time_max_min = 20.0
window_min = 60.0
min_turns = 2
clear_margin_min = 2.0

[rules.feed_stale]
kind = "feed_stale"
priority = "warning"
feeds = ["ais", "gate", "customs", "tide"]
startup_grace_s = 600.0
"""


class Recorder:
    """Wraps the live engine: after the first batch at or after each `RECORD_EVERY_S` of engine
    time, keeps the engine's own snapshot (as JSON text, as a client would receive it)."""

    def __init__(self, inner: Any, recorded: dict[datetime, dict[str, Any]]) -> None:
        self.inner = inner
        self.recorded = recorded
        self.next_s: float | None = None

    def apply(self, frames: dict[str, pl.DataFrame], now: datetime) -> Any:
        delta = self.inner.apply(frames, now)
        t = now.timestamp()
        # a later record at the same engine time (an acknowledgement) replaces it: the port "at t"
        # is the state after every record stamped t
        if (self.next_s is not None and t >= self.next_s) or now in self.recorded:
            self.recorded[now] = json.loads(json.dumps(self.inner.snapshot(now)))
        if self.next_s is None or t >= self.next_s:
            self.next_s = (t // RECORD_EVERY_S + 1) * RECORD_EVERY_S
        return delta

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _open(snapshot: dict[str, Any]) -> dict[str, str]:
    return {a["id"]: a["state"] for a in snapshot["alerts"]}


def _phases(snapshot: dict[str, Any]) -> dict[int, str]:
    cols = snapshot["vessels"]["columns"]
    return {r[cols.index("mmsi")]: r[cols.index("phase")] for r in snapshot["vessels"]["rows"]}


def _acknowledge(handle: Any, alert_id: str) -> datetime:
    """Journal an `alert_ack` as the bus's /ingest does (feeds.control); returns its twin time."""
    twin = handle.twin
    now = twin.clock()
    row = pl.DataFrame(
        {"ts_utc": [now], "alert_id": [alert_id], "by": ["VTS-2"], "note": ["called on VHF 09"]}
    )
    future = asyncio.run_coroutine_threadsafe(
        twin.submit({"alert_ack": row}, now, {"src": "ingest", "feed": "control"}), handle._loop
    )
    future.result(timeout=30)
    return now


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three simulated hours of the real live path at ×600, one acknowledgement on the way."""
    from feeds.live import real_engine_factory, start_live
    from feeds.simulate import SimConfig
    from geodata import load_port

    tmp = tmp_path_factory.mktemp("ckpt")
    (tmp / "rules.toml").write_text(RULES, encoding="utf-8")
    port = load_port()
    factory = real_engine_factory(port, tmp / "rules.toml")
    recorded: dict[datetime, dict[str, Any]] = {}
    sim = SimConfig(seed=7, start_utc=START, hours=3.0, warmup_h=12.0)
    handle = start_live(port, simulate=sim, speed=600.0, ws_port=0, journal_dir=tmp / "journal",
                        history_dir=tmp / "history", token=None,
                        make_engine=lambda blob: Recorder(factory(blob), recorded))
    acked: tuple[str, datetime] | None = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(0.5)
            latest = recorded[max(recorded)] if recorded else None
            if acked is None and latest is not None:
                raised = sorted(aid for aid, state in _open(latest).items() if state == "raised")
                if raised:
                    acked = (raised[0], _acknowledge(handle, raised[0]))
            now_utc = handle.health()["now_utc"]  # the clock of the last applied batch
            if now_utc and datetime.fromisoformat(now_utc) >= START + timedelta(minutes=177):
                break
        recorder = handle.twin.engine
        assert isinstance(recorder, Recorder)
        engine = recorder.inner
        health = handle.health()
    finally:
        handle.stop()
    return {"history": tmp / "history", "recorded": recorded, "acked": acked, "factory": factory,
            "engine": engine, "health": health, "port": port}


def test_replayed_snapshots_equal_the_live_engines_at_the_same_engine_times(run: dict[str, Any]) -> None:
    recorded: dict[datetime, dict[str, Any]] = run["recorded"]
    assert run["health"]["counters"]["engine_errors"] == 0
    assert run["health"]["counters"].get("checkpoint_errors", 0) == 0
    assert len(recorded) >= 5, sorted(recorded)
    checkpoints = list_checkpoints(run["history"])
    assert len(checkpoints) >= 10  # one at the start, then one per 15 engine-minutes
    # each at the first batch (120 s apart at ×600) at or after its 15-min boundary of engine time
    slots = [int(c.now_utc.timestamp()) // 900 for c in checkpoints]
    assert slots == sorted(set(slots))
    assert all(c.now_utc.timestamp() % 900 < 120 for c in checkpoints)
    assert any(s["alerts"] for s in recorded.values()), "the test rules raised no alert"

    session = ReplaySession(run["history"], run["factory"])
    incremental = 0
    for at in sorted(recorded):  # forward, as play does
        live = recorded[at]
        replayed = json.loads(json.dumps(session.snapshot_at(at)))
        incremental += session.applied
        assert _phases(replayed) == _phases(live), at
        assert _open(replayed) == _open(live), at
        assert {k: v["value"] for k, v in replayed["kpis"].items()} == {
            k: v["value"] for k, v in live["kpis"].items()
        }, at
        # nothing else differs either: feed staleness in the engine's snapshot is by engine time
        # (the wall-clock ages are only in the live process's /health)
        assert replayed == live, at
    assert incremental > 0, "no time needed stored inputs after its checkpoint"

    # a step back rebuilds from an older checkpoint and still gives the live snapshot
    first = min(recorded)
    before = session.restored_from
    assert json.loads(json.dumps(session.snapshot_at(first))) == recorded[first]
    assert session.restored_from is not None and session.restored_from != before
    assert session.restored_from.now_utc <= first


def test_stepping_back_a_minute_replays_from_the_sessions_memory_and_equals_a_fresh_replay(
    run: dict[str, Any]
) -> None:
    end = max(run["recorded"])
    session = ReplaySession(run["history"], run["factory"])
    assert session.snapshot_at(end) is not None
    disk = session.restored_from
    assert disk is not None and disk.path is not None and end - disk.now_utc > timedelta(minutes=5)
    # the session kept a state every engine minute while it advanced: a minute back restores one of
    # those (at most a minute and a 120-s batch before), not the stored checkpoint
    for back in (1, 2, 3):
        at = end - timedelta(minutes=back)
        stepped = json.loads(json.dumps(session.snapshot_at(at)))
        restored = session.restored_from
        assert restored is not None and restored.path is None, back
        assert timedelta(0) <= at - restored.now_utc <= timedelta(minutes=3)
        fresh = ReplaySession(run["history"], run["factory"]).snapshot_at(at)
        assert stepped == json.loads(json.dumps(fresh)), back


def test_time_in_zone_at_a_replayed_time_counts_from_the_first_stored_report_in_the_zone(
    run: dict[str, Any]
) -> None:
    from feeds.store import read_history
    from twin.zones import ZoneIndex

    at = sorted(run["recorded"])[-2]
    session = ReplaySession(run["history"], run["factory"])
    assert session.snapshot_at(at) is not None
    since = session.zone_since()
    engine: Any = session.engine
    stored = read_history(run["history"], "ais_position", end=at + timedelta(microseconds=1)).collect()
    stored = stored.with_columns(ZoneIndex(run["port"]).locate(stored["lon"], stored["lat"])["zone_id"])
    checked = 0
    for mmsi, v in engine.vessels.items():
        if v.outliers or v.ts_us is None:
            continue  # a held jump is not in the engine's track; the store has it
        rows = stored.filter(pl.col("mmsi") == mmsi).sort("ts_utc", maintain_order=True)
        zones = rows["zone_id"].to_list()
        k = len(zones) - 1
        while k > 0 and zones[k - 1] == zones[-1]:
            k -= 1
        assert zones[-1] == v.zone_id, mmsi
        got = since[mmsi]
        assert got is not None and datetime.fromisoformat(got) == rows["ts_utc"][k], mmsi
        checked += 1
    assert checked >= 10


def test_an_acknowledgement_is_replayed_with_who_and_when(run: dict[str, Any]) -> None:
    assert run["acked"] is not None, "no alert was open to acknowledge"
    alert_id, when = run["acked"]
    session = ReplaySession(run["history"], run["factory"])
    later = [at for at in sorted(run["recorded"]) if at > when + timedelta(minutes=1)]
    live_after = next(
        (run["recorded"][at] for at in later if alert_id in _open(run["recorded"][at])), None
    )
    end = max(run["recorded"])
    replayed = session.snapshot_at(end)
    assert replayed is not None
    alert = next(a for a in replayed["alerts"] if a["id"] == alert_id)
    assert alert["acknowledged_by"] == "VTS-2" and alert["note"] == "called on VHF 09"
    if live_after is not None:
        live_alert = next(a for a in live_after["alerts"] if a["id"] == alert_id)
        assert live_alert["acknowledged_by"] == "VTS-2"
    # before the acknowledgement the replay shows it unacknowledged
    earlier = session.snapshot_at(when - timedelta(seconds=1))
    assert earlier is not None
    before = next((a for a in earlier["alerts"] if a["id"] == alert_id), None)
    assert before is not None and before["acknowledged_by"] is None


def test_the_alert_state_survives_a_snapshot_round_trip(run: dict[str, Any]) -> None:
    from twin.alert_rules import load_rules
    from twin.alerts import AlertEngine, AlertingEngine

    engine = run["engine"]
    blob = engine.to_snapshot_bytes()
    rules = load_rules(run["history"].parent / "rules.toml")
    restored = AlertingEngine.from_snapshot(run["port"], blob, AlertEngine(run["port"], rules))
    assert restored.alert_engine.state_dict() == json.loads(json.dumps(engine.alert_engine.state_dict()))
    assert restored.to_snapshot_bytes() == blob
    assert restored.state_hash() == engine.state_hash()


def test_a_torn_checkpoint_is_skipped_with_a_warning_and_the_older_one_used(
    run: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    history = run["history"]
    at = sorted(run["recorded"])[2]
    good = newest_checkpoint(history, at)
    assert good is not None
    newest, payload = good
    older = list_checkpoints(history, newest.now_utc - timedelta(seconds=1))[-1]
    # a torn copy of the newest one (as a crash mid-write without the atomic rename would leave)
    torn = tmp_path / "history"
    import shutil

    shutil.copytree(history, torn)
    assert newest.path is not None
    victim = torn / newest.path.relative_to(history)
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="torn"):
        read_checkpoint(victim)
    with caplog.at_level(logging.WARNING, logger="feeds.replay"):
        found = newest_checkpoint(torn, at)
    assert found is not None and found[0].seq == older.seq
    assert any("skipping checkpoint" in r.message and "torn" in r.message for r in caplog.records)
    # and the replay from the older checkpoint still equals the live snapshot
    session = ReplaySession(torn, run["factory"])
    assert json.loads(json.dumps(session.snapshot_at(at))) == run["recorded"][at]
    assert session.restored_from is not None and session.restored_from.seq == older.seq
    assert payload  # the intact original was loadable


def test_checkpoint_files_are_atomic_and_checked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    t = datetime(2026, 11, 28, 1, 15, tzinfo=UTC)
    first = write_checkpoint(tmp_path, b'{"a":1}', t, 10)
    second = write_checkpoint(tmp_path, b'{"a":2}', t + timedelta(minutes=15), 20)
    # a writer that died before its rename leaves only a hidden temporary file: never listed
    (second.parent / f".{second.name}.dead.tmp").write_bytes(b"half")
    assert [c.seq for c in list_checkpoints(tmp_path)] == [10, 20]
    assert [c.seq for c in list_checkpoints(tmp_path, t + timedelta(minutes=10))] == [10]
    assert read_checkpoint(first) == b'{"a":1}'
    # same length, one byte altered: the SHA-256 catches it
    data = second.read_bytes()
    second.write_bytes(data[:-2] + b"3}")
    with caplog.at_level(logging.WARNING, logger="feeds.replay"):
        found = newest_checkpoint(tmp_path, t + timedelta(hours=1))
    assert found is not None and found[0].seq == 10
    assert any("SHA-256" in r.message for r in caplog.records)
    second.write_bytes(b"not json\n{}")
    with pytest.raises(CheckpointError, match="header"):
        read_checkpoint(second)
    with pytest.raises(ValueError, match="timezone-aware"):
        write_checkpoint(tmp_path, b"{}", datetime(2026, 11, 28), 1)  # naive on purpose
