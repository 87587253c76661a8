"""The ingest examples of docs/protocol.md are accepted by the server's own validator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from feeds.bus import parse_ingest

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"


def test_the_documented_ingest_examples_are_accepted() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    examples = [json.loads(block) for block in blocks if '"kind"' in block and '"v": 1' in block]
    assert len(examples) == 3  # nmea, gate_event, alert_ack
    for example in examples:
        batch = parse_ingest(json.dumps(example), datetime(2026, 11, 28, tzinfo=UTC))
        assert batch.accepted_rows == 1 and batch.rejected.is_empty(), batch.rejected.to_dicts()
        assert batch.msg_id == example["id"]
