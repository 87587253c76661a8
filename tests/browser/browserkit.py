"""Helpers of the browser tests (a module of its own: every test folder has a `conftest`)."""

from __future__ import annotations

from typing import Any


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


def wait_for_seq(page: Any, at_least: int, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(f"window.__twin && window.__twin.seq >= {at_least}", timeout=timeout_ms)


