"""Gate transaction adapter: the documented example, every rule, and garbage never raising."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds._common import FeedReadError
from feeds.gate import iso6346_check_digit, read_gate
from feeds.schema import GATE_EVENT, REJECTED

DATA = Path(__file__).parents[1] / "data" / "feeds"
HEADER = "ts,gate_id,lane,direction,visit_id,truck_id,container_ids,outcome,processing_s"
GOOD = "2026-11-27T08:02:11+08:00,BMCT-G1,1,in,GV1,1f44bed343287b7d,CSQU3054383,accepted,38.2"


def _csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "gate.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _one_reject(tmp_path: Path, line: str) -> tuple[str, str]:
    result = read_gate(_csv(tmp_path, line))
    assert result.items_read == 1 and result.rejected.height == 1
    return result.rejected["rule"][0], result.rejected["detail"][0]


def test_check_digit_matches_hand_calculation() -> None:
    # CSQU305438: C13 S30 Q28 U32 3 0 5 4 3 8, weights 2**0..2**9:
    # 13+60+112+256+48+0+320+512+768+4096 = 6185; 6185 mod 11 = 3 (the ISO 6346 example).
    assert iso6346_check_digit("CSQU305438") == 3
    # MSKU123456: 24+60+84+256+16+64+192+512+1280+3072 = 5560; 5560 mod 11 = 5.
    assert iso6346_check_digit("MSKU123456") == 5
    # ABCU000007: 10+24+52+256+7*512 = 3926; 3926 mod 11 = 10, written 0.
    assert iso6346_check_digit("ABCU000007") == 0


def test_csv_example_accepts_eight_and_rejects_four_with_rules() -> None:
    result = read_gate(DATA / "gate_example.csv")
    assert (result.items_read, result.items_accepted, result.rejected.height) == (12, 8, 4)
    assert result.accounting_holds()
    frame = result.frames["gate_event"]
    assert frame.schema == pl.Schema(GATE_EVENT)
    assert result.rejected.schema == pl.Schema(REJECTED)
    # Line 2: 08:02:11 at +08:00 is 00:02:11 UTC.
    assert frame.row(0) == (
        datetime(2026, 11, 27, 0, 2, 11, tzinfo=UTC), "BMCT-G1", 1, "in", "GV20261127-0001",
        "1f44bed343287b7d", ["CSQU3054383"], "accepted", pytest.approx(38.2),
    )
    assert frame["container_ids"][1].to_list() == ["MSKU1234565", "TGHU7654320"]
    assert frame["container_ids"][2].to_list() == []  # bobtail: empty field = no container
    assert frame["truck_id"][4] is None  # plate not read, manual lane
    # Line 9: 2026-11-28 08:01:30+08:00 is 00:01:30 UTC on the 28th; processing_s empty → null.
    assert frame["ts_utc"][7] == datetime(2026, 11, 28, 0, 1, 30, tzinfo=UTC)
    assert frame["processing_s"][7] is None
    rejected = result.rejected.select("source_file", "line", "rule").rows()
    assert rejected == [
        (str(DATA / "gate_example.csv"), 10, "gate.ts_no_offset"),
        (str(DATA / "gate_example.csv"), 11, "gate.container_check_digit"),
        (str(DATA / "gate_example.csv"), 12, "gate.direction"),
        (str(DATA / "gate_example.csv"), 13, "gate.truck_id_not_hashed"),
    ]
    assert result.rejected["detail"][1] == (
        "container_ids entry 'MSKU1234566' has check digit 6, ISO 6346 gives 5"
    )
    assert result.rejected["raw"][2].startswith("2026-11-27T08:15:47+08:00,BMCT-G2,1,sideways,")


def test_jsonl_example_gives_the_same_rows_as_the_csv() -> None:
    from_csv = read_gate(DATA / "gate_example.csv", fmt="csv")
    from_json = read_gate(DATA / "gate_example.jsonl")  # sniffed
    assert from_json.frames["gate_event"].equals(from_csv.frames["gate_event"])
    assert from_json.reasons() == {
        "gate.container_check_digit": 1, "gate.direction": 1, "gate.json": 1,
        "gate.truck_id_not_hashed": 1, "gate.ts_no_offset": 1,
    }
    assert from_json.items_read == 13 and from_json.accounting_holds()


@pytest.mark.parametrize(
    ("line", "rule", "detail_part"),
    [
        ("2026-11-27 08:02:11,G1,1,in,V1,,,accepted,", "gate.ts_no_offset",
         "'2026-11-27 08:02:11'"),
        ("27/11/2026 08:02,G1,1,in,V1,,,accepted,", "gate.ts", "'27/11/2026 08:02'"),
        # +08:00 would move year 1 before 0001-01-01 UTC: out of range, rejected, not raised.
        ("0001-01-01T00:00:00+08:00,G1,1,in,V1,,,accepted,", "gate.ts", "not a valid date-time"),
        ("2026-11-27T08:02:11Z,,1,in,V1,,,accepted,", "gate.gate_id", "gate_id is required"),
        ("2026-11-27T08:02:11Z,G1,0,in,V1,,,accepted,", "gate.lane", "lane '0' is outside 1-255"),
        ("2026-11-27T08:02:11Z,G1,2a,in,V1,,,accepted,", "gate.lane", "'2a'"),
        ("2026-11-27T08:02:11Z,G1,1,IN,,,,accepted,", "gate.visit_id", "visit_id is required"),
        ("2026-11-27T08:02:11Z,G1,1,in,V1,,CSQU305438,accepted,", "gate.container_format",
         "'CSQU305438'"),
        ("2026-11-27T08:02:11Z,G1,1,in,V1,,CSQU3054383,waved,", "gate.outcome",
         "outcome 'waved' is not one of accepted, rejected, manual"),
        ("2026-11-27T08:02:11Z,G1,1,in,V1,,,accepted,-3", "gate.processing_s", "'-3'"),
        ("2026-11-27T08:02:11Z,G1,1,in,V1,,,accepted,nan", "gate.processing_s", "'nan'"),
        ("2026-11-27T08:02:11Z,G1,1,in", "gate.csv_fields", "expected 9"),
    ],
)
def test_each_rule_names_field_and_value(
    tmp_path: Path, line: str, rule: str, detail_part: str
) -> None:
    got_rule, detail = _one_reject(tmp_path, line)
    assert got_rule == rule
    assert detail_part in detail


def test_enum_values_are_case_insensitive_and_stored_lowercase(tmp_path: Path) -> None:
    result = read_gate(_csv(tmp_path, "2026-11-27T08:02:11Z,G1,1,OUT,V1,,,Manual,"))
    assert result.frames["gate_event"].select("direction", "outcome").row(0) == ("out", "manual")


def test_json_missing_field_and_wrong_types_are_rejected(tmp_path: Path) -> None:
    base = json.loads(
        '{"ts":"2026-11-27T00:00:00Z","gate_id":"G1","lane":3,"direction":"in",'
        '"visit_id":"V1","outcome":"accepted"}'
    )
    lines = [
        json.dumps(base),
        json.dumps({k: v for k, v in base.items() if k != "visit_id"}),
        json.dumps({**base, "lane": True}),
        json.dumps({**base, "container_ids": "CSQU3054383"}),  # a string is accepted too
        json.dumps({**base, "container_ids": [1, 2]}),
        json.dumps({**base, "processing_s": "12.5"}),
        "",
        "null",
    ]
    path = tmp_path / "gate.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_gate(path, fmt="jsonl")
    assert result.items_read == 7  # the blank line 7 is not an item
    assert result.items_accepted == 3
    assert result.rejected.select("line", "rule").rows() == [
        (2, "gate.missing_field"), (3, "gate.lane"), (5, "gate.container_format"), (8, "gate.json"),
    ]
    assert result.frames["gate_event"]["processing_s"].to_list() == [None, None, 12.5]


def test_invalid_utf8_line_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "gate.csv"
    path.write_bytes((HEADER + "\n" + GOOD + "\n").encode() + b"2026-11-27T08:02:11Z,G\xff1\n")
    result = read_gate(path)
    assert result.items_accepted == 1
    assert result.rejected.select("line", "rule", "raw").rows() == [
        (3, "gate.encoding", "2026-11-27T08:02:11Z,G\\xff1")
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"", "empty file"),
        (b"ts,gate_id,lane\n2026-11-27T00:00:00Z,G1,1\n", "lacks required column(s) direction"),
        (b"hello world\n", "unknown format"),
    ],
)
def test_unreadable_files_raise_feed_read_error_naming_the_file(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FeedReadError, match=re.escape(message)) as info:
        read_gate(path)
    assert str(path) in str(info.value)


def test_wrong_format_name_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nmea"):
        read_gate(_csv(tmp_path, GOOD), fmt="nmea")


_garbage_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=120
)
_near_valid = st.builds(
    lambda cut, junk: GOOD[:cut] + junk, st.integers(0, len(GOOD)), _garbage_text
)
_lines = st.lists(st.one_of(_garbage_text, _near_valid, st.just(GOOD)), max_size=15)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_lines)
def test_garbage_lines_never_raise_and_every_item_is_counted(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, header in (("csv", [HEADER]), ("jsonl", [])):
            path = Path(tmp) / f"gate.{fmt}"
            path.write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
            result = read_gate(path, fmt=fmt)
            assert result.items_read == sum(1 for line in lines if line.strip())
            assert result.accounting_holds()
            assert result.frames["gate_event"].schema == pl.Schema(GATE_EVENT)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_either_read_or_refused_with_feed_read_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gate.csv"
        path.write_bytes(HEADER.encode() + b"\n" + data)
        try:
            result = read_gate(path)
        except FeedReadError:
            return
        assert result.accounting_holds()


def test_documented_example_is_the_fixture() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "formats" / "gate.md").read_text(encoding="utf-8")
    block = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    assert block == (DATA / "gate_example.csv").read_text(encoding="utf-8")
