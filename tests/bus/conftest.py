"""Fixtures of the bus tests: a live twin on an ephemeral 127.0.0.1 port with the fake engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from bus_clients import TOKEN
from bus_fakes import make_engine

from feeds.live import LiveConfig, LiveHandle, start_twin


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHandle]:
    """A running live twin (fake engine, token `TOKEN`, history on) stopped after the test."""
    config = LiveConfig(
        journal_dir=tmp_path / "journal",
        history_dir=tmp_path / "history",
        make_engine=make_engine,
        ws_port=0,
        token=TOKEN,
        history_flush_s=0.5,
        tick_s=0.0,  # the tests count journal records; ticks have their own test
        outbox_messages=8,
    )
    handle = start_twin(config)
    yield handle
    handle.stop()
