"""Property tests: garbage, truncated sentences and shuffled fragments never raise, and every
non-blank, non-comment line is accounted exactly once (accepted, rejected or skipped)."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.ais import NmeaDecoder, parse_aisstream_lines, parse_nmea_lines, read_ais
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


FIELD = st.text(st.sampled_from(list("0123456789.-+eE :TIMOABCnaUnknow/")), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(FIELD, min_size=10, max_size=20), min_size=1, max_size=15),
       st.sampled_from(["marinecadastre_sample.csv", "dma_sample.csv"]))
def test_garbage_table_rows_never_raise(rows: list[list[str]], template: str) -> None:
    header = (DATA / template).read_text().split("\n")[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / template
        # Ragged rows (10-20 fields for 17 or 26 columns) on purpose.
        path.write_text(header + "\n" + "\n".join(",".join(row) for row in rows) + "\n")
        result = read_ais(path)
    assert result.accounting_holds()
    assert result.items_read == len(rows)
    assert set(result.rejected["line"].to_list()) <= set(range(2, len(rows) + 2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text(max_size=60), st.sampled_from(
    (DATA / "aisstream_sample.jsonl").read_text().split("\n"))), max_size=20))
def test_garbage_aisstream_lines_never_raise(lines: list[str]) -> None:
    result = parse_aisstream_lines(lines, "prop")
    assert result.accounting_holds()
    assert result.items_read == sum(1 for line in lines if line.rstrip("\r\n").strip())


FRAGMENTS = [line for line in POOL if line.split(",")[1:2] != ["1"] and "VDM" in line]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS + POOL[:40]), max_size=40), st.randoms(use_true_random=False))
def test_vectorised_pairing_equals_the_sequential_loop(lines: list[str], rnd: object) -> None:
    rnd.shuffle(lines)  # type: ignore[attr-defined]
    fast = parse_nmea_lines(lines, "prop", CLOCK)
    original = NmeaDecoder.__dict__["_assemble_pairs"]  # the staticmethod object itself

    def loop_only(f, n, final, out):  # type: ignore[no-untyped-def]
        return NmeaDecoder._assemble_loop(f.sort("_item"), n, final, out)

    setattr(NmeaDecoder, "_assemble_pairs", staticmethod(loop_only))  # noqa: B010
    try:
        slow = parse_nmea_lines(lines, "prop", CLOCK)
    finally:
        setattr(NmeaDecoder, "_assemble_pairs", original)  # noqa: B010
    assert fast.rejected.select("line", "rule").equals(slow.rejected.select("line", "rule"))
    for kind in ("ais_position", "ais_static"):
        assert fast.frames[kind].equals(slow.frames[kind])
