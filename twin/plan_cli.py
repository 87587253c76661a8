"""`twin plan`: what-if scenarios against the baseline port.

    twin plan compare twin/scenarios/close_xs_ore_400k.toml --days 30 --seeds 3 --json
    twin plan windows twin/scenarios/dredge_outer_1m.toml --dwt 400000 --days 7 --json
    twin plan schedule --seed 1 --rate-scale 1.5 --pilots 20 --json

`compare` runs the simulator's plan (twin.fasttime) for baseline and scenario with common seeds and
prints KPI differences with 95 % intervals; `windows` prints tidal-window hours per day for a design
vessel along the channel (twin.scenario.window_hours_per_day); `schedule` sequences a simulated busy
day's channel movements FCFS and optimised (twin.schedule) and compares them. A SCENARIO is a path or
the name of a bundled one (`dredge_outer_1m`). No clock is read: `--from` defaults to 2026-11-28T00:00Z.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from twin.scenario import ScenarioFileError, bundled, load_scenario

DEFAULT_START = datetime(2026, 11, 28, tzinfo=UTC)


def _utc(text: str) -> datetime:
    """ISO 8601 time (a time without offset is UTC); argparse reports a bad one with the text."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `compare`, `windows` and `schedule` sub-commands."""
    sub = parser.add_subparsers(dest="plan_command", required=True)
    c = sub.add_parser("compare", help="fast-time simulation: KPIs of baseline vs scenario over seeds")
    c.add_argument("scenario", help="scenario TOML file, or the name of a bundled one")
    c.add_argument("--days", type=float, default=30.0, help="simulated days per run")
    c.add_argument("--seeds", type=int, default=3, help="number of seeds (1..K), paired runs")
    c.add_argument("--first-seed", type=int, default=1)
    c.add_argument("--from", dest="start", type=_utc, default=DEFAULT_START, help="window start (UTC)")
    c.add_argument("--outer-pct", type=float, help="planner UKC in the outer channel, %% of draught, "
                   "for both runs (default: the simulator's 10 %%)")
    c.add_argument("--inner-pct", type=float, help="planner UKC in the inner channel, %% of draught")
    c.add_argument("--no-progress", action="store_true", help="no tqdm bar on stderr")
    c.add_argument("--geodata", help="geodata directory (default: bundled Zhanjiang set)")
    c.add_argument("--json", action="store_true", help="print JSON")
    w = sub.add_parser("windows", help="tidal-window hours per day, baseline vs scenario")
    w.add_argument("scenario", help="scenario TOML file, or the name of a bundled one")
    w.add_argument("--dwt", type=float, help="design vessel by deadweight (default: the scenario's [vessel])")
    w.add_argument("--draught-m", type=float, help="draught (default: scenario's, or 23.0 m at 400 kt)")
    w.add_argument("--speed-kn", type=float, default=9.0, help="speed with --dwt")
    w.add_argument("--days", type=int, default=7)
    w.add_argument("--from", dest="start", type=_utc, default=DEFAULT_START, help="first day (UTC)")
    w.add_argument("--to-km", type=float, help="end of the route (default: the berth or channel end)")
    w.add_argument("--berth", default="XS-ORE-400K", help="sail to this berth's chainage (default)")
    w.add_argument("--outer-pct", type=float, default=15.0)
    w.add_argument("--inner-pct", type=float, default=10.0)
    w.add_argument("--outbound", action="store_true")
    w.add_argument("--step-km", type=float, default=0.5)
    w.add_argument("--step-s", type=float, default=60.0)
    w.add_argument("--geodata", help="geodata directory (default: bundled Zhanjiang set)")
    w.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("schedule", help="channel sequence and pilots for a simulated day: FCFS vs optimised")
    s.add_argument("--seed", type=int, default=1, help="simulator seed")
    s.add_argument("--from", dest="start", type=_utc, default=DEFAULT_START, help="start of the 24 h (UTC)")
    s.add_argument("--hours", type=float, default=24.0, help="look-ahead (h)")
    s.add_argument("--rate-scale", type=float, default=1.5, help="arrival rates x this (busy day: 1.5)")
    s.add_argument("--pilots", type=int, default=20, help="pilots on the roster")
    s.add_argument("--max-shift-h", type=float, default=12.0)
    s.add_argument("--min-rest-h", type=float, default=10.0)
    s.add_argument("--outer-pct", type=float, default=15.0, help="UKC outer channel, %% of draught")
    s.add_argument("--inner-pct", type=float, default=10.0, help="UKC inner channel, %% of draught")
    s.add_argument("--budget", type=int, default=1500, help="optimiser: evaluations of the local search")
    s.add_argument("--geodata", help="geodata directory (default: bundled Zhanjiang set)")
    s.add_argument("--json", action="store_true", help="print JSON")


def _scenario_path(text: str) -> Path:
    p = Path(text)
    return p if p.exists() or p.suffix or "/" in text else bundled(text)


def run(args: argparse.Namespace) -> int:
    """Run a `twin plan` sub-command; 0 on success, 2 on bad input (message on stderr)."""
    try:
        scenario = None if args.plan_command == "schedule" else load_scenario(_scenario_path(args.scenario))
        from geodata import load_port  # geodata reads files: only when a command runs

        port = load_port(args.geodata)
        run_it = {"compare": _compare, "windows": _windows, "schedule": _schedule}[args.plan_command]
        out = run_it(args, port, scenario)
    except FileNotFoundError as exc:
        print(f"twin plan {args.plan_command}: no such scenario or geodata file: {exc.filename or exc}",
              file=sys.stderr)
        return 2
    except (ScenarioFileError, ValueError, KeyError) as exc:
        print(f"twin plan {args.plan_command}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _print(args.plan_command, out)
    return 0


def _compare(args: argparse.Namespace, port: Any, scenario: Any) -> dict[str, Any]:
    from twin.fasttime import compare

    if args.seeds < 1:
        raise ValueError("--seeds must be at least 1")
    rule = {k: v / 100.0 for k, v in (("outer", args.outer_pct), ("inner", args.inner_pct)) if v is not None}
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    return compare(port, scenario, days=args.days, seeds=seeds, start_utc=args.start,
                   progress=not args.no_progress, ukc_fraction=rule)


def _windows(args: argparse.Namespace, port: Any, scenario: Any) -> dict[str, Any]:
    from twin.scenario import design_vessel, window_hours_per_day
    from twin.tide import read_constituents_toml
    from twin.ukc import UkcRule

    vessel = design_vessel(scenario, args.dwt, args.draught_m, args.speed_kn)
    to_km = args.to_km
    if to_km is None and args.berth:
        c = port.berths[args.berth].pocket.centroid
        to_km = min(port.channel.chainage_at(c.x, c.y)[0], port.channel.axis_chainage_km[-1])
    tide = read_constituents_toml(port.files["tide"])
    rules = {"outer": UkcRule(args.outer_pct / 100.0), "inner": UkcRule(args.inner_pct / 100.0)}
    start = np.datetime64(args.start.replace(tzinfo=None), "ns")
    days = window_hours_per_day(port, scenario, vessel, tide, start, args.days, rules=rules, to_km=to_km,
                                step_km=args.step_km, step_s=args.step_s, outbound=args.outbound)
    n = max(len(days), 1)
    return {
        "scenario": scenario.name,
        "vessel": {"draught_m": vessel.draught_m, "length_m": vessel.length_m, "beam_m": vessel.beam_m,
                   "cb": vessel.cb, "speed_kn": vessel.speed_kn, "id": vessel.vessel_id},
        "route": {"from_km": 0.0, "to_km": round(float(to_km), 2) if to_km is not None else None,
                  "direction": "outbound" if args.outbound else "inbound",
                  "rule": {"outer_pct": args.outer_pct, "inner_pct": args.inner_pct}},
        "days": days,
        "mean": {"baseline_h": round(sum(d["baseline_h"] for d in days) / n, 2),
                 "scenario_h": round(sum(d["scenario_h"] for d in days) / n, 2),
                 "gain_h": round(sum(d["gain_h"] for d in days) / n, 2)},
        "notices": ["tide constituents are estimates (geodata/zhanjiang/tide.toml); not for navigation"],
    }


def _schedule(args: argparse.Namespace, port: Any, _scenario: Any) -> dict[str, Any]:
    import time

    from feeds.simulate import SimConfig, Simulation
    from twin.schedule import ChannelRules, Optimised, PilotRules, Problem
    from twin.schedule_demand import requests_from_simulation
    from twin.tide import read_constituents_toml
    from twin.ukc import UkcRule
    from twin.windows import iso_utc

    if args.rate_scale <= 0 or args.hours <= 0:
        raise ValueError("--rate-scale and --hours must be positive")
    sim = Simulation(SimConfig(seed=args.seed, start_utc=args.start, hours=args.hours,
                               rate_scale=args.rate_scale, per_call_rng=True, landside=False), port)
    t0 = args.start.timestamp()
    requests, busy = requests_from_simulation(sim, t0, args.hours)
    rules = ChannelRules(ukc={"outer": UkcRule(args.outer_pct / 100.0),
                              "inner": UkcRule(args.inner_pct / 100.0)})
    pilots = PilotRules(count=args.pilots, max_shift_h=args.max_shift_h, min_rest_h=args.min_rest_h)
    tide = read_constituents_toml(port.files["tide"])
    clock = time.perf_counter  # durations for the report only; the model reads no clock
    c0 = clock()
    problem = Problem(port, requests, tide, rules=rules, pilots=pilots, berth_busy_until=busy)
    c1 = clock()
    fcfs = problem.plan(problem.fcfs_order(), "fcfs")
    c2 = clock()
    opt = problem.plan(Optimised(budget=args.budget).order(problem), "optimised")
    c3 = clock()

    def when(t: float | None) -> str | None:
        return None if t is None else iso_utc(np.datetime64(round(t * 1e6), "us"))

    rows = [{"mmsi": m.request.mmsi, "name": m.request.name, "direction": m.request.direction,
             "dwt": m.request.dwt, "draught_m": m.request.draught_m, "berth_id": m.request.berth_id,
             "earliest_utc": when(m.request.earliest_s), "entry_utc": when(m.entry_s),
             "exit_utc": when(m.exit_s),
             "pilot": m.pilot, "wait_h": None if m.entry_s is None else round(m.wait_s / 3600.0, 2),
             "reasons_h": {k: round(v / 3600.0, 2) if np.isfinite(v) else None  # None: blocked for good
                           for k, v in m.reasons.items()},
             "one_way_class": m.transit.one_way} for m in opt.movements]
    return {
        "day": {"seed": args.seed, "start_utc": when(t0), "hours": args.hours, "rate_scale": args.rate_scale,
                "requests": len(requests), "inbound": sum(r.direction == "in" for r in requests),
                "outbound": sum(r.direction == "out" for r in requests), "berths_held": len(busy)},
        "rules": {"outer_pct": args.outer_pct, "inner_pct": args.inner_pct,
                  "one_way_min_dwt": rules.one_way_dwt(port), "pilots": args.pilots,
                  "max_shift_h": args.max_shift_h, "min_rest_h": args.min_rest_h},
        "fcfs": fcfs.summary(), "optimised": opt.summary(),
        "runtime_s": {"windows": round(c1 - c0, 3), "fcfs": round(c2 - c1, 3),
                      "optimised": round(c3 - c2, 3)},
        "sequence": rows,
        "notices": ["demand from the simulator's plan (feeds.simulate), berths and stays as it chose them",
                    "tide constituents are estimates (geodata/zhanjiang/tide.toml); not for navigation"],
    }


def _print(command: str, out: dict[str, Any]) -> None:
    if command == "schedule":
        d = out["day"]
        print(f"seed {d['seed']} from {d['start_utc']} for {d['hours']:g} h (arrivals x{d['rate_scale']:g}): "
              f"{d['requests']} movements ({d['inbound']} in, {d['outbound']} out)")
        keys = ("scheduled", "wait_total_h", "wait_mean_h", "wait_max_h", "waited", "transits_per_day",
                "channel_occupancy_h", "one_way_class_h", "pilot_h", "pilots_used")
        print(f"  {'':22s} {'fcfs':>10s} {'optimised':>10s}")
        for k in keys:
            print(f"  {k:22s} {out['fcfs'][k]:>10g} {out['optimised'][k]:>10g}")
        r = out["runtime_s"]
        print(f"  runtime: windows {r['windows']} s, fcfs {r['fcfs']} s, optimised {r['optimised']} s")
        print("  optimised sequence, first 15 (all with --json):")
        for row in out["sequence"][:15]:
            why = ", ".join(f"{k} {v:g} h" if v is not None else f"{k} (no slot)"
                            for k, v in row["reasons_h"].items())
            print(f"  {row['entry_utc'] or 'unscheduled':>20s} {row['direction']:>3s} {row['name']:<22s} "
                  f"{row['draught_m']:5.1f} m  pilot {row['pilot']}  wait {row['wait_h']} h  {why}")
        return
    if command == "compare":
        print(f"{out['scenario']}: {out['days']:g} days x seeds {out['seeds']} ({out['method']})")
        for key, s in out["summary"].items():
            ci = "" if s["ci95"] is None else f" ± {s['ci95']:g}"
            print(f"  {key:24s} baseline {s['baseline']:>12g}  scenario {s['scenario']:>12g}  "
                  f"diff {s['difference']:+g}{ci} {s['unit']}")
        return
    v = out["vessel"]
    print(f"{out['scenario']}: draught {v['draught_m']} m, {v['speed_kn']} kn, "
          f"route K0–K{out['route']['to_km']}")
    for d in out["days"]:
        print(f"  {d['date']}  baseline {d['baseline_h']:5.2f} h  scenario {d['scenario_h']:5.2f} h  "
              f"gain {d['gain_h']:+.2f} h")
    m = out["mean"]
    print(f"  mean/day  baseline {m['baseline_h']:.2f} h  scenario {m['scenario_h']:.2f} h  "
          f"gain {m['gain_h']:+.2f} h")
