"""Live bus benchmark: AIS through `/ingest` to engine state and out on `/stream`, against the
same batches applied directly in-process.

Setup: 300 vessels moving in Zhanjiang Bay report AIS type-1 positions (pyais-encoded payloads,
each sent with an NMEA 4 tag block carrying the send time). A gateway sends one batch every
100 ms (the rate's lines per batch) over one `/ingest` connection without waiting for acks
(pipelined; replies are matched by their `ack`). A `/stream` client on the same machine records
when each batch becomes visible, i.e. the first message whose `applied` >= the batch's `ack`.

The server is a real `twin serve` subprocess (real `twin.engine.Engine` on the bundled port
model, journal fsync per acknowledged batch group, history store flushing) so that server and
clients do not share one GIL; the two cores are shared by server and bench clients.

Rates: Zhanjiang's real AIS rate is taken as 10 msg/s (DESIGN.md); runs at 10x, 100x and 1000x
for `SECONDS` each, offered open-loop, then one closed-loop run with 16 batches of 1,000 lines in
flight to find the saturation rate.

Baseline (same run, same batches): `parse_nmea_lines` + `Engine.apply` + `delta.to_message()` +
`json.dumps`, in-process on one thread: no websocket, no journal, no fsync.

Figures: lines/s sustained (acked and visible on the stream), ingest→stream latency p50/p99.
Run: `python -m bench bus` (about 1.5 min). Results go in bench/bus.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL_RATE = 10.0             # Zhanjiang AIS msg/s (DESIGN.md "Scale beyond one machine")
MULTIPLIERS = (10, 100, 1000)
SECONDS = 8.0                # per rate
TICK_S = 0.1                 # one batch every 100 ms
VESSELS = 300
TOKEN = "bench-token-0123456789abcdef0123"


def _checksum(text: str) -> str:
    return f"{reduce(lambda acc, ch: acc ^ ord(ch), text, 0):02X}"


def _payload_pool(count: int = 6000, seed: int = 1) -> list[str]:
    """`count` AIVDM sentences of `VESSELS` vessels moving around the bay (no tag block)."""
    from pyais.encode import encode_dict

    rng = np.random.default_rng(seed)
    lon = rng.uniform(110.35, 110.60, VESSELS)
    lat = rng.uniform(20.95, 21.25, VESSELS)
    cog = rng.uniform(0, 360, VESSELS)
    sog = rng.uniform(0, 12, VESSELS)
    pool: list[str] = []
    for i in range(count):
        v = i % VESSELS
        step = i // VESSELS
        rad = np.deg2rad(cog[v])
        x = lon[v] + step * 1e-4 * sog[v] * np.sin(rad)
        y = lat[v] + step * 1e-4 * sog[v] * np.cos(rad)
        pool.extend(encode_dict({"type": 1, "mmsi": 412100000 + v, "lon": round(float(x), 5),
                                 "lat": round(float(y), 5), "speed": round(float(sog[v]), 1),
                                 "course": round(float(cog[v]), 1), "heading": int(cog[v]) % 360,
                                 "status": 0}, radio_channel="A"))
    return pool


def _tagged(sentences: list[str], unix_s: int) -> list[str]:
    tag = f"s:zjbench,c:{unix_s}"
    prefix = f"\\{tag}*{_checksum(tag)}\\"
    return [prefix + s for s in sentences]


class Pool:
    """Hands out consecutive sentences of the pool (cycling), stamped with the current time."""

    def __init__(self, sentences: list[str]) -> None:
        self.sentences = sentences
        self.position = 0

    def take(self, count: int) -> list[str]:
        out = []
        for _ in range(count):
            out.append(self.sentences[self.position])
            self.position = (self.position + 1) % len(self.sentences)
        return _tagged(out, int(time.time()))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- baseline ------------------------------------------------------------------------------
def baseline(pool: Pool, lines_per_batch: int, batches: int) -> dict[str, float]:
    """Same batches through parse + apply + message + JSON in-process, back to back."""
    from feeds.ais import parse_nmea_lines
    from geodata import load_port
    from twin.engine import Engine, EngineConfig

    engine = Engine(load_port(), EngineConfig())
    prepared = [pool.take(lines_per_batch) for _ in range(batches)]
    times: list[float] = []
    started = time.perf_counter()
    for lines in prepared:
        t0 = time.perf_counter()
        now = datetime.now(UTC)
        result = parse_nmea_lines(lines, "bench", now)
        delta = engine.apply(dict(result.frames), now)
        json.dumps(delta.to_message())
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {"lines_per_s": lines_per_batch * batches / elapsed, "p50_ms": 1e3 * _pct(times, 0.5),
            "p99_ms": 1e3 * _pct(times, 0.99)}


# -- through the bus -----------------------------------------------------------------------
def _start_server(workdir: Path) -> tuple[subprocess.Popen[str], str]:
    config = workdir / "twin.toml"
    config.write_text(
        "[live]\n"
        f'journal_dir = "{workdir / "journal"}"\n'
        f'history_dir = "{workdir / "history"}"\n'
    )
    env = {**os.environ, "TWIN_INGEST_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
    )
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if "listening on" in line:
            return process, line.split("listening on ", 1)[1].split()[0]
        if not line:
            raise RuntimeError("twin serve did not start")


async def _run_rate(url: str, pool: Pool, lines_per_batch: int, seconds: float,
                    window: int | None) -> dict[str, float]:
    """Offer batches every TICK_S (window None) or keep `window` batches in flight; measure."""
    from websockets.asyncio.client import connect

    stream = await connect(f"{url}/stream", max_size=None)
    await stream.recv()  # the snapshot
    ingest = await connect(f"{url}/ingest", additional_headers={"Authorization": f"Bearer {TOKEN}"},
                           max_size=None)
    sent_at: list[float] = []          # by batch index
    ack_of: dict[int, int] = {}        # journal seq -> batch index
    visible: dict[int, float] = {}     # batch index -> time visible on the stream
    acked = 0
    done = asyncio.Event()
    in_flight = asyncio.Semaphore(window or 1_000_000)
    total_batches = int(seconds / TICK_S) if window is None else 10**9

    max_applied = 0

    async def read_acks() -> None:
        nonlocal acked
        index = 0
        while True:
            reply = json.loads(await ingest.recv())
            if reply["ack"] <= max_applied:
                visible[index] = time.perf_counter()  # the delta overtook the ack
            else:
                ack_of[reply["ack"]] = index
            index += 1
            acked += 1
            in_flight.release()

    async def read_stream() -> None:
        nonlocal max_applied
        while True:
            message = json.loads(await stream.recv())
            arrived = time.perf_counter()
            applied = message.get("applied", 0)
            max_applied = max(max_applied, applied)
            for seq in [s for s in ack_of if s <= applied]:
                visible.setdefault(ack_of.pop(seq), arrived)
            if done.is_set() and not ack_of and acked == len(sent_at):
                return

    readers = [asyncio.create_task(read_acks()), asyncio.create_task(read_stream())]
    started = time.perf_counter()
    batch = 0
    while batch < total_batches and time.perf_counter() - started < seconds:
        await in_flight.acquire()
        message = json.dumps({"v": 1, "kind": "nmea", "lines": pool.take(lines_per_batch)})
        sent_at.append(time.perf_counter())
        await ingest.send(message)
        batch += 1
        if window is None:
            due = started + batch * TICK_S
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
    done.set()
    with contextlib.suppress(TimeoutError):  # a batch never seen shows as visible < batches
        await asyncio.wait_for(readers[1], timeout=30)
    elapsed = max(visible.values(), default=time.perf_counter()) - started
    for task in readers:
        task.cancel()
    await ingest.close()
    await stream.close()
    latencies = [visible[i] - sent_at[i] for i in visible]
    return {"batches": len(sent_at), "visible": len(visible),
            "lines_per_s": len(visible) * lines_per_batch / elapsed,
            "p50_ms": 1e3 * _pct(latencies, 0.5), "p99_ms": 1e3 * _pct(latencies, 0.99),
            "mean_ms": 1e3 * statistics.fmean(latencies) if latencies else float("nan")}


def _server_timings(url: str) -> dict[str, dict[str, float]]:
    import urllib.request

    with urllib.request.urlopen(url.replace("ws://", "http://") + "/health", timeout=10) as response:
        timings: dict[str, dict[str, float]] = json.loads(response.read())["timings_ms"]
    return timings


def _bus_run(pool: Pool, lines_per_batch: int, window: int | None) -> tuple[dict[str, float], str]:
    """One run against a fresh `twin serve` (so its stage timings belong to this run only)."""
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
        process, url = _start_server(Path(tmp))
        try:
            result = asyncio.run(_run_rate(url, pool, lines_per_batch, SECONDS, window))
            stages = _server_timings(url)
        finally:
            process.terminate()
            process.wait(30)
    names = ("ingest_parse", "journal_append", "fsync", "journalled_to_apply", "apply")
    text = ", ".join(f"{name} {stages[name]['p50_ms']:.1f}/{stages[name]['p99_ms']:.1f}"
                     for name in names if name in stages)
    return result, text


def main() -> None:
    """Run every rate through the bus and the baseline; print a table for bench/bus.md."""
    print(f"building {VESSELS}-vessel AIS sentence pool ...", flush=True)
    pool = Pool(_payload_pool())
    rows: list[tuple[str, dict[str, Any], dict[str, float], str]] = []
    runs: list[tuple[str, int, int | None]] = [
        (f"{m}x ({REAL_RATE * m:,.0f} msg/s offered)", max(1, round(REAL_RATE * m * TICK_S)), None)
        for m in MULTIPLIERS
    ]
    runs.append(("saturation (1,000-line batches, 16 in flight)", 1000, 16))
    for name, per_batch, window in runs:
        bus, stages = _bus_run(pool, per_batch, window)
        base = baseline(pool, per_batch, 80)
        rows.append((name, bus, base, stages))
        print(f"{name}: bus {bus['lines_per_s']:,.0f} lines/s p50 {bus['p50_ms']:.1f} ms "
              f"p99 {bus['p99_ms']:.1f} ms ({bus['visible']}/{bus['batches']} batches) | in-process "
              f"{base['lines_per_s']:,.0f} lines/s p50 {base['p50_ms']:.1f} ms p99 {base['p99_ms']:.1f} ms",
              flush=True)
        print(f"    server stages p50/p99 ms: {stages}", flush=True)
    print("\n| run | bus lines/s | bus p50 ms | bus p99 ms | in-process lines/s | in-process p50 ms "
          "| in-process p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, bus, base, _stages in rows:
        print(f"| {name} | {bus['lines_per_s']:,.0f} | {bus['p50_ms']:.1f} | {bus['p99_ms']:.1f} | "
              f"{base['lines_per_s']:,.0f} | {base['p50_ms']:.1f} | {base['p99_ms']:.1f} |")

if __name__ == "__main__":
    main()
