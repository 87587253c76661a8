"""Browser fixtures: Debian's Chromium driven headless by Playwright, and the real demo on free ports."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# SwiftShader WebGL on the CPU (shared/reference/ui.md §2); no background network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API runs an event loop in this thread
    while it is open, so it must be closed before other folders' tests use asyncio.run()."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: ./dev test installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
