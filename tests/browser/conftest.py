"""Browser fixtures: Debian's Chromium driven headless by Playwright, and the real demo on free ports."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
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


@pytest.fixture(scope="session")
def chrome() -> Iterator[Any]:
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


def open_page(browser: Any, url: str, width: int = 1920, height: int = 1080) -> tuple[Any, list[str]]:
    """A page at `url`; the returned list collects failed and off-machine requests."""
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:"))
            else problems.append(f"off-machine: {r.url}")
        ),
    )
    page.goto(url)
    return page, problems


def screenshot_array(page: Any, selector: str | None = None) -> Any:
    import io

    import numpy as np
    from PIL import Image

    target = page.locator(selector) if selector else page
    return np.asarray(Image.open(io.BytesIO(target.screenshot())).convert("RGB")).astype(int)


def wait_for_seq(page: Any, at_least: int, timeout_ms: int = 30_000) -> None:
    page.wait_for_function(f"window.__twin && window.__twin.seq >= {at_least}", timeout=timeout_ms)


DOCS = Path(__file__).resolve().parents[2] / "docs"
