"""MarineCadastre, DMA, aisstream and mapped-CSV readers, format sniffing and file errors.

Expected values are read off the hand-built fixtures; conversions are worked in comments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.ais import AisFormatError, read_ais, sniff_ais_format
from feeds.schema import AIS_POSITION, AIS_STATIC

DATA = Path(__file__).parents[1] / "data" / "ais"
MAPPING = DATA / "mapping_example.toml"


def _t(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("sample.aivdm", "nmea"),
        ("nmea_data_sample.txt", "nmea"),
        ("pghp.nmea", "nmea"),
        ("tagblock.nmea", "nmea"),
        ("marinecadastre_sample.csv", "marinecadastre"),
        ("dma_sample.csv", "dma"),
        ("aisstream_sample.jsonl", "aisstream"),
        ("mapping_example.csv", "csv"),
    ],
)
def test_sniff_names_each_fixture_format(name: str, fmt: str) -> None:
    assert sniff_ais_format(DATA / name) == fmt


def test_unreadable_or_unknown_files_raise_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(AisFormatError, match=r"missing\.nmea"):
        read_ais(tmp_path / "missing.nmea")
    with pytest.raises(AisFormatError, match=r"missing\.csv"):
        read_ais(tmp_path / "missing.csv", fmt="marinecadastre")
    prose = tmp_path / "prose.txt"
    prose.write_text("Hello there\nnothing AIS here\n")
    with pytest.raises(AisFormatError, match=r"prose\.txt"):
        sniff_ais_format(prose)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(AisFormatError, match=r"blob\.bin"):
        read_ais(blob)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(AisFormatError, match=r"empty\.txt"):
        sniff_ais_format(empty)
    with pytest.raises(AisFormatError, match="mapping"):
        read_ais(DATA / "mapping_example.csv")  # generic CSV without its mapping
    wrong = tmp_path / "AIS_2023_01_01.csv"
    wrong.write_text("MMSI,BaseDateTime,LAT\n1,2,3\n")
    with pytest.raises(AisFormatError, match="LON"):
        read_ais(wrong)


def test_marinecadastre_quirks() -> None:
    result = read_ais(DATA / "marinecadastre_sample.csv")
    assert result.accounting_holds() and result.items_read == 11 and result.items_accepted == 6
    positions = result.frames["ais_position"]
    assert positions.schema == AIS_POSITION
    rows = {(r["mmsi"], r["ts_utc"]): r for r in positions.to_dicts()}
    # Naive BaseDateTime labelled UTC; "0.0" status is 0; heading 511.0 → null.
    first = rows[(367004670, _t(2023, 1, 1, 0, 0, 6))]
    assert (first["lat"], first["lon"], first["nav_status"], first["heading_deg"]) == (
        29.93574, -89.99012, 0, None,
    )
    # Class B: blank Status → null; SOG 102.3 and COG 360.0 → null.
    class_b = rows[(338123456, _t(2023, 1, 1, 0, 0, 12))]
    assert (class_b["nav_status"], class_b["sog_kn"], class_b["cog_deg"]) == (None, None, None)
    # LAT 91 / LON 181 are "not available" (kept as a row with null position); Status 15.0.
    no_fix = rows[(367999999, _t(2023, 1, 1, 0, 0, 15))]
    assert (no_fix["lat"], no_fix["lon"], no_fix["nav_status"]) == (None, None, None)
    assert result.rejected.select("line", "rule").rows() == [
        (7, "position.out_of_range"),
        (8, "position.null_island"),
        (9, "time.unparseable"),
        (10, "time.missing"),
        (11, "csv.bad_number"),
    ]
    assert result.rejected["detail"][4] == "MMSI='36744x444' is not a number"
    assert result.rejected["raw"][0] == (DATA / "marinecadastre_sample.csv").read_text().split(
        "\n")[6]


def test_marinecadastre_static_rows_once_per_distinct_value() -> None:
    static = read_ais(DATA / "marinecadastre_sample.csv").frames["ais_static"]
    assert static.schema == AIS_STATIC
    rows = {r["mmsi"]: r for r in static.to_dicts()}
    # FAIRCHEM BRONCO appears twice with identical static data: one row, at its first time.
    assert static["mmsi"].to_list().count(538007480) == 1
    bronco = rows[538007480]
    assert (bronco["ts_utc"], bronco["imo"], bronco["ship_type"]) == (
        _t(2023, 1, 1, 0, 0, 9), 9627980, 80,  # "IMO9627980", VesselType "80.0"
    )
    assert (bronco["length_m"], bronco["beam_m"], bronco["draught_m"]) == (183.0, 32.0,
                                                                          pytest.approx(11.8))
    # IMO0000000 → null, VesselType 0.0 → null, VesselType 1004 (> 99) → null; 0.0 dims → null.
    assert rows[367999999]["imo"] is None and rows[367999999]["ship_type"] is None
    assert rows[367555555]["ship_type"] is None
    assert (rows[338123456]["length_m"], rows[338123456]["draught_m"]) == (None, None)
    # Rejected rows give no static data.
    assert 367111111 not in rows and 367222222 not in rows


def test_dma_quirks() -> None:
    result = read_ais(DATA / "dma_sample.csv")
    assert result.accounting_holds() and result.items_read == 7 and result.items_accepted == 3
    assert result.skipped == {"mobile AtoN": 1, "mobile Base Station": 1}
    positions = result.frames["ais_position"].to_dicts()
    # The real DMA row quoted in feeds.md §1.5.
    assert positions[0] == {
        "ts_utc": _t(2023, 3, 18), "mmsi": 352002266, "lat": 55.4921, "lon": 14.7525,
        "sog_kn": 12.5, "cog_deg": pytest.approx(241.8), "heading_deg": 241.0, "nav_status": 0,
        "source": "dma_sample.csv",
    }
    assert positions[1]["nav_status"] == 5  # "Moored"
    # Day-first: 05/04/2023 is 5 April; "Unknown value" status → null.
    assert (positions[2]["ts_utc"], positions[2]["nav_status"]) == (_t(2023, 4, 5, 0, 0, 3), None)
    assert result.rejected.select("line", "rule").rows() == [
        (6, "position.out_of_range"),
        (8, "time.unparseable"),  # 31/02/2023
    ]
    static = {r["mmsi"]: r for r in result.frames["ais_static"].to_dicts()}
    assert set(static) == {219000873, 211234567}  # the first row has only Unknown/Undefined
    nordic = static[219000873]
    assert (nordic["name"], nordic["callsign"], nordic["imo"], nordic["ship_type"]) == (
        "NORDIC STAR", "OXYN2", 9198240, 70,  # "Cargo" → 70
    )
    assert (nordic["length_m"], nordic["beam_m"], nordic["destination"]) == (110.0, 16.0,
                                                                              "AARHUS")
    assert nordic["eta_utc"] == _t(2023, 3, 19, 6, 0)
    assert static[211234567]["ship_type"] == 36  # "Sailing"
    assert static[211234567]["destination"] is None  # "Unknown"


def test_aisstream_messages() -> None:
    result = read_ais(DATA / "aisstream_sample.jsonl")
    assert result.accounting_holds() and result.items_read == 7 and result.items_accepted == 3
    assert result.skipped == {"aisstream BaseStationReport": 1}
    a, b = result.frames["ais_position"].to_dicts()
    # Go time "2026-04-25 09:47:25.26746452 +0000 UTC" truncated to microseconds.
    assert a["ts_utc"] == datetime(2026, 4, 25, 9, 47, 25, 267464, tzinfo=UTC)
    assert (a["mmsi"], a["lat"], a["lon"], a["heading_deg"], a["nav_status"]) == (
        412345678, 21.195, 110.41, None, 0,  # TrueHeading 511 → null
    )
    assert (b["mmsi"], b["sog_kn"], b["cog_deg"], b["heading_deg"], b["nav_status"]) == (
        412000111, None, None, 45.0, None,  # class B: Sog 102.3 and Cog 360 → null
    )
    (static,) = result.frames["ais_static"].to_dicts()
    assert (static["name"], static["callsign"], static["destination"]) == (
        "ZHANJIANG STAR", "BQXY7", "ZHANJIANG",  # '@' padding and blanks removed
    )
    assert (static["imo"], static["ship_type"], static["length_m"], static["beam_m"]) == (
        9876543, 70, 190.0, 32.0,  # A 150 + B 40, C 16 + D 16
    )
    # ETA 2 Jan 06:30 after 30 Dec 2026 23:00 is in 2027.
    assert static["eta_utc"] == _t(2027, 1, 2, 6, 30)
    assert result.rejected.select("line", "rule").rows() == [
        (5, "position.null_island"),
        (6, "time.unparseable"),
        (7, "json.malformed"),
    ]


def test_mapped_csv_converts_units_and_zone() -> None:
    result = read_ais(DATA / "mapping_example.csv", mapping=MAPPING)
    assert result.accounting_holds() and result.items_read == 4 and result.items_accepted == 3
    rows = result.frames["ais_position"].to_dicts()
    # 28.11.2026 08:00:00 Asia/Shanghai (UTC+8) = 00:00:00 UTC; 2.572222 m/s × 3600/1852
    # = 4.9999996 kn; heading 511 → null.
    assert rows[0]["ts_utc"] == _t(2026, 11, 28, 0, 0, 0)
    assert rows[0]["sog_kn"] == pytest.approx(5.0, abs=1e-5)
    assert (rows[0]["cog_deg"], rows[0]["heading_deg"], rows[0]["nav_status"]) == (90.0, 91.0, 0)
    assert rows[1]["heading_deg"] is None and rows[1]["nav_status"] == 5
    # An empty lon is unknown, not an error; 1.0 m/s = 1.943844 kn.
    assert rows[2]["lon"] is None and rows[2]["sog_kn"] == pytest.approx(1.943844, abs=1e-6)
    assert result.rejected.select("line", "rule").rows() == [(4, "time.unparseable")]


def test_bad_mapping_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\ntime = "when"\n')
    with pytest.raises(AisFormatError, match=r"bad.toml.*lacks"):
        read_ais(DATA / "mapping_example.csv", mapping=bad)
    units = tmp_path / "units.toml"
    units.write_text(MAPPING.read_text().replace('speed = "m/s"', 'speed = "mph"'))
    with pytest.raises(AisFormatError, match="mph"):
        read_ais(DATA / "mapping_example.csv", mapping=units)
    absent = tmp_path / "absent.toml"
    absent.write_text(MAPPING.read_text().replace('lat = "y"', 'lat = "latitude"'))
    with pytest.raises(AisFormatError, match="latitude"):
        read_ais(DATA / "mapping_example.csv", mapping=absent)


def test_unknown_words_and_padded_numbers_are_not_errors(tmp_path: Path) -> None:
    header = (DATA / "marinecadastre_sample.csv").read_text().split("\n")[0]
    path = tmp_path / "AIS_2023_01_02.csv"
    path.write_text(
        header + "\n"
        "367004670,2023-01-02T00:00:06, 29.5 ,-89.5,Unknown,nan,511.0,X,,,31.0,0.0,,,,,A\n"
    )
    result = read_ais(path)
    assert result.accounting_holds() and result.rejected.height == 0
    (row,) = result.frames["ais_position"].to_dicts()
    assert (row["lat"], row["lon"], row["sog_kn"], row["cog_deg"]) == (29.5, -89.5, None, None)
