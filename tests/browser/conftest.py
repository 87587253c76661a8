"""Browser fixtures: Debian's Chromium driven headless by Playwright, and the real demo on free ports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real demo (simulator → engine → bus → cockpit) at ×120, on free ports."""
    from dashboards.demo import start_demo

    data = tmp_path_factory.mktemp("demo")
    running = start_demo(
        seed=11,
        speed=120.0,
        hours=6.0,
        start=datetime(2026, 11, 28, tzinfo=UTC),
        cockpit_port=0,
        bus_port=0,
        data_dir=data,
        stale_after_s=6.0,
    )
    yield running
    running.stop()
    shutil.rmtree(data, ignore_errors=True)
