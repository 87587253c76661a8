"""`twin ukc`: squat, and tidal windows for the bundled Zhanjiang channel and tide.

    twin ukc squat --method huuska --cb 0.8 --speed-kn 10 --draught-m 20 --depth-m 24 \
        --beam-m 60 --length-m 330 --channel-width-m 340 --json
    twin ukc window --draught-m 21.5 --speed-kn 10 --from 2026-11-28T00:00Z --hours 48 --json

The window command reads the port model (`geodata.load_port`) and the tide constituents
(`geodata/zhanjiang/tide.toml`, estimates). No clock is read: `--generated-at` defaults to `--from`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from twin.squat import METHODS, SquatInput, get_method
from twin.tide import read_constituents_toml
from twin.ukc import UkcRule, Vessel
from twin.windows import (
    RoutePoint,
    critical_point,
    iso_utc,
    max_sailing_draught_m,
    to_s129_plan,
    transit_windows,
)

# Bulk carrier/tanker particulars by deadweight: (dwt, length_m, beam_m, cb). ESTIMATES from
# typical designs (Panamax ... Valemax, whose 362 m x 65 m matches the WPI maximum vessel for
# Zhanjiang, zhanjiang.md §5); for planning demos only.
_DWT_TABLE: tuple[tuple[float, float, float, float], ...] = (
    (50_000, 190.0, 32.3, 0.82),
    (100_000, 245.0, 43.0, 0.84),
    (150_000, 275.0, 45.0, 0.85),
    (200_000, 300.0, 50.0, 0.85),
    (300_000, 330.0, 60.0, 0.83),
    (400_000, 360.0, 65.0, 0.86),
)


def particulars_from_dwt(dwt: float) -> tuple[float, float, float]:
    """(length_m, beam_m, cb) interpolated in the estimate table (clamped at its ends)."""
    d = [row[0] for row in _DWT_TABLE]
    return (float(np.interp(dwt, d, [row[1] for row in _DWT_TABLE])),
            float(np.interp(dwt, d, [row[2] for row in _DWT_TABLE])),
            float(np.interp(dwt, d, [row[3] for row in _DWT_TABLE])))


def _utc(text: str) -> np.datetime64:
    """ISO 8601 time -> UTC datetime64[s]; a time without offset is taken as UTC."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(dt, "s")


def _iso(t: np.datetime64 | None) -> str | None:
    return None if t is None else iso_utc(t)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Wire `twin ukc squat` and `twin ukc window`."""
    sub = parser.add_subparsers(dest="ukc_command", metavar="{squat,window}", required=True)
    sq = sub.add_parser("squat", help="ship squat by a published formula")
    sq.add_argument("--method", choices=sorted(METHODS), default="barrass-open")
    sq.add_argument("--cb", type=float, required=True, help="block coefficient")
    sq.add_argument("--speed-kn", type=float, required=True, help="speed through water, knots")
    sq.add_argument("--draught-m", type=float, required=True)
    sq.add_argument("--depth-m", type=float, required=True, help="water depth at the ship, m")
    sq.add_argument("--beam-m", type=float)
    sq.add_argument("--length-m", type=float, help="length between perpendiculars, m")
    sq.add_argument("--channel-width-m", type=float)
    sq.add_argument("--channel-bank-n", type=float, help="Huuska channel bank parameter (DVK)")
    sq.add_argument("--waterplane-coefficient", type=float, help="Cw, for barrass-1979")
    sq.add_argument("--json", action="store_true", help="print JSON")

    w = sub.add_parser("window", help="tidal windows for a transit of the Zhanjiang channel")
    w.add_argument("--draught-m", type=float, required=True)
    w.add_argument("--speed-kn", type=float, required=True, help="speed through water, knots")
    w.add_argument("--from", dest="start", type=_utc, required=True,
                   help="earliest departure, ISO 8601 (UTC if no offset)")
    w.add_argument("--hours", type=float, required=True, help="length of the search, hours")
    w.add_argument("--dwt", type=float, help="deadweight (t): estimates length, beam and Cb")
    w.add_argument("--cb", type=float, help="block coefficient (default 0.85 or from --dwt)")
    w.add_argument("--beam-m", type=float)
    w.add_argument("--length-m", type=float)
    w.add_argument("--method", choices=sorted(METHODS),
                   help="squat method (default barrass-blockage with a beam, else "
                        "barrass-confined)")
    w.add_argument("--outer-pct", type=float, default=15.0,
                   help="required net UKC in the outer channel, %% of draught")
    w.add_argument("--inner-pct", type=float, default=10.0,
                   help="required net UKC in the inner channel, %% of draught")
    w.add_argument("--min-ukc-m", type=float, default=0.0, help="required net UKC floor, m")
    w.add_argument("--allowance-m", type=float, default=0.0,
                   help="survey/siltation/heel/wave allowance added at every point, m")
    w.add_argument("--outbound", action="store_true", help="sail from the berths to sea")
    w.add_argument("--step-km", type=float, default=0.5, help="control-point spacing")
    w.add_argument("--step-s", type=float, default=60.0, help="departure sampling step")
    w.add_argument("--with-shoals", action="store_true",
                   help="use surveyed shoals shallower than the design depth")
    w.add_argument("--vessel-id", default="", help="S-129 vesselID (e.g. IMO number)")
    w.add_argument("--generated-at", type=_utc, help="S-129 generationTime (default: --from)")
    w.add_argument("--geodata", help="geodata directory (default: bundled Zhanjiang set)")
    w.add_argument("--tide", help="tide constituents TOML (default: the geodata set's tide.toml)")
    w.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Run a `twin ukc` sub-command; 0 on success, 2 on bad input (message on stderr)."""
    try:
        if args.ukc_command == "squat":
            return _run_squat(args)
        return _run_window(args)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"twin ukc {args.ukc_command}: {exc}", file=sys.stderr)
        return 2


def _run_squat(args: argparse.Namespace) -> int:
    res = get_method(args.method).compute(SquatInput(
        cb=args.cb, speed_kn=args.speed_kn, draught_m=args.draught_m, depth_m=args.depth_m,
        beam_m=args.beam_m, length_m=args.length_m, channel_width_m=args.channel_width_m,
        channel_bank_n=args.channel_bank_n, waterplane_coefficient=args.waterplane_coefficient))
    value = float(res.squat_m)
    out = {"method": res.method, "squat_m": None if math.isnan(value) else round(value, 4),
           "warnings": res.warnings}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"squat ({res.method}): {value:.2f} m")
        for text in res.warnings:
            print(f"  warning: {text}")
    return 0


def _route(args: argparse.Namespace) -> tuple[list[RoutePoint], list[dict[str, Any]]]:
    """Control points of the port's channel as RoutePoints, plus the known shoals."""
    from geodata import load_port  # geodata does I/O; only the window command needs it

    port = load_port(args.geodata)
    rules = {"outer": UkcRule(args.outer_pct / 100.0, args.min_ukc_m),
             "inner": UkcRule(args.inner_pct / 100.0, args.min_ukc_m)}
    cps = port.channel.control_points(step_km=args.step_km)
    depths = [float(cp.design_depth_m) for cp in cps]
    shoals = []
    for shoal in port.shoals:
        km, offset_m = port.channel.chainage_at(shoal.location.x, shoal.location.y)
        k = int(np.argmin([abs(cp.chainage_km - km) for cp in cps]))
        inside = abs(offset_m) <= cps[k].width_m / 2
        applied = bool(args.with_shoals and inside and shoal.depth_m < depths[k])
        if applied:
            depths[k] = shoal.depth_m
        shoals.append({"id": shoal.id, "depth_m": shoal.depth_m, "chainage_km": round(km, 3),
                       "offset_m": round(offset_m, 1), "inside_channel": inside,
                       "applied": applied})
    points = [RoutePoint(chainage_km=cp.chainage_km, depth_below_cd_m=d, rule=rules[cp.part],
                         speed_kn=args.speed_kn, allowances_m=args.allowance_m,
                         channel_width_m=cp.width_m, lon=cp.lon, lat=cp.lat, zone=cp.part,
                         point_id=f"K{cp.chainage_km:.2f}")
              for cp, d in zip(cps, depths, strict=True)]
    if args.outbound:
        points.reverse()
    return points, shoals


def _run_window(args: argparse.Namespace) -> int:
    if args.hours <= 0 or args.speed_kn <= 0 or args.draught_m <= 0:
        raise ValueError("--hours, --speed-kn and --draught-m must be positive")
    length, beam, cb = args.length_m, args.beam_m, args.cb
    if args.dwt is not None:
        est_l, est_b, est_cb = particulars_from_dwt(args.dwt)
        length, beam, cb = length or est_l, beam or est_b, cb or est_cb
    cb = cb or 0.85
    method = args.method or ("barrass-blockage" if beam else "barrass-confined")
    vessel = Vessel(draught_m=args.draught_m, speed_kn=args.speed_kn, cb=cb, beam_m=beam,
                    length_m=length, vessel_id=args.vessel_id)
    points, shoals = _route(args)
    if args.tide:
        tide_path = Path(args.tide)
    else:
        from geodata.load import BUNDLED

        tide_path = Path(args.geodata) / "tide.toml" if args.geodata else BUNDLED / "tide.toml"
    tide = read_constituents_toml(tide_path)
    start = np.datetime64(args.start, "ns")
    end = start + np.timedelta64(round(args.hours * 3600e9), "ns")
    result = transit_windows(points, vessel, tide, start, end, step_s=args.step_s,
                             squat_method=method)
    earliest = result.earliest_start(start)
    departure = earliest if earliest is not None else start
    crit = critical_point(points, vessel, tide, departure, squat_method=method)
    max_draught = max_sailing_draught_m(points, vessel, tide, start, squat_method=method)
    plan = to_s129_plan(result, points, vessel, generation_time=args.generated_at or args.start,
                        departure=earliest)
    out: dict[str, Any] = {
        "station": tide.station,
        "vessel": {"draught_m": vessel.draught_m, "speed_kn": vessel.speed_kn, "cb": cb,
                   "beam_m": beam, "length_m": length, "dwt": args.dwt},
        "squat_method": method,
        "rule": {"outer_pct": args.outer_pct, "inner_pct": args.inner_pct,
                 "min_ukc_m": args.min_ukc_m, "allowance_m": args.allowance_m},
        "direction": "outbound" if args.outbound else "inbound",
        "transit_time_min": round(float(result.offsets_s[-1]) / 60.0, 1),
        "windows": [{"start": _iso(w.start), "end": _iso(w.end),
                     "duration_min": round(w.duration_s / 60.0, 1),
                     "clipped": w.clipped_start or w.clipped_end} for w in result.windows],
        "earliest_start": _iso(earliest),
        "waiting_min": None if earliest is None
        else round(float((earliest - start) / np.timedelta64(1, "s")) / 60.0, 1),
        "critical_point": {"chainage_km": crit.chainage_km, "passing_time": _iso(crit.passing_time),
                           "net_ukc_m": round(crit.net_ukc_m, 3),
                           "required_ukc_m": round(crit.required_ukc_m, 3),
                           "margin_m": round(crit.margin_m, 3) + 0.0,  # no "-0.0" in JSON
                           "for_departure": _iso(departure)},
        "max_sailing_draught_m_at_from": round(max_draught, 2),
        "shoals": shoals,
        "warnings": result.warnings,
        "notices": ["tide constituents are estimates (geodata/zhanjiang/tide.toml); "
                    "not for navigation"],
        "s129": plan,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"{out['direction']} transit {out['transit_time_min']} min, draught "
          f"{vessel.draught_m} m, {vessel.speed_kn} kn, squat {method}")
    for win in out["windows"]:
        print(f"  window {win['start']} -> {win['end']} ({win['duration_min']} min)")
    print(f"earliest start: {out['earliest_start'] or 'none in the span'}")
    print(f"critical point: K{crit.chainage_km:.2f}, net UKC {crit.net_ukc_m:.2f} m "
          f"(required {crit.required_ukc_m:.2f} m)")
    print(f"max sailing draught for a start at {_iso(start)}: {max_draught:.2f} m")
    for text in result.warnings:
        print(f"  warning: {text}")
    return 0
