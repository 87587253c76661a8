"""The real pipeline: Zhanjiang simulation → journal → twin.engine.Engine → /stream, stopped and
resumed from its journal directory."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bus_clients import open_stream

from feeds.journal import Journal

pytest.importorskip("feeds.simulate")


def _stream_for(url: str, seconds: float) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        stream = await open_stream(url)
        messages: list[dict[str, Any]] = []
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            messages.append(json.loads(await asyncio.wait_for(stream.recv(), 5)))
        await stream.close()
        return messages

    return asyncio.run(read())


def test_the_simulated_port_streams_and_resumes_from_its_journal(tmp_path: Path) -> None:
    from feeds.live import start_live
    from feeds.simulate import SimConfig
    from geodata import load_port
    from twin.engine import Engine, EngineConfig

    port = load_port()
    sim = SimConfig(seed=7, start_utc=datetime(2026, 11, 28, tzinfo=UTC), hours=1.0, warmup_h=12.0)
    journal_dir = tmp_path / "journal"
    handle = start_live(port, simulate=sim, speed=120.0, ws_port=0, journal_dir=journal_dir,
                        history_dir=tmp_path / "history", token=None)
    try:
        messages = _stream_for(handle.url, 3.0)
        first = handle.health()
    finally:
        handle.stop()
    assert messages[0]["type"] == "snapshot"
    assert [m["seq"] for m in messages] == list(range(len(messages)))
    assert len(messages) >= 4, "deltas at >= 1 Hz"
    assert {"vessels", "berths", "kpis", "feeds"} <= set(messages[-1])
    assert first["feeds"]["ais"]["stale"] is False and first["counters"]["engine_errors"] == 0

    # the snapshot written at the clean stop equals a full replay of the journal
    journal = Journal(journal_dir)
    snapshot = journal.latest_snapshot()
    assert snapshot is not None and snapshot[0] == journal.last_seq
    replayed = Engine(port, EngineConfig())
    records = list(journal.records())
    assert records[0].seq == 1, "one segment: nothing pruned yet"
    for record in records:
        replayed.apply(record.frames, record.now)
    assert Engine.from_snapshot(port, snapshot[1]).state_hash() == replayed.state_hash()
    stopped_at = records[-1].now
    journal.close()

    # restarted on the same journal: the state is restored and the simulation carries on after it
    handle = start_live(port, simulate=sim, speed=120.0, ws_port=0, journal_dir=journal_dir, token=None)
    try:
        resumed = _stream_for(handle.url, 1.5)
        second = handle.health()
    finally:
        handle.stop()
    assert second["engine"]["replayed_on_start"] == 0  # the stop snapshot covered everything
    assert second["engine"]["seq"] > snapshot[0]
    assert resumed[0]["applied"] >= snapshot[0]
    times = [r.now for r in Journal(journal_dir).records(after=snapshot[0])]
    assert times and min(times) > stopped_at and times == sorted(times)
