"""The desk's UKC now equals the UKC alert's, on a simulated run: the real simulator feeds the real
engine with the bundled alert rules; at several times the test takes the engine's snapshot as a
`/stream` client receives it (JSON), and for every ship in the channel the vessel page's figure,
computed from that JSON alone (vessel row, `feeds.tide` with the gauge's level), equals the net UKC
the alert rule computed in the engine at the same time, to the last bit, gauge surge included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import twin.alert_rules as alert_rules
from dashboards.ops.vessel_ukc import vessel_ukc
from twin.ukc_live import RowUkc

pytest.importorskip("feeds.simulate")

START = datetime(2026, 11, 28, tzinfo=UTC)
HOURS = 1.5
STEP_S = 10.0
SAMPLE_EVERY_S = 600.0


def _us(t: datetime) -> int:
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    """(alert's results by (µs, MMSI), client snapshots by time) over `HOURS` simulated hours."""
    from feeds.ais import parse_nmea_lines
    from feeds.live import message_body, real_engine_factory
    from feeds.simulate import SimConfig, Simulation
    from geodata import load_port

    port = load_port()
    sim = Simulation(SimConfig(seed=7, start_utc=START, hours=HOURS, warmup_h=12.0), port)
    engine = real_engine_factory(port)(None)
    computed: dict[tuple[int, int], RowUkc] = {}
    real = alert_rules.live_ukc_of

    def recording(row: Any, t_us: int, *args: Any, **kwargs: Any) -> RowUkc | None:
        found = real(row, t_us, *args, **kwargs)
        if found is not None:
            computed[(t_us, int(row["mmsi"]))] = found
        return found

    snapshots: dict[datetime, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(alert_rules, "live_ukc_of", recording)
        next_sample = START.timestamp() + SAMPLE_EVERY_S
        for batch in sim.iter_batches(step_s=STEP_S):
            frames = dict(parse_nmea_lines(batch.nmea, "ZJSIM", batch.t_utc).frames)
            for kind, frame in (("gate_event", batch.gate), ("customs_event", batch.customs),
                                ("tide_obs", batch.tide)):  # fmt: skip
                if frame.height:
                    frames[kind] = frame
            engine.apply(frames, batch.t_utc)
            if batch.t_utc.timestamp() >= next_sample:
                next_sample += SAMPLE_EVERY_S
                body = message_body(engine.snapshot(batch.t_utc), batch.t_utc, 0)  # as /stream sends it
                snapshots[batch.t_utc] = json.loads(body)
    return {"port": port, "computed": computed, "snapshots": snapshots}


def test_the_snapshot_carries_the_tide_gauges_level_beside_its_freshness(run: dict[str, Any]) -> None:
    tide = next(iter(run["snapshots"].values()))["feeds"]["tide"]
    assert set(tide) >= {"last_utc", "stale", "level_m"}
    assert isinstance(tide["level_m"], float) and tide["stale"] is False


def test_the_desks_ukc_now_equals_the_alerts_for_every_ship_in_the_channel(run: dict[str, Any]) -> None:
    port, computed = run["port"], run["computed"]
    compared, surges = 0, set()
    for at, snap in sorted(run["snapshots"].items()):
        cols = snap["vessels"]["columns"]
        rows = [dict(zip(cols, r, strict=True)) for r in snap["vessels"]["rows"]]
        ts = datetime.fromisoformat(snap["ts_utc"].replace("Z", "+00:00"))
        assert ts == at
        for row in rows:
            alert = computed.get((_us(at), int(row["mmsi"])))
            if alert is None:
                continue  # not in the channel with a draught: the alert did not compute it
            desk = vessel_ukc(port, row, ts, tide_feed=snap["feeds"]["tide"])
            assert desk.now is not None and desk.rule is not None, row
            assert desk.place is not None and desk.place.part == (
                "outer" if alert.rule.fraction_of_draught == 0.15 else "inner"
            )
            assert desk.now.net_ukc_m == alert.ukc.net_ukc_m, (at, row)
            assert desk.now.required_ukc_m == alert.ukc.required_ukc_m
            assert desk.now.tide_m == alert.ukc.tide_m and desk.now.squat_m == alert.ukc.squat_m
            assert desk.vessel == alert.vessel and desk.now.status == alert.ukc.status
            surges.add(desk.surge_m)
            compared += 1
    assert compared >= 5, f"only {compared} ships in the channel at the sampled times"
    assert any(abs(s) > 0.005 for s in surges), f"the gauge's surge was never in play: {surges}"
