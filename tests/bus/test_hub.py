"""The hub's coalescing, with a connection whose sends block until released."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from feeds.bus import Hub, IngestBatch, envelope


class StuckConnection:
    """Stands for a client socket: `send` blocks while `open` is clear; sent texts are kept."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.sent: list[dict[str, Any]] = []

    async def send(self, text: str) -> None:
        await self.open.wait()
        self.sent.append(json.loads(text))

    def __aiter__(self) -> StuckConnection:
        return self

    async def __anext__(self) -> str:
        await asyncio.Event().wait()  # the client never sends anything
        raise StopAsyncIteration


class Core:
    """The part of LiveCore the hub uses: snapshots at the current applied seq."""

    def __init__(self) -> None:
        self.applied = 0

    def clock(self) -> datetime:
        return datetime(2026, 11, 28, tzinfo=UTC)

    async def snapshot_message(self) -> tuple[int, str]:
        return self.applied, json.dumps({"applied": self.applied, "state": "all"})

    async def submit_ingest(self, batch: IngestBatch) -> asyncio.Future[int]:
        raise NotImplementedError

    def health(self) -> dict[str, Any]:
        return {}

    async def state_hash(self) -> str:
        return ""

    def count_ingest_error(self, rule: str) -> None:
        return None

    def note_timing(self, stage: str, seconds: float) -> None:
        return None


def test_a_full_outbox_drops_its_deltas_and_sends_one_fresh_snapshot_when_it_drains() -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], Hub]:
        core = Core()
        hub = Hub(core, outbox_messages=4)
        slow, fast = StuckConnection(), StuckConnection()
        fast.open.set()
        tasks = [asyncio.create_task(hub.serve_client(slow)),  # type: ignore[arg-type]
                 asyncio.create_task(hub.serve_client(fast))]  # type: ignore[arg-type]
        await asyncio.sleep(0.01)  # both are sending their first snapshot; the slow one blocks
        for applied in range(1, 21):
            core.applied = applied
            hub.publish(applied, json.dumps({"applied": applied}))
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        slow.open.set()  # the slow client drains
        await asyncio.sleep(0.01)
        core.applied = 21
        hub.publish(21, json.dumps({"applied": 21}))
        await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        return slow.sent, fast.sent, hub

    slow, fast, hub = asyncio.run(scenario())
    # the fast client got everything, in order, never waiting for the slow one
    assert [m["type"] for m in fast] == ["snapshot"] + ["delta"] * 21
    assert [m["applied"] for m in fast[1:]] == list(range(1, 22))
    # the slow one: its first snapshot, then (outbox overflowed) one fresh snapshot, then live deltas
    assert [m["type"] for m in slow] == ["snapshot", "snapshot", "delta"]
    assert slow[1]["applied"] == 20 and slow[2]["applied"] == 21
    assert [m["seq"] for m in slow] == [0, 1, 2] and [m["seq"] for m in fast] == list(range(22))
    assert hub.coalesced == 1


def test_envelope_prefixes_the_protocol_keys_without_reencoding() -> None:
    assert json.loads(envelope("delta", 7, '{"a":1}')) == {"v": 1, "type": "delta", "seq": 7, "a": 1}
    assert json.loads(envelope("snapshot", 0, "{}")) == {"v": 1, "type": "snapshot", "seq": 0}
