"""The alert modules keep the domain's rules: no UI library loaded, and `twin alerts` is listed."""

from __future__ import annotations

import subprocess
import sys

UI_MODULES = {"dash", "panel", "pydeck", "websockets", "bokeh", "plotly"}


def test_importing_the_alert_modules_loads_no_ui_library() -> None:
    code = ("import sys, twin.alerts, twin.alert_rules, twin.alerts_cli; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=True)
    assert not set(done.stdout.split()) & UI_MODULES


def test_twin_help_lists_alerts() -> None:
    done = subprocess.run([sys.executable, "-m", "twin", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "alerts" in done.stdout
