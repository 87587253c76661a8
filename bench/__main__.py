"""Run the benchmarks: `python -m bench` runs every `bench/bench_*.py`, `python -m bench ais` one.

Each benchmark module exposes `main() -> None`, measures our path against a named baseline in the
same run and prints the ratio; its figures are written down in the matching `bench/*.md`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    wanted = argv or names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {names}", file=sys.stderr)
        return 2
    for name in wanted:
        print(f"== bench {name} ==", flush=True)
        importlib.import_module(f"bench.bench_{name}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
