"""Terminal gate transactions (truck gate-in / gate-out) → canonical `gate_event` frames.

The input is a gate transaction log as a terminal operating system exports it, one transaction
(one truck passing one lane of one gate) per line, as CSV with a header or as JSON lines. It
carries what a CODECO gate-in/gate-out report carries for road moves (container numbers,
direction, time) plus what the gate OCR portal adds (lane, outcome, processing time). The
format is documented in docs/formats/gate.md.

Every data line is read: it becomes one `gate_event` row or one rejected row with the rule it broke
(`gate.*`), so accepted + rejected == items read.
"""

from __future__ import annotations

import math
import re
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
from feeds.schema import GATE_EVENT, AdapterResult

FORMATS = ("auto", "csv", "jsonl")
REQUIRED = ["ts", "gate_id", "lane", "direction", "visit_id", "outcome"]
OPTIONAL = ["truck_id", "container_ids", "processing_s"]
DIRECTIONS = ["in", "out"]
OUTCOMES = ["accepted", "rejected", "manual"]

# ISO 6346: 3-letter owner code, equipment category (U freight container, J detachable equipment,
# Z trailer/chassis), 6-digit serial, 1 check digit.
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ]\d{7}$")
# A hashed plate: the gate system hashes (salted SHA-256 or similar) before export, so the twin
# never stores a plate in clear. 16 to 64 hex digits covers truncated and full digests.
_HASHED = re.compile(r"^[0-9a-f]{16,64}$")
# Letter values of ISO 6346 Annex A: A=10 upwards, skipping 11, 22 and 33 (multiples of 11).
_LETTER_VALUE = dict(
    zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [v for v in range(10, 39) if v % 11 != 0], strict=True)
)
_MAX_PROCESSING_S = 86_400.0


def iso6346_check_digit(code: str) -> int:
    """The ISO 6346 check digit of the first 10 characters of a container number.

    Each character's value (digits as themselves, letters per Annex A) is weighted by 2**position,
    the sum is taken modulo 11, and a remainder of 10 is written 0.
    Example: CSQU305438 → 3 (the standard's own example, CSQU 305438 3).
    Raises KeyError/ValueError for characters outside A–Z and 0–9.
    """
    total = 0
    for position, char in enumerate(code[:10]):
        value = _LETTER_VALUE[char] if char.isalpha() else int(char)
        total += value << position
    return total % 11 % 10


def parse_container_id(value: str) -> str:
    """A validated ISO 6346 container number (surrounding blanks removed), or `RowError`."""
    code = value.strip()
    if not _CONTAINER.match(code):
        raise RowError(
            "gate.container_format",
            f"container_ids entry {value!r} is not an ISO 6346 number "
            "(3 letters, U/J/Z, 6 digits, check digit, e.g. CSQU3054383)",
        )
    expected = iso6346_check_digit(code)
    if int(code[10]) != expected:
        raise RowError(
            "gate.container_check_digit",
            f"container_ids entry {code!r} has check digit {code[10]}, ISO 6346 gives {expected}",
        )
    return code


def _container_ids(value: Any) -> list[str]:
    if is_blank(value):
        return []
    if isinstance(value, str):
        # ';' separates the containers of one visit; an empty piece (trailing ';') carries nothing.
        parts = [part for part in value.split(";") if part.strip()]
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        raise RowError(
            "gate.container_format",
            f"container_ids must be a list of strings or ';'-separated text, got {value!r}",
        )
    return [parse_container_id(part) for part in parts]


def _lane(value: Any) -> int:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise RowError("gate.lane", f"lane must be an integer 1-255, got {value!r}")
    if isinstance(text, str):
        if not text.isascii() or not text.isdigit():
            raise RowError("gate.lane", f"lane must be an integer 1-255, got {value!r}")
        text = int(text)
    if not 1 <= text <= 255:
        raise RowError("gate.lane", f"lane {value!r} is outside 1-255")
    return text


def _truck_id(value: Any) -> str | None:
    if is_blank(value):
        return None  # plate not read (OCR failure, manual lane): unknown, not invented
    if not isinstance(value, str) or not _HASHED.match(value.strip().lower()):
        raise RowError(
            "gate.truck_id_not_hashed",
            f"truck_id {value!r} is not a hashed plate (16-64 hex digits); "
            "plates must be hashed by the gate system before export",
        )
    return value.strip().lower()


def _processing_s(value: Any) -> float | None:
    if is_blank(value):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError("bool")
        seconds = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise RowError("gate.processing_s",
                       f"processing_s {value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or not 0.0 <= seconds <= _MAX_PROCESSING_S:
        raise RowError("gate.processing_s", f"processing_s {value!r} is outside 0-86400 s")
    return seconds


def parse_gate_record(record: dict[str, Any]) -> dict[str, Any]:
    """One gate transaction (field name → CSV text or JSON value) as a `gate_event` row.

    Raises `RowError` with the first rule the record breaks.
    """
    return {
        "ts_utc": parse_ts_utc(record["ts"], "ts", "gate"),
        "gate_id": required_text(record["gate_id"], "gate_id", "gate.gate_id"),
        "lane": _lane(record["lane"]),
        "direction": enum_value(record["direction"], DIRECTIONS, "direction", "gate.direction"),
        "visit_id": required_text(record["visit_id"], "visit_id", "gate.visit_id"),
        "truck_id": _truck_id(record.get("truck_id")),
        "container_ids": _container_ids(record.get("container_ids")),
        "outcome": enum_value(record["outcome"], OUTCOMES, "outcome", "gate.outcome"),
        "processing_s": _processing_s(record.get("processing_s")),
    }


def sniff_gate_format(path: Path) -> str:
    """"csv" or "jsonl" for a readable gate file; raises `FeedReadError` otherwise."""
    return sniff_csv_or_jsonl(head_lines(path), path, REQUIRED)


def read_gate(path: str | Path, fmt: str = "auto", progress: bool = False) -> AdapterResult:
    """Read a gate transaction log (CSV or JSON lines, see docs/formats/gate.md).

    `fmt`: "auto" (sniffed from the first line), "csv" or "jsonl". `progress` shows a tqdm bar
    on stderr. Returns frames {"gate_event": ...} in the canonical schema plus rejected rows
    (rules `gate.*`); items read = non-blank data lines. Raises `FeedReadError` when the file
    cannot be read at all (missing, binary, unknown format, CSV header without required columns).
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"gate format {fmt!r} is not one of {', '.join(FORMATS)}")
    return read_event_file(
        path, fmt, "gate", "gate_event", GATE_EVENT, REQUIRED, parse_gate_record, progress
    )
