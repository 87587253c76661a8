"""`twin plan`: what-if scenarios against the baseline port.

    twin plan compare twin/scenarios/close_xs_ore_400k.toml --days 30 --seeds 3 --json
    twin plan windows twin/scenarios/dredge_outer_1m.toml --dwt 400000 --days 7 --json

`compare` runs the simulator's plan (twin.fasttime) for baseline and scenario with common seeds and
prints KPI differences with 95 % intervals; `windows` prints tidal-window hours per day for a design
vessel along the channel (twin.scenario.window_hours_per_day). A SCENARIO is a path or the name of a
bundled one (`dredge_outer_1m`). No clock is read: `--from` defaults to 2026-11-28T00:00Z.
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
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `compare` and `windows` sub-commands."""
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


def _scenario_path(text: str) -> Path:
    p = Path(text)
    return p if p.exists() or p.suffix or "/" in text else bundled(text)


def run(args: argparse.Namespace) -> int:
    """Run a `twin plan` sub-command; 0 on success, 2 on bad input (message on stderr)."""
    try:
        scenario = load_scenario(_scenario_path(args.scenario))
        from geodata import load_port  # geodata reads files: only when a command runs

        port = load_port(args.geodata)
        run_it = _compare if args.plan_command == "compare" else _windows
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


def _print(command: str, out: dict[str, Any]) -> None:
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
