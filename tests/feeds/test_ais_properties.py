"""Property tests: garbage, truncated sentences and shuffled fragments never raise, and every
non-blank, non-comment line is accounted exactly once (accepted, rejected or skipped)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.ais import NmeaDecoder, parse_nmea_lines
from feeds.ais.nmea import BLANK

DATA = Path(__file__).parents[1] / "data" / "ais"
CLOCK = datetime(2026, 11, 28, tzinfo=UTC)
POOL = [
    line
    for name in ("sample.aivdm", "nmea_data_sample.txt", "tagblock.nmea", "pghp.nmea",
                 "uscg.nmea", "interleaved.nmea", "rejects.nmea")
    for line in (DATA / name).read_text().split("\n")
    if line.strip() and not line.startswith("#")
]
NMEA_CHARS = st.sampled_from(list("!$\\*,0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ`abcdefw:-#@ \t\r"))


def _truncated(line: str, cut: int) -> str:
    return line[: cut % (len(line) + 1)]


def _mutated(line: str, at: int, char: str) -> str:
    at %= len(line) + 1
    return line[:at] + char + line[at + 1 :]


LINE = st.one_of(
    st.sampled_from(POOL),
    st.builds(_truncated, st.sampled_from(POOL), st.integers(0, 200)),
    st.builds(_mutated, st.sampled_from(POOL), st.integers(0, 200), NMEA_CHARS),
    st.text(NMEA_CHARS, max_size=90),
    st.text(max_size=40),
    st.just(""),
    st.just("!AIVDM,1,1,,B,,0*25"),
)
LINES = st.lists(LINE, max_size=40)


def expected_items(lines: list[str]) -> list[int]:
    """1-based numbers of the lines that are items: not blank, not a comment."""
    numbers = []
    for number, line in enumerate(lines, start=1):
        text = line.strip(BLANK)
        if text and not text.startswith("#"):
            numbers.append(number)
    return numbers


def assert_accounted(lines: list[str], result_items: int, rejected_lines: list[int]) -> None:
    items = expected_items(lines)
    assert result_items == len(items)
    assert set(rejected_lines) <= set(items)
    assert len(rejected_lines) == len(set(rejected_lines))  # one rejected row per line


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES, st.randoms(use_true_random=False))
def test_any_lines_are_accounted_exactly_once(lines: list[str], rnd: object) -> None:
    rnd.shuffle(lines)  # type: ignore[attr-defined]  # fragments and wrappers out of order
    result = parse_nmea_lines(lines, "prop", CLOCK)
    assert result.accounting_holds()
    assert_accounted(lines, result.items_read, result.rejected["line"].to_list())
    for line_no, raw in zip(result.rejected["line"], result.rejected["raw"], strict=True):
        assert raw == lines[line_no - 1].rstrip("\r\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES, st.lists(st.integers(0, 40), max_size=4))
def test_streaming_batches_account_like_one_shot(lines: list[str], cuts: list[int]) -> None:
    whole = parse_nmea_lines(lines, "prop", CLOCK)
    bounds = sorted({0, len(lines), *[c for c in cuts if c <= len(lines)]})
    decoder = NmeaDecoder("prop", CLOCK)
    parts = [
        decoder.feed(lines[start:end], first_line_no=start + 1)
        for start, end in itertools.pairwise(bounds)
    ]
    parts.append(decoder.flush())
    assert all(part.accounting_holds() for part in parts)
    assert decoder.pending_lines == 0
    assert sum(p.items_read for p in parts) == whole.items_read
    assert sum(p.items_accepted for p in parts) == whole.items_accepted
    assert sorted(line for p in parts for line in p.rejected["line"].to_list()) == sorted(
        whole.rejected["line"].to_list()
    )
    for kind in ("ais_position", "ais_static"):
        assert sum(p.frames[kind].height for p in parts) == whole.frames[kind].height


def test_time_missing_accounting_without_default() -> None:
    # Without a clock, untimed messages are rejected; every item is still accounted.
    result = parse_nmea_lines(POOL, "pool")
    assert result.accounting_holds()
    assert result.items_read == len(expected_items(POOL))
    assert result.frames["ais_position"].height > 0  # the tag-block, $PGHP and USCG ones
    assert result.reasons()["time.missing"] > 700
