"""`twin geodata check DIR` and `twin geodata draw DIR --out PNG`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geodata.load import BUNDLED, GeodataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a geodata set; exit 1 on any error")
    check.add_argument("dir", nargs="?", type=Path, default=BUNDLED,
                       help="set directory (default: the bundled Zhanjiang set)")
    draw = sub.add_parser("draw", help="draw a geodata set to a PNG")
    draw.add_argument("dir", nargs="?", type=Path, default=BUNDLED)
    draw.add_argument("--out", type=Path, required=True)
    draw.add_argument("--bbox", type=float, nargs=4, metavar=("LON0", "LAT0", "LON1", "LAT1"))


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        return _check(args.dir)
    from geodata import load_port
    from geodata.draw import draw_port

    try:
        port = load_port(args.dir)
    except GeodataError as exc:
        print(exc, file=sys.stderr)
        return 1
    draw_port(port, args.out, bbox=tuple(args.bbox) if args.bbox else None)
    print(f"wrote {args.out}")
    return 0


def _check(root: Path) -> int:
    from geodata.validate import validate

    try:
        report = validate(root)
    except GeodataError as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    print(f"geodata set {report.root}")
    for key, value in report.summary.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"  {key}: {shown}")
    for finding in report.findings:
        print(finding, file=sys.stderr if finding.level == "error" else sys.stdout)
    if report.ok:
        warnings = len(report.findings)
        print(f"OK: no errors{f', {warnings} warning(s)' if warnings else ''}")
        return 0
    print(f"FAILED: {len(report.errors)} error(s)", file=sys.stderr)
    return 1
