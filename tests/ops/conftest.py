"""Ops desk fixtures: Debian's Chromium via Playwright and the real demo (ops desk included) on free ports."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """simulator → engine → bus → cockpit + ops desk at ×120; no operator token configured."""
    from dashboards.demo import start_demo

    os.environ.pop("TWIN_OPERATOR_TOKEN", None)
    data = tmp_path_factory.mktemp("opsdemo")
    running = start_demo(
        seed=11,
        speed=120.0,
        hours=6.0,
        start=datetime(2026, 11, 28, tzinfo=UTC),
        cockpit_port=0,
        bus_port=0,
        ops_port=0,
        data_dir=data,
    )
    yield running
    running.stop()
    shutil.rmtree(data, ignore_errors=True)
