"""Ops desk fixtures: Debian's Chromium via Playwright and the real demo (ops desk included) on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import running_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """simulator → engine → bus → cockpit + ops desk at ×120; no operator token configured."""
    with running_demo(
        tmp_path_factory.mktemp("opsdemo"), env={"TWIN_OPERATOR_TOKEN": None}, speed=120.0, ops_port=0
    ) as running:
        yield running
