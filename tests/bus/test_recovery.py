"""Crash recovery: `kill -9` the live process mid-ingest, restart it from its journal directory,
and compare its state with an uninterrupted run over the same acknowledged inputs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bus_clients import TOKEN, ingest_message, open_ingest, position_rows
from bus_fakes import FakeEngine
from websockets.exceptions import ConnectionClosed

from feeds.bus import rows_to_frame

ROOT = Path(__file__).parents[2]
ROWS_PER_BATCH = 40


def _batch_rows(batch: int) -> list[dict[str, Any]]:
    # vessels move and new ones appear, so every batch changes the state
    return position_rows(batch, ROWS_PER_BATCH, base_mmsi=412000000 + (batch % 5) * 1000)


def _start(config: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TWIN_INGEST_TOKEN": TOKEN,
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)])}
    process = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "listening on" in line:
            return process, line.split("listening on ", 1)[1].split()[0]
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"twin serve did not start: {process.stdout.read()}")


def _health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.replace("ws://", "http://") + "/health?hash=1", timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


async def _ingest_until_killed(url: str, process: subprocess.Popen[str], kill_after_acks: int,
                               min_seconds: float = 1.0, pace_s: float = 0.0) -> list[int]:
    """Send batches back to back; `kill -9` the server once `kill_after_acks` acks came back and
    `min_seconds` passed (so that a snapshot was taken: recovery is snapshot + replay)."""
    ingest = await open_ingest(url, TOKEN)
    acks: list[int] = []

    async def send() -> None:
        batch = 0
        try:
            while True:
                message = json.dumps({"v": 1, "kind": "ais_position", "rows": _batch_rows(batch)})
                await ingest.send(message)
                batch += 1
                await asyncio.sleep(pace_s)
        except ConnectionClosed:
            return

    sender = asyncio.create_task(send())
    started = time.monotonic()
    killed = False
    try:
        while True:
            reply = json.loads(await ingest.recv())
            acks.append(reply["ack"])
            if not killed and len(acks) >= kill_after_acks and time.monotonic() - started >= min_seconds:
                os.kill(process.pid, signal.SIGKILL)  # mid-ingest: more batches are in flight
                killed = True
    except ConnectionClosed:
        pass
    await sender
    return acks


def test_kill_9_mid_ingest_loses_nothing_acknowledged(tmp_path: Path) -> None:
    config = tmp_path / "twin.toml"
    config.write_text(
        "[live]\n"
        f'journal_dir = "{tmp_path / "journal"}"\n'
        f'history_dir = "{tmp_path / "history"}"\n'
        "snapshot_every_s = 0.3\n"
        "history_flush_s = 0.3\n"
        "tick_s = 0\n"  # batch i is journal record i + 1
        'engine = "bus_fakes:make_engine"\n'
    )
    first, url = _start(config)
    try:
        acks = asyncio.run(_ingest_until_killed(url, first, kill_after_acks=150))
    finally:
        first.kill()
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    assert acks == list(range(1, len(acks) + 1)) and len(acks) >= 150
    assert any((tmp_path / "journal").glob("snap-*.snap")), "a snapshot was taken before the kill"

    second, url = _start(config)
    try:
        health = _health(url)
        # the restarted twin keeps taking input after the recovery
        async def one_more() -> int:
            ingest = await open_ingest(url, TOKEN)
            await ingest.send(ingest_message(10_000, 1))
            reply: dict[str, Any] = json.loads(await ingest.recv())
            await ingest.close()
            return int(reply["ack"])

        next_ack = asyncio.run(one_more())
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    recovered = health["engine"]["seq"]
    assert recovered >= acks[-1], "an acknowledged batch was lost"
    assert next_ack == recovered + 1
    assert health["engine"]["snapshot_seq"] > 0 and health["engine"]["replayed_on_start"] < recovered

    # the uninterrupted run: the same first `recovered` batches, applied in one go
    reference = FakeEngine()
    for batch in range(recovered):
        frame, rejected = rows_to_frame("ais_position", _batch_rows(batch))
        assert rejected.is_empty()
        reference.apply({"ais_position": frame}, now=frame["ts_utc"].max())
    assert health["engine"]["state_hash"] == reference.state_hash()
    assert second.returncode == 0


def test_kill_9_with_the_real_engine_recovers_the_state_of_a_full_replay(tmp_path: Path) -> None:
    """Same crash with `twin.engine.Engine`: snapshot + replay after restart == a fresh engine that
    replays the whole journal, and the journal holds exactly the batches sent, in order."""
    from feeds.journal import Journal
    from geodata import load_port
    from twin.engine import Engine, EngineConfig

    config = tmp_path / "twin.toml"
    config.write_text(
        "[live]\n"
        f'journal_dir = "{tmp_path / "journal"}"\n'
        "snapshot_every_s = 0.3\n"
        "tick_s = 0\n"
        'engine = "twin"\n'
    )
    first, url = _start(config)
    try:
        acks = asyncio.run(_ingest_until_killed(url, first, kill_after_acks=30, pace_s=0.02))
    finally:
        first.kill()
        first.wait(10)
    second, url = _start(config)
    try:
        health = _health(url)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    recovered = health["engine"]["seq"]
    assert recovered >= acks[-1] and health["engine"]["snapshot_seq"] > 0

    journal = Journal(tmp_path / "journal")
    records = [r for r in journal.records() if r.seq <= recovered]
    assert [r.seq for r in records] == list(range(1, recovered + 1))
    reference = Engine(load_port(), EngineConfig())
    for index, record in enumerate(records):
        frame, _ = rows_to_frame("ais_position", _batch_rows(index))
        assert record.frames["ais_position"].equals(frame)
        reference.apply(record.frames, record.now)
    assert health["engine"]["state_hash"] == reference.state_hash()
