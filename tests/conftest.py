"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
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


@contextmanager
def running_demo(
    data_dir: Path, *, env: dict[str, str | None] | None = None, **options: Any
) -> Iterator[Any]:
    """The real demo (`dashboards.demo.start_demo`) on free ports, stopped and its `data_dir` removed on exit.

    Defaults: seed 11, six hours from 2026-11-28 00:00 UTC, cockpit and bus on port 0; `options`
    override them or add screens (`ops_port=0`, `planner_port=0`, `speed=...`). `env` sets (a str)
    or unsets (None) environment variables only while the demo starts, where it reads its tokens.
    """
    from dashboards.demo import start_demo

    kwargs: dict[str, Any] = {
        "seed": 11,
        "hours": 6.0,
        "start": datetime(2026, 11, 28, tzinfo=UTC),
        "cockpit_port": 0,
        "bus_port": 0,
        **options,
    }
    saved = {key: os.environ.get(key) for key in env or {}}
    try:
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        running = start_demo(data_dir=data_dir, **kwargs)
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
