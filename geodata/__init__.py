"""The port's geometry and rasters, and the loaders/validators for them (and for a user's own).

`load_port()` returns the bundled Zhanjiang port model; `load_port(DIR)` a user's own set, after
checking it. Importing this package reads nothing.
"""

from __future__ import annotations

from pathlib import Path

from geodata.load import BUNDLED, GeodataError, build_port, read_layers
from twin.port import Port

__all__ = ["BUNDLED", "GeodataError", "load_port"]

_cache: dict[Path, Port] = {}


def load_port(root: str | Path | None = None, *, check: bool = True) -> Port:
    """The port model of a geodata set (the bundled Zhanjiang set by default).

    With `check=True` the set is validated first and GeodataError lists every error found.
    The result is cached per directory: the model is immutable.
    """
    path = Path(root).resolve() if root is not None else BUNDLED.resolve()
    if path not in _cache:
        if check:
            from geodata.validate import validate

            report = validate(path)
            if not report.ok:
                lines = "\n".join(str(f) for f in report.errors)
                raise GeodataError(f"{path}: {len(report.errors)} error(s)\n{lines}")
        _cache[path] = build_port(read_layers(path))
    return _cache[path]
