"""NMEA envelopes, fragments, rules and accounting on hand-built fixtures with exact values.

Payloads come from gpsd's sample.aivdm (values checked in test_ais_golden.py) or were made
with pyais.encode_dict; each expected time is worked out in a comment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import feeds.ais
from feeds.ais import NmeaDecoder, parse_nmea_lines, read_ais
from feeds.ais.rules import eta_after

DATA = Path(__file__).parents[1] / "data" / "ais"
CLOCK = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def lines_of(name: str) -> list[str]:
    return (DATA / name).read_text().split("\n")[:-1]


def test_tag_block_time_station_and_checksum() -> None:
    result = read_ais(DATA / "tagblock.nmea", default_ts_utc=CLOCK)
    assert result.accounting_holds() and result.items_read == 7
    positions = result.frames["ais_position"].to_dicts()
    # c:1745574445 (seconds) = 2025-04-25 09:47:25 UTC; c:1745574446123 is milliseconds.
    assert [(p["mmsi"], p["ts_utc"]) for p in positions] == [
        (371798000, datetime(2025, 4, 25, 9, 47, 25, tzinfo=UTC)),
        (440348000, datetime(2025, 4, 25, 9, 47, 26, 123000, tzinfo=UTC)),  # !BSVDM talker
        (563808000, datetime(2025, 4, 25, 9, 47, 28, tzinfo=UTC)),  # tag without checksum
    ]
    assert set(result.frames["ais_position"]["source"].cast(str)) == {"tagblock.nmea"}
    assert result.rejected.select("line", "rule").rows() == [
        (4, "nmea.tag_checksum"),
        (5, "time.unparseable"),
    ]
    assert "c:17455x4447" in result.rejected["detail"][1]
    assert result.rejected["raw"][0] == lines_of("tagblock.nmea")[3]
    assert set(result.rejected["source_file"]) == {"tagblock.nmea"}
    # The g:1-2-4242 group reassembles; its time is its first fragment's c:1745574500
    # = 09:48:20, and the year-less ETA 15 May 14:00 falls later in 2025.
    (static,) = result.frames["ais_static"].to_dicts()
    assert static["mmsi"] == 351759000 and static["name"] == "EVER DIADEM"
    assert static["ts_utc"] == datetime(2025, 4, 25, 9, 48, 20, tzinfo=UTC)
    assert static["eta_utc"] == datetime(2025, 5, 15, 14, 0, tzinfo=UTC)


def test_gatehouse_wrapper_time_and_accounting() -> None:
    result = read_ais(DATA / "pghp.nmea", default_ts_utc=CLOCK)
    assert result.accounting_holds() and result.items_read == 13
    positions = result.frames["ais_position"].to_dicts()
    assert [(p["mmsi"], p["ts_utc"]) for p in positions] == [
        (563808000, datetime(2010, 6, 11, 11, 46, 11, 390000, tzinfo=UTC)),
        (371798000, datetime(2010, 6, 11, 11, 46, 12, tzinfo=UTC)),
        # Its wrapper says month 13: the wrapper is rejected, the sentence takes the default.
        (440348000, CLOCK),
    ]
    (static,) = result.frames["ais_static"].to_dicts()
    # Both fragments wrapped; the message time is the first fragment's wrapper, and ETA
    # 15 May 14:00 after 11 June 2010 is in 2011.
    assert static["ts_utc"] == datetime(2010, 6, 11, 11, 46, 13, tzinfo=UTC)
    assert static["eta_utc"] == datetime(2011, 5, 15, 14, 0, tzinfo=UTC)
    # Wrapper + sentence lines of the three accepted positions/static (2+2+4) and the lone
    # sentence after the bad wrapper = 9 accepted lines.
    assert result.items_accepted == 9
    assert result.rejected.select("line", "rule").rows() == [
        (10, "time.unparseable"),
        (12, "nmea.orphan_wrapper"),  # followed by another wrapper
        (13, "nmea.checksum"),  # the wrapper shares the fate of its corrupt sentence
        (14, "nmea.checksum"),
    ]


def test_uscg_trailing_fields_give_time_and_station() -> None:
    result = read_ais(DATA / "uscg.nmea", default_ts_utc=CLOCK)
    assert result.accounting_holds() and result.items_accepted == 4
    positions = result.frames["ais_position"].to_dicts()
    # 1242958962 s = 2009-05-22 02:22:42 UTC; the second line ends in T59.01... (no time).
    assert [(p["mmsi"], p["ts_utc"]) for p in positions] == [
        (368161000, datetime(2009, 5, 22, 2, 22, 42, tzinfo=UTC)),
        (338088483, CLOCK),
    ]
    (static,) = result.frames["ais_static"].to_dicts()
    assert static["ts_utc"] == datetime(2009, 5, 22, 2, 22, 50, tzinfo=UTC)  # 1242958970


def test_interleaved_fragments_reassemble_per_station() -> None:
    result = read_ais(DATA / "interleaved.nmea", default_ts_utc=CLOCK)
    assert result.accounting_holds() and result.items_read == 7 and result.items_accepted == 5
    statics = result.frames["ais_static"].to_dicts()
    # Station A's type 5 (EVER DIADEM) and station B's (HEALTH CONTROL 13, per pyais) share
    # channel A and sequence id 1 and arrive interleaved.
    assert [(s["mmsi"], s["name"], s["ts_utc"]) for s in statics] == [
        (351759000, "EVER DIADEM", datetime(2025, 4, 25, 9, 48, 20, tzinfo=UTC)),
        (271010059, "HEALTH CONTROL 13", datetime(2025, 4, 25, 9, 48, 21, tzinfo=UTC)),
    ]
    health = statics[1]
    assert (health["callsign"], health["ship_type"], health["length_m"], health["beam_m"]) == (
        "TCA2350", 55, 16.0, 4.0,  # pyais: to_bow 6 + to_stern 10, to_port 2 + to_starboard 2
    )
    assert health["imo"] is None and health["eta_utc"] is None  # IMO 0, ETA all n/a
    assert health["draught_m"] == 2.0
    assert result.frames["ais_position"]["mmsi"].to_list() == [371798000]
    assert result.rejected.select("line", "rule").rows() == [
        (7, "nmea.orphan_fragment"),
        (8, "nmea.incomplete_fragment"),
    ]


def test_every_rule_has_its_line() -> None:
    result = read_ais(DATA / "rejects.nmea", default_ts_utc=CLOCK)
    assert result.accounting_holds() and result.items_read == 15
    assert result.rejected.select("line", "rule").rows() == [
        (2, "nmea.checksum"),
        (3, "nmea.empty_payload"),
        (4, "nmea.bad_payload"),
        (5, "nmea.fill_bits"),
        (6, "nmea.fragment_number"),
        (7, "position.out_of_range"),
        (8, "position.out_of_range"),
        (9, "position.null_island"),
        (10, "ais.short_payload"),
        (11, "ais.unknown_type"),
        (14, "nmea.malformed"),
    ]
    details = dict(zip(result.rejected["line"], result.rejected["detail"], strict=True))
    assert details[7] == "lat=95.0 outside [-90, 90]"
    assert details[8] == "lon=-190.0 outside [-180, 180]"
    assert details[10] == "type 1 payload has 72 bits, needs 137"
    assert result.skipped == {"sentence GPRMC": 1, "type 4": 1}


def test_sentinels_become_null() -> None:
    result = read_ais(DATA / "rejects.nmea", default_ts_utc=CLOCK)
    rows = result.frames["ais_position"].to_dicts()
    # pyais.encode_dict inputs: type 18 with speed 102.3, course 360, heading 511;
    # type 1 with lat 91, lon 181, status 15.
    assert rows[0] | {"ts_utc": None, "source": None} == {
        "ts_utc": None, "mmsi": 412000003, "lat": 21.2, "lon": 110.4, "sog_kn": None,
        "cog_deg": None, "heading_deg": None, "nav_status": None, "source": None,
    }
    assert (rows[1]["mmsi"], rows[1]["lat"], rows[1]["lon"], rows[1]["nav_status"]) == (
        412000004, None, None, None,
    )
    assert (rows[1]["sog_kn"], rows[1]["cog_deg"], rows[1]["heading_deg"]) == (0.0, 0.0, 0.0)


def test_no_time_and_no_default_is_rejected_not_guessed() -> None:
    line = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
    result = parse_nmea_lines([line], "feed", first_line_no=41)
    assert result.frames["ais_position"].height == 0
    assert result.rejected.select("line", "rule", "source_file").rows() == [
        (41, "time.missing", "feed")
    ]
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_nmea_lines([line], default_ts_utc=datetime(2026, 1, 1))


def test_line_terminators_blank_and_comment_lines_are_not_items() -> None:
    lines = ["# header\r\n", "\r\n", "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\n", "   "]
    result = parse_nmea_lines(lines, default_ts_utc=CLOCK)
    assert (result.items_read, result.items_accepted) == (1, 1)


def test_streaming_decoder_carries_fragments_across_batches() -> None:
    lines = lines_of("pghp.nmea")
    whole = parse_nmea_lines(lines, default_ts_utc=CLOCK)
    decoder = NmeaDecoder("pghp.nmea", CLOCK)
    # Cut after the wrapper of the second fragment of the type 5 message: the first
    # fragment, its wrapper and that wrapper (lines 6-8) wait for the next batch.
    first = decoder.feed(lines[:8], first_line_no=1)
    assert decoder.pending_lines == 3 and first.accounting_holds()
    assert first.items_read == 4  # lines 2-5
    second = decoder.feed(lines[8:], first_line_no=9)
    last = decoder.flush()
    parts = [first, second, last]
    assert all(part.accounting_holds() for part in parts)
    assert sum(p.items_read for p in parts) == whole.items_read == 13
    assert sum(p.frames["ais_static"].height for p in parts) == 1
    assert sum(p.rejected.height for p in parts) == whole.rejected.height == 4


def test_flush_rejects_an_unfinished_message() -> None:
    decoder = NmeaDecoder("s", CLOCK)
    part = decoder.feed(lines_of("interleaved.nmea")[:2])
    assert part.items_read == 0 and decoder.pending_lines == 1
    tail = decoder.flush()
    assert tail.rejected.select("line", "rule").rows() == [(2, "nmea.incomplete_fragment")]


@pytest.mark.parametrize(
    ("parts", "after", "expected"),
    [
        # next occurrence at or after the message time
        ((5, 15, 14, 0), datetime(2026, 11, 28, tzinfo=UTC), datetime(2027, 5, 15, 14, 0)),
        ((12, 1, 6, 30), datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 12, 1, 6, 30)),
        ((11, 28, 0, 0), datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 28, 0, 0)),
        # 29 February waits for the next leap year
        ((2, 29, 0, 0), datetime(2026, 3, 1, tzinfo=UTC), datetime(2028, 2, 29, 0, 0)),
        # not-available codes: month 0, day 0, hour 24, minute 60
        ((0, 15, 14, 0), datetime(2026, 1, 1, tzinfo=UTC), None),
        ((5, 0, 14, 0), datetime(2026, 1, 1, tzinfo=UTC), None),
        ((5, 15, 24, 0), datetime(2026, 1, 1, tzinfo=UTC), None),
        ((5, 15, 14, 60), datetime(2026, 1, 1, tzinfo=UTC), None),
        ((2, 31, 0, 0), datetime(2026, 1, 1, tzinfo=UTC), None),
    ],
)
def test_eta_resolves_to_next_occurrence(
    parts: tuple[int, int, int, int], after: datetime, expected: datetime | None
) -> None:
    got = eta_after(*parts, after=after)
    assert got == (None if expected is None else expected.replace(tzinfo=UTC))
    if got is not None:
        assert timedelta(0) <= got - after < timedelta(days=366 * 4)


@pytest.mark.parametrize("name", ["sample.aivdm", "pghp.nmea", "interleaved.nmea"])
def test_file_read_in_small_batches_equals_one_batch(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = read_ais(DATA / name, default_ts_utc=CLOCK)
    # 300-byte batches cut between fragments and between wrappers and their sentences.
    monkeypatch.setattr(feeds.ais, "NMEA_BATCH_BYTES", 300)
    batched = read_ais(DATA / name, default_ts_utc=CLOCK)
    assert batched.accounting_holds()
    assert batched.items_read == whole.items_read
    assert batched.rejected.equals(whole.rejected)
    for kind in ("ais_position", "ais_static"):
        assert batched.frames[kind].equals(whole.frames[kind])


def test_late_next_fragment_is_not_spliced_onto_an_old_message() -> None:
    lines = lines_of("interleaved.nmea")
    # Station A's fragment 1 at c:1745574500, then (11 s later, past the 10 s gap) a
    # fragment 2 on the same key: it must not complete the old message.
    assert lines[5].startswith("\\s:stationA,c:1745574503*00\\")
    # XOR of "s:stationA,c:1745574511" differs from ...503's (0x00) by ord("0") ^ ord("3")
    # ^ ord("1") ^ ord("1") = 0x03, so its tag checksum is 03.
    late = lines[5].replace("c:1745574503*00", "c:1745574511*03")
    on_time = parse_nmea_lines([lines[1], lines[5]], "on time")
    assert on_time.frames["ais_static"].height == 1  # the same pair 3 s apart does chain
    result = parse_nmea_lines([lines[1], late], "late")
    assert result.frames["ais_static"].height == 0
    assert result.rejected.select("line", "rule").rows() == [
        (1, "nmea.incomplete_fragment"), (2, "nmea.orphan_fragment"),
    ]


def test_default_clock_in_another_zone_is_converted_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    line = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
    result = parse_nmea_lines([line], default_ts_utc=datetime(2026, 11, 28, 8, 0, tzinfo=shanghai))
    assert result.frames["ais_position"]["ts_utc"].to_list() == [datetime(2026, 11, 28, tzinfo=UTC)]


def test_undecodable_bytes_and_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.nmea"
    good = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n"
    path.write_bytes(good + b"\xff\xfe!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n" + good)
    result = read_ais(path, default_ts_utc=CLOCK, progress=True)
    assert result.accounting_holds() and result.items_accepted == 2
    assert result.rejected.select("line", "rule").rows() == [(2, "nmea.malformed")]
    assert "mixed.nmea" in capsys.readouterr().err  # the tqdm bar names the file
