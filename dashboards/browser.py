"""How this project drives a real browser: Debian's Chromium, headless, WebGL on the CPU.

One place for the executable and flags (shared/reference/ui.md §2: SwiftShader through ANGLE renders
deck.gl headless; no background network traffic), used by the docs gallery, the benchmarks and the
browser tests. Playwright's own browser download cannot work offline, so it is never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (Playwright sync API), closed on exit.

    While open, Playwright runs an event loop in this thread: close it before code in the same
    thread calls `asyncio.run()`.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
