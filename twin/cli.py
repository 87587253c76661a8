"""The `twin` console command.

Each subcommand lives in the package that owns it and is imported only when it runs, so
`twin --help` stays fast and `twin` never loads a UI library unless the subcommand needs one.
A subcommand module exposes `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "geodata": ("geodata.cli", "check or draw a port geodata set (berths, channel, anchorages, ...)"),
    "ingest": ("feeds.cli", "read feed files (AIS, gate, customs, tide) into the history store"),
    "ukc": ("twin.ukc_cli", "squat, keel clearance and tidal windows for the channel"),
    "alerts": ("twin.alerts_cli", "replay a history store through the alert rules; list the alerts (--json)"),
    "demo": ("dashboards.demo", "run the whole twin on the built-in Zhanjiang simulation"),
    "kpi": ("twin.kpi_cli", "KPIs with their definitions over the history store, replayed through the twin"),
    "plan": ("twin.plan_cli", "what-if scenarios vs the baseline: fast-time KPIs, tidal windows"),
    "serve": ("feeds.serve", "run the live twin: feeds → journal → engine → websocket bus (--config FILE)"),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin",
        description="Zhanjiang Port Twin (湛江港数字孪生): live 3D port, feeds, keel clearance, KPIs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in SUBCOMMANDS:
        parser = _top_parser()
        if not args:
            parser.print_help()
            return 2
        parser.parse_args(args)  # prints help or a usage error and exits
        return 2
    name, rest = args[0], args[1:]
    module_name, help_text = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"twin {name}", description=help_text)
    module.add_arguments(parser)
    parsed = parser.parse_args(rest)
    result: int = module.run(parsed)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
