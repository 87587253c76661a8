"""Tide gauge adapter: GESLA-3 header and flags, time zone to UTC, plain CSV, garbage."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds._common import FeedReadError
from feeds.schema import TIDE_OBS
from feeds.tide_gauge import read_tide, sniff_tide_format

DATA = Path(__file__).parents[1] / "data" / "feeds"
GESLA = DATA / "zhanjiang-zjg-chn-example.gesla"
GOOD = "2026/11/27 00:00:00     2.9120 1 1"


def _gesla(tmp_path: Path, header: list[str], lines: list[str]) -> Path:
    path = tmp_path / "station.txt"
    path.write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
    return path


def test_gesla_example_shifts_utc8_and_rejects_null_and_flagged() -> None:
    result = read_tide(GESLA)
    assert sniff_tide_format(GESLA) == "gesla"
    assert (result.items_read, result.items_accepted, result.rejected.height) == (13, 11, 2)
    assert result.accounting_holds()
    frame = result.frames["tide_obs"]
    assert frame.schema == pl.Schema(TIDE_OBS)
    # TIME ZONE HOURS 8: 2026/11/27 00:00:00 local = 2026-11-26 16:00 UTC.
    assert frame.row(0) == (datetime(2026, 11, 26, 16, tzinfo=UTC), "ZJG", 2.912)
    # The last line, 12:00 local, is 04:00 UTC.
    assert frame.row(10) == (datetime(2026, 11, 27, 4, tzinfo=UTC), "ZJG", 2.041)
    # qc 2 (interpolated, use 1) and qc 0 (no QC, use 1) are kept: GESLA says use them.
    assert frame.filter(pl.col("level_m") == 1.988).height == 1
    assert frame.filter(pl.col("level_m") == 1.492).height == 1
    assert result.rejected.select("line", "rule", "raw").rows() == [
        (30, "tide.null_value", "2026/11/27 05:00:00   -99.9999 5 0"),
        (34, "tide.flagged", "2026/11/27 09:00:00     7.8300 4 0"),
    ]
    assert result.rejected["detail"][0] == (
        "value '-99.9999' is the file's NULL VALUE (missing observation)"
    )


def test_station_override_and_datum_offset(tmp_path: Path) -> None:
    result = read_tide(GESLA, station_id="zhanjiang-tg", datum_offset_m=-0.5)
    # 2.912 m on the file's datum - 0.5 m = 2.412 m above chart datum.
    assert result.frames["tide_obs"].row(0)[1:] == ("zhanjiang-tg", pytest.approx(2.412))


def test_gesla_rules_and_custom_null_value(tmp_path: Path) -> None:
    header = ["# SITE NAME Nanshan", "# TIME ZONE HOURS -5.5", "# NULL VALUE -9999"]
    lines = [
        "2026/01/01 00:00:00 1.000 1 1",  # -5.5 h: 05:30 UTC
        "2026/01/01 01:00:00 -9999 5 0",  # this file's null value
        "2026/01/01 02:00:00 -99.9999 1 1",  # not null here: an (implausible) level, accepted
        "2026/02/30 00:00:00 1.0 1 1",
        "2026/01/01 03:00:00 1,5 1 1",
        "2026/01/01 04:00:00 1.5 7 1",
        "2026/01/01 05:00:00 1.5 1 2",
        "2026/01/01 06:00 1.5 1 1",
        "   ",
        "# a comment between data lines is not an item",
        "2026/01/01 07:00:00\t1.25\t3\t0",
    ]
    result = read_tide(_gesla(tmp_path, header, lines))
    assert result.items_read == 9
    assert result.frames["tide_obs"].rows() == [
        (datetime(2026, 1, 1, 5, 30, tzinfo=UTC), "Nanshan", 1.0),
        (datetime(2026, 1, 1, 7, 30, tzinfo=UTC), "Nanshan", -99.9999),
    ]
    assert result.rejected.select("line", "rule").rows() == [
        (5, "tide.null_value"), (7, "tide.ts"), (8, "tide.value"), (9, "tide.flag_format"),
        (10, "tide.flag_format"), (11, "tide.format"), (14, "tide.flagged"),
    ]
    assert result.accounting_holds()


def test_gesla_without_time_zone_is_not_read(tmp_path: Path) -> None:
    path = _gesla(tmp_path, ["# SITE NAME Nanshan"], [GOOD])
    with pytest.raises(FeedReadError, match="TIME ZONE HOURS"):
        read_tide(path)


def test_csv_example() -> None:
    path = DATA / "tide_example.csv"
    assert sniff_tide_format(path) == "csv"
    result = read_tide(path)
    assert result.frames["tide_obs"].rows() == [
        (datetime(2026, 11, 27, 0, tzinfo=UTC), "ZJG", 3.179),
        (datetime(2026, 11, 27, 1, tzinfo=UTC), "ZJG", 2.603),
        (datetime(2026, 11, 27, 2, tzinfo=UTC), "ZJG", 1.099),  # 10:00+08:00
        (datetime(2026, 11, 27, 3, 30, 0, 500000, tzinfo=UTC), "NANSAN", 1.25),
    ]
    assert result.rejected.select("line", "rule").rows() == [
        (6, "tide.ts_no_offset"), (7, "tide.null_value"), (8, "tide.value"),
    ]
    assert result.accounting_holds()


def test_unknown_tide_format_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("station;time;level\n", encoding="utf-8")
    with pytest.raises(FeedReadError, match="unknown format"):
        read_tide(path)


_garbage_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)
_near_valid = st.builds(
    lambda cut, junk: GOOD[:cut] + junk, st.integers(0, len(GOOD)), _garbage_text
)
_lines = st.lists(st.one_of(_garbage_text, _near_valid, st.just(GOOD)), max_size=15)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_lines)
def test_garbage_lines_never_raise_and_every_item_is_counted(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.txt"
        path.write_text("\n".join(["# TIME ZONE HOURS 0", *lines]) + "\n", encoding="utf-8")
        result = read_tide(path, fmt="gesla")
        expected = sum(1 for line in lines if line.strip() and not line.lstrip().startswith("#"))
        assert result.items_read == expected
        assert result.accounting_holds()
        assert result.frames["tide_obs"].schema == pl.Schema(TIDE_OBS)

        path = Path(tmp) / "tide.csv"
        path.write_text("\n".join(["ts_utc,station_id,level_m", *lines]) + "\n", encoding="utf-8")
        result = read_tide(path, fmt="csv")
        assert result.items_read == sum(1 for line in lines if line.strip())
        assert result.accounting_holds()


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_either_read_or_refused_with_feed_read_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.txt"
        path.write_bytes(b"# TIME ZONE HOURS 8\n" + data)
        try:
            result = read_tide(path)
        except FeedReadError:
            return
        assert result.accounting_holds()


def test_documented_examples_are_the_fixtures() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "formats" / "tide.md").read_text(encoding="utf-8")
    gesla_block = doc.split("```text\n", 1)[1].split("```", 1)[0]
    csv_block = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    assert gesla_block == GESLA.read_text(encoding="utf-8")
    assert csv_block == (DATA / "tide_example.csv").read_text(encoding="utf-8")
