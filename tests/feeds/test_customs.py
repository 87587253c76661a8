"""Customs milestone adapter: the documented example, enum messages, garbage never raising."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds._common import FeedReadError
from feeds.customs import read_customs
from feeds.schema import CUSTOMS_EVENT

DATA = Path(__file__).parents[1] / "data" / "feeds"
HEADER = "ts,declaration_id,call_id,mode,stage,channel"
GOOD = "2026-11-27T07:05:41+08:00,671620261000004512,ZJ-CALL-1,sea,risk_assessed,green"


def _csv(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "customs.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_csv_example_accepts_fourteen_and_rejects_five() -> None:
    result = read_customs(DATA / "customs_example.csv")
    assert (result.items_read, result.items_accepted, result.rejected.height) == (19, 14, 5)
    assert result.accounting_holds()
    frame = result.frames["customs_event"]
    assert frame.schema == pl.Schema(CUSTOMS_EVENT)
    # Line 2: arrival at 06:40 +08:00 = 22:40 UTC the day before; no channel before assessment.
    assert frame.row(0) == (
        datetime(2026, 11, 26, 22, 40, tzinfo=UTC), "671620261000004512",
        "ZJ-2026-1127-MSCAURORA", "sea", "arrival", None,
    )
    # Line 10: given in UTC with Z.
    assert frame.row(8) == (
        datetime(2026, 11, 27, 1, 30, tzinfo=UTC), "671620261000004530",
        "ZJ-2026-1127-MSCAURORA", "sea", "inspection_start", "red",
    )
    # Line 13: a road declaration has no vessel call.
    assert frame.row(11)[2:] == (None, "road", "lodged", None)
    # Green channel: lodged 07:05:13, released 07:06:02 → 49 s from lodgement to release.
    green = frame.filter(pl.col("declaration_id") == "671620261000004512")
    lodged, released = (green.filter(pl.col("stage") == s)["ts_utc"][0]
                        for s in ("lodged", "released"))
    assert (released - lodged).total_seconds() == 49
    assert result.rejected.select("line", "rule").rows() == [
        (16, "customs.ts_no_offset"),
        (17, "customs.mode"),
        (18, "customs.stage"),
        (19, "customs.channel"),
        (20, "customs.channel_missing"),
    ]
    assert result.rejected["detail"].to_list()[1:4] == [
        "mode 'ship' is not one of sea, road, air, rail",
        "stage 'cleared' is not one of arrival, lodged, risk_assessed, inspection_start, "
        "inspection_end, released, exit",
        "channel 'amber' is not one of green, yellow, red",
    ]


def test_jsonl_example_gives_the_same_rows_as_the_csv() -> None:
    from_csv = read_customs(DATA / "customs_example.csv")
    from_json = read_customs(DATA / "customs_example.jsonl")
    assert from_json.frames["customs_event"].equals(from_csv.frames["customs_event"])
    assert from_json.reasons() == from_csv.reasons()
    assert from_json.rejected["line"].to_list() == [15, 16, 17, 18, 19]  # no header line


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("2026-11-27T07:05:41+08:00,,ZJ-CALL-1,sea,lodged,", "customs.declaration_id"),
        ("2026-11-27T07:05:41+08:00,D 1,ZJ-CALL-1,sea,lodged,", "customs.declaration_id"),
        ("2026-11-27T07:05:41+08:00,D1,ZJ CALL,sea,lodged,", "customs.call_id"),
        ("2026-11-27T07:05:41+08:00,D1,,SEA,Released,", "customs.channel_missing"),
        ("2026-11-27T07:05:41+0800,D1,,pipeline,lodged,", "customs.mode"),
        ("2026-11-27T25:05:41+08:00,D1,,sea,lodged,", "customs.ts"),
    ],
)
def test_each_rule(tmp_path: Path, line: str, rule: str) -> None:
    result = read_customs(_csv(tmp_path, line))
    assert result.rejected["rule"].to_list() == [rule]


def test_json_number_where_text_is_expected_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"ts": "2026-11-27T07:05:41Z", "declaration_id": 671620261000004512, '
                    '"mode": "sea", "stage": "lodged"}\n', encoding="utf-8")
    result = read_customs(path)
    assert result.rejected.select("rule", "detail").row(0) == (
        "customs.declaration_id", "declaration_id must be a string, got 671620261000004512"
    )


def test_enums_are_case_insensitive(tmp_path: Path) -> None:
    result = read_customs(_csv(tmp_path, "2026-11-27T07:05:41+08:00,D1,,Rail,RELEASED, Yellow "))
    assert result.frames["customs_event"].select("mode", "stage", "channel").row(0) == (
        "rail", "released", "yellow"
    )


def test_header_without_stage_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("ts,declaration_id,mode\n2026-11-27T07:05:41Z,D1,sea\n", encoding="utf-8")
    with pytest.raises(FeedReadError, match="stage"):
        read_customs(path)


_garbage_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=100)
_near_valid = st.builds(
    lambda cut, junk: GOOD[:cut] + junk, st.integers(0, len(GOOD)), _garbage_text
)
_lines = st.lists(st.one_of(_garbage_text, _near_valid, st.just(GOOD)), max_size=15)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_lines)
def test_garbage_lines_never_raise_and_every_item_is_counted(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, header in (("csv", [HEADER]), ("jsonl", [])):
            path = Path(tmp) / f"customs.{fmt}"
            path.write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
            result = read_customs(path, fmt=fmt)
            assert result.items_read == sum(1 for line in lines if line.strip())
            assert result.accounting_holds()
            assert result.frames["customs_event"].schema == pl.Schema(CUSTOMS_EVENT)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_either_read_or_refused_with_feed_read_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customs.jsonl"
        path.write_bytes(data)
        try:
            result = read_customs(path, fmt="jsonl")
        except FeedReadError:
            return
        assert result.accounting_holds()


def test_documented_example_is_the_fixture() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "formats" / "customs.md").read_text(
        encoding="utf-8")
    block = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    assert block == (DATA / "customs_example.csv").read_text(encoding="utf-8")
