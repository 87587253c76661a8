"""Dependencies point inward: the domain never loads a UI or network library, imports do no I/O."""

from __future__ import annotations

import subprocess
import sys

UI_MODULES = ("dash", "panel", "pydeck", "websockets", "bokeh", "plotly")


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(done.stdout.split())


def test_importing_twin_loads_no_ui_library() -> None:
    loaded = _loaded_after("import twin, twin.port, twin.cli")
    assert not loaded & set(UI_MODULES), loaded & set(UI_MODULES)


def test_loading_the_port_model_loads_no_ui_library() -> None:
    loaded = _loaded_after("import geodata; geodata.load_port()")
    assert not loaded & set(UI_MODULES), loaded & set(UI_MODULES)


def test_twin_help_lists_the_subcommands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twin", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for command in ("geodata", "ingest", "ukc", "demo"):
        assert command in done.stdout


def test_test_module_names_are_unique() -> None:
    # test folders have no __init__.py, so pytest imports test modules by basename: two files with
    # the same name in different folders cannot both be collected in one run
    from collections import Counter
    from pathlib import Path

    names = Counter(p.name for p in (Path(__file__).parent).rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
