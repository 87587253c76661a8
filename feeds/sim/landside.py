"""Land-side feeds of the simulation: truck gate events, customs declarations, tide-gauge readings.

All three derive from the planned calls, so their volumes follow the ships:

- gates: a container call exchanging `teu` TEU brings ≈ 0.35 truck visits per TEU to the Baoman
  terminal gates (GATE-BM-IN then GATE-BM-OUT 20–90 min later; about 60 % of boxes move by road
  and a truck carries 1–2 TEU; the rest goes by sea–rail, S19), spread over the 36 h before the
  ship berths to 12 h after it leaves, weighted by an hour-of-day profile of local time
  (Asia/Shanghai) with peaks 09–11 and 14–17 and a night trough. The bonded zone (GATE-FTZ-MAIN,
  GATE-FTZ-INNER) sees 0.12 visits per TEU. Outcome 96 % accepted, 3 % manual, 1 % rejected
  (a rejected truck does not come out).
- customs: declarations per call (containers one per ≈ 40 TEU, bulk/tankers 1–3, general 2–6)
  pass the WCO Time Release Study stages arrival → lodged → risk_assessed → [inspection_start →
  inspection_end] → released → exit, with channels green 80 %, yellow 15 %, red 5 %: green is
  released minutes after risk assessment, yellow after a document check of 1–6 h, red after a
  physical inspection (start 2–8 h after assessment, lasting 1–4 h). The channel is null until
  risk assessment decides it.
- tide: the harmonic prediction every 6 minutes plus a slow surge (±5 cm) and gauge noise
  (σ 2 cm), rounded to the centimetre.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import numpy as np
import polars as pl

from feeds.gate import iso6346_check_digit
from feeds.schema import CUSTOMS_EVENT, GATE_EVENT, TIDE_OBS, conform, empty
from feeds.sim.plan import Call
from twin.port import Port

# Relative truck arrivals per local hour 0..23 (Chinese container terminals run 24 h with a
# daytime peak; shape chosen, not measured).
HOUR_WEIGHT = np.array([0.25, 0.2, 0.15, 0.15, 0.2, 0.35, 0.6, 0.9, 1.2, 1.5, 1.5, 1.3, 0.9, 1.1, 1.4,
                        1.5, 1.5, 1.3, 1.0, 0.8, 0.7, 0.6, 0.45, 0.35])
OWNERS = ("COSU", "CSNU", "OOLU", "MSCU", "MAEU", "CMAU", "EGHU", "TGHU", "SITU", "ZJPU")
TIDE_STATION = "zhanjiang"
# (entry gate, exit gate) and truck visits per TEU exchanged by the call
GATE_RATES = ((("GATE-BM-IN", "GATE-BM-OUT"), 0.35), (("GATE-FTZ-MAIN", "GATE-FTZ-INNER"), 0.12))
LOCAL_OFFSET_S = 8 * 3600


def _us(t: np.ndarray | list[float]) -> pl.Series:
    return pl.Series(np.round(np.asarray(t, float) * 1e6).astype(np.int64)).cast(pl.Datetime("us", "UTC"))


def _container(rng: np.random.Generator) -> str:
    code = f"{rng.choice(OWNERS)}{int(rng.integers(0, 1_000_000)):06d}"
    return code + str(iso6346_check_digit(code))


def _hour_times(rng: np.random.Generator, n: int, t0: float, t1: float) -> np.ndarray:
    """`n` times in [t0, t1) with density ∝ HOUR_WEIGHT of the local hour (rejection sampling)."""
    out: list[np.ndarray] = []
    got = 0
    while got < n and t1 > t0:
        cand = rng.uniform(t0, t1, 2 * (n - got) + 8)
        hour = ((cand + LOCAL_OFFSET_S) // 3600 % 24).astype(int)
        keep = cand[rng.uniform(0, HOUR_WEIGHT.max(), cand.size) < HOUR_WEIGHT[hour]]
        out.append(keep[: n - got])
        got += len(out[-1])
    return np.sort(np.concatenate(out)) if out else np.zeros(0)


def gate_events(calls: list[Call], port: Port, rng: np.random.Generator, t0: float, t1: float
                ) -> pl.DataFrame:
    """Gate transactions in [t0, t1) from the container calls (canonical `gate_event` frame)."""
    rows: dict[str, list] = {k: [] for k in GATE_EVENT}
    rows["t"] = []
    visit_no = 0

    def add(t: float, gate: str, direction: str, visit: str, truck: str, boxes: list[str],
            outcome: str, proc: float) -> None:
        if t0 <= t < t1:
            rows["t"].append(t)
            rows["gate_id"].append(gate)
            rows["lane"].append(int(rng.integers(1, port.gates[gate].lanes + 1)))
            rows["direction"].append(direction)
            rows["visit_id"].append(visit)
            rows["truck_id"].append(truck)
            rows["container_ids"].append(boxes)
            rows["outcome"].append(outcome)
            rows["processing_s"].append(round(proc, 1))

    for call in calls:
        if not call.teu:
            continue
        fast = call.event_time("all_fast")
        dep = call.event_time("departure_from_berth")
        if fast is None or dep is None or dep + 12 * 3600 < t0 or fast - 36 * 3600 > t1:
            continue
        for gates, per_teu in GATE_RATES:
            if not all(g in port.gates for g in gates):
                continue
            n = int(rng.poisson(call.teu * per_teu))
            for t in _hour_times(rng, n, fast - 36 * 3600, dep + 12 * 3600):
                visit_no += 1
                visit = f"GV{call.call_id}-{visit_no:05d}"
                plate = f"粤G{int(rng.integers(10000, 99999))}"
                truck = hashlib.sha256(("zjsim-salt" + plate).encode()).hexdigest()[:16]
                u = rng.random()
                outcome = "accepted" if u < 0.96 else "manual" if u < 0.99 else "rejected"
                box_in = [_container(rng) for _ in range(int(rng.choice([0, 1, 1, 2])))]
                box_out = [_container(rng) for _ in range(int(rng.choice([0, 1, 1, 2])))]
                if gates[0] == "GATE-BM-IN":
                    g_in, g_out = gates
                else:  # bonded-zone gates take both directions: enter by one, leave by either
                    g_in = gates[int(rng.integers(0, 2))]
                    g_out = gates[int(rng.integers(0, 2))]
                add(t, g_in, "in", visit, truck, box_in, outcome,
                    float(rng.uniform(25, 90)) * (3 if outcome == "manual" else 1))
                if outcome != "rejected":
                    add(t + float(rng.uniform(20, 90)) * 60, g_out, "out", visit, truck, box_out, "accepted",
                        float(rng.uniform(15, 50)))
    if not rows["t"]:
        return empty(GATE_EVENT)
    t = rows.pop("t")
    rows["ts_utc"] = _us(t)  # type: ignore[assignment]
    frame = pl.DataFrame({k: rows[k] for k in GATE_EVENT}, strict=False)
    return conform(frame, GATE_EVENT).sort("ts_utc", "visit_id", "direction", maintain_order=True)


def customs_events(calls: list[Call], rng: np.random.Generator, t0: float, t1: float) -> pl.DataFrame:
    """Customs declaration stages in [t0, t1) for the calls (canonical `customs_event` frame)."""
    ts: list[float] = []
    decl: list[str] = []
    call_ids: list[str] = []
    stages: list[str] = []
    channels: list[str | None] = []
    seq = 0
    for call in calls:
        fast = call.event_time("all_fast")
        if fast is None or fast > t1 or fast + 4 * 86400 < t0:
            continue
        if call.teu:
            n = max(1, round(call.teu / 40))
        elif call.ship.ship_class == "general":
            n = int(rng.integers(2, 7))
        else:
            n = int(rng.integers(1, 4))
        for _ in range(n):
            seq += 1
            did = f"6716{datetime.fromtimestamp(fast, UTC):%Y%m%d}{seq:06d}"
            u = rng.random()
            channel = "green" if u < 0.80 else "yellow" if u < 0.95 else "red"
            t = fast + float(rng.uniform(0, 1800))
            steps: list[tuple[float, str, str | None]] = [(t, "arrival", None)]
            t += float(rng.uniform(0.2, 3.0)) * 3600
            steps.append((t, "lodged", None))
            t += float(rng.uniform(5, 30)) * 60
            steps.append((t, "risk_assessed", channel))
            if channel == "green":
                t += float(rng.uniform(5, 60)) * 60
            elif channel == "yellow":
                t += float(rng.uniform(1, 6)) * 3600
            else:
                t += float(rng.uniform(2, 8)) * 3600
                steps.append((t, "inspection_start", channel))
                t += float(rng.uniform(1, 4)) * 3600
                steps.append((t, "inspection_end", channel))
                t += float(rng.uniform(0.5, 2)) * 3600
            steps.append((t, "released", channel))
            t += float(rng.uniform(1, 24)) * 3600
            steps.append((t, "exit", channel))
            for when, stage, ch in steps:
                if t0 <= when < t1:
                    ts.append(when)
                    decl.append(did)
                    call_ids.append(call.call_id)
                    stages.append(stage)
                    channels.append(ch)
    if not ts:
        return empty(CUSTOMS_EVENT)
    frame = pl.DataFrame({"ts_utc": _us(ts), "declaration_id": decl, "call_id": call_ids,
                          "mode": ["sea"] * len(ts), "stage": stages, "channel": channels})
    return conform(frame, CUSTOMS_EVENT).sort("ts_utc", "declaration_id", maintain_order=True)


def tide_readings(level_at: object, rng: np.random.Generator, t0: float, t1: float) -> pl.DataFrame:
    """Gauge readings every 6 min in [t0, t1): prediction + slow surge + noise, in metres."""
    start = np.ceil(t0 / 360.0) * 360.0
    t = np.arange(start, t1, 360.0)
    if t.size == 0:
        return empty(TIDE_OBS)
    pred = level_at(t)  # type: ignore[operator]
    surge = 0.05 * np.sin(2 * np.pi * (t - t0) / (3.1 * 86400) + rng.uniform(0, 2 * np.pi))
    level = np.round(pred + surge + rng.normal(0, 0.02, t.size), 2)
    frame = pl.DataFrame({"ts_utc": _us(t), "station_id": [TIDE_STATION] * t.size, "level_m": level})
    return conform(frame, TIDE_OBS)
