"""Customs declaration milestones → canonical `customs_event` frames.

One line = one declaration reaching one stage of the WCO Time Release Study (arrival, lodged,
risk_assessed, inspection_start, inspection_end, released, exit), as a customs system reports it
in its CUSRES responses (declaration status, control channel). CSV with a header or JSON lines;
the format is documented in docs/formats/customs.md.

Every data line is read: it becomes one `customs_event` row or one rejected row with the rule it
broke (`customs.*`), so accepted + rejected == items read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feeds._common import (
    RowError,
    enum_value,
    head_lines,
    is_blank,
    parse_ts_utc,
    read_event_file,
    required_text,
    sniff_csv_or_jsonl,
)
from feeds.schema import CUSTOMS_EVENT, CUSTOMS_STAGES, AdapterResult

FORMATS = ("auto", "csv", "jsonl")
REQUIRED = ["ts", "declaration_id", "mode", "stage"]
OPTIONAL = ["call_id", "channel"]
MODES = ["sea", "road", "air", "rail"]
CHANNELS = ["green", "yellow", "red"]
# Risk assessment assigns the channel; before it (arrival, lodged) there is none yet, after it
# every milestone must say which channel the declaration is in.
_STAGES_WITHOUT_CHANNEL = {"arrival", "lodged"}


def parse_customs_record(record: dict[str, Any]) -> dict[str, Any]:
    """One customs milestone (field name → CSV text or JSON value) as a `customs_event` row.

    Raises `RowError` with the first rule the record breaks.
    """
    ts_utc = parse_ts_utc(record["ts"], "ts", "customs")
    declaration_id = required_text(record["declaration_id"], "declaration_id",
                                   "customs.declaration_id")
    call_value = record.get("call_id")
    call_id = None if is_blank(call_value) else required_text(call_value, "call_id",
                                                              "customs.call_id")
    mode = enum_value(record["mode"], MODES, "mode", "customs.mode")
    stage = enum_value(record["stage"], CUSTOMS_STAGES, "stage", "customs.stage")
    channel_value = record.get("channel")
    if is_blank(channel_value):
        if stage not in _STAGES_WITHOUT_CHANNEL:
            raise RowError(
                "customs.channel_missing",
                f"channel is required from risk_assessed on; stage {stage!r} has none",
            )
        channel = None
    else:
        channel = enum_value(channel_value, CHANNELS, "channel", "customs.channel")
    return {
        "ts_utc": ts_utc,
        "declaration_id": declaration_id,
        "call_id": call_id,
        "mode": mode,
        "stage": stage,
        "channel": channel,
    }


def sniff_customs_format(path: Path) -> str:
    """"csv" or "jsonl" for a readable customs file; raises `FeedReadError` otherwise."""
    return sniff_csv_or_jsonl(head_lines(path), path, REQUIRED)


def read_customs(path: str | Path, fmt: str = "auto", progress: bool = False) -> AdapterResult:
    """Read a customs milestone file (CSV or JSON lines, see docs/formats/customs.md).

    `fmt`: "auto" (sniffed from the first line), "csv" or "jsonl". `progress` shows a tqdm bar
    on stderr. Returns frames {"customs_event": ...} in the canonical schema plus rejected rows
    (rules `customs.*`); items read = non-blank data lines. Raises `FeedReadError` when the file
    cannot be read at all.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"customs format {fmt!r} is not one of {', '.join(FORMATS)}")
    return read_event_file(
        path, fmt, "customs", "customs_event", CUSTOMS_EVENT, REQUIRED, parse_customs_record, progress
    )
