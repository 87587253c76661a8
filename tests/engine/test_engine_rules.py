"""House rules for the engine modules: no UI or network library, no clock, no I/O at import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ENGINE_MODULES = ("engine", "state", "portcall", "zones", "kpi_live", "charts")
TWIN = Path(__file__).resolve().parents[2] / "twin"


def test_importing_the_engine_loads_no_ui_or_network_library() -> None:
    code = (
        "import sys, twin.engine, twin.charts; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(done.stdout.split())
    assert not loaded & {"dash", "panel", "pydeck", "websockets", "bokeh", "plotly"}


def test_the_engine_never_reads_the_clock() -> None:
    clock = re.compile(r"\b(datetime\.now|datetime\.utcnow|time\.time|time\.monotonic|date\.today)\s*\(")
    for name in ENGINE_MODULES:
        text = (TWIN / f"{name}.py").read_text(encoding="utf-8")
        assert not clock.search(text), name


def test_the_engine_does_not_import_feeds() -> None:
    """Dependencies point inward: feeds → twin, never twin → feeds."""
    imports_feeds = re.compile(r"^\s*(from|import)\s+feeds\b", re.MULTILINE)
    for name in ENGINE_MODULES:
        assert not imports_feeds.search((TWIN / f"{name}.py").read_text(encoding="utf-8")), name
