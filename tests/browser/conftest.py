"""Browser fixtures: Debian's Chromium driven headless by Playwright, and the real demo on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import running_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real demo (simulator → engine → bus → cockpit) at ×120, on free ports."""
    with running_demo(tmp_path_factory.mktemp("demo"), speed=120.0, stale_after_s=6.0) as running:
        yield running
