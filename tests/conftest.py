"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.browser import CHROMIUM, chromium


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    """Debian's Chromium driven headless by Playwright, for one test module.

    Playwright's sync API runs an event loop in this thread while it is open, so it is closed
    before other modules' tests call asyncio.run(). Missing Chromium skips locally and fails in CI
    (`./dev test` installs it).
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: ./dev test installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    with chromium() as browser:
        yield browser
