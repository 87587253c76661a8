"""`twin ingest` end to end: JSON report numbers, stored Parquet, errors, progress bar."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from feeds.customs import read_customs
from feeds.gate import read_gate
from feeds.store import read_history, read_rejected
from feeds.tide_gauge import read_tide
from twin.cli import main

DATA = Path(__file__).parents[1] / "data" / "feeds"
TWIN = Path(sys.executable).parent / "twin"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["ingest", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_real_command_ingests_gate_csv_and_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "store"
    done = subprocess.run(
        [str(TWIN), "ingest", str(DATA / "gate_example.csv"), str(DATA / "gate_example.jsonl"),
         "--kind", "gate", "--out", str(out), "--json"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # exactly one JSON object on stdout
    # csv: 12 read, 8 accepted, 4 rejected; jsonl: the same plus one broken object (13, 8, 5).
    assert {k: report[k] for k in ("items_read", "accepted", "rejected", "skipped", "ok")} == {
        "items_read": 25, "accepted": 16, "rejected": 9, "skipped": 0, "ok": True,
    }
    assert report["rows"] == {"gate_event": 16}
    assert report["reasons"] == {
        "gate.container_check_digit": 2, "gate.direction": 2, "gate.json": 1,
        "gate.truck_id_not_hashed": 2, "gate.ts_no_offset": 2,
    }
    assert [(f["format"], f["items_read"], f["accepted"], f["rejected"], f["accounting_ok"])
            for f in report["files"]] == [("csv", 12, 8, 4, True), ("jsonl", 13, 8, 5, True)]
    assert report["errors"] == []
    # Stored rows are exactly the adapter's rows (both files hold the same 8 transactions).
    expected = read_gate(DATA / "gate_example.csv").frames["gate_event"]
    stored = read_history(out, "gate_event").collect()
    assert stored.sort("ts_utc", "visit_id").equals(
        pl.concat([expected, expected]).sort("ts_utc", "visit_id")
    )
    written = [Path(p) for f in report["files"] for p in f["written"]]
    assert sorted({p.parent.as_posix() for p in written if p.parts[0] == "gate_event"}) == [
        "gate_event/date=2026-11-27", "gate_event/date=2026-11-28",
    ]
    # Rejected rows are filed under the ingest day (the wall clock of this run).
    assert {p.parent.parent.as_posix() for p in written if p.parts[0] == "rejected"} == {
        "rejected/gate"
    }
    rejected = read_rejected(out, "gate").collect()
    assert rejected.height == 9
    assert rejected.filter(pl.col("rule") == "gate.json")["line"].to_list() == [10]


def test_customs_numbers_and_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _err = _run(capsys, str(DATA / "customs_example.csv"), "--kind", "customs",
                              "--out", str(tmp_path))
    assert code == 0
    assert (report["items_read"], report["accepted"], report["rejected"], report["skipped"]) == (
        19, 14, 5, 0)
    assert report["reasons"] == {
        "customs.channel": 1, "customs.channel_missing": 1, "customs.mode": 1,
        "customs.stage": 1, "customs.ts_no_offset": 1,
    }
    expected = read_customs(DATA / "customs_example.csv").frames["customs_event"]
    stored = read_history(tmp_path, "customs_event").collect()
    assert stored.sort("ts_utc", "declaration_id", "stage").equals(
        expected.sort("ts_utc", "declaration_id", "stage"))
    # Before 08:00+08:00 on the 27th is the 26th UTC: 06:40, 07:05:13, 07:05:41, 07:06:02 of the
    # first declaration and 06:40, 07:12:09, 07:12:50 of the second, 7 rows.
    assert read_history(tmp_path, "customs_event", end=date(2026, 11, 27)).collect().height == 7


def test_tide_sniffs_gesla_and_csv_in_one_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gesla, csv = DATA / "zhanjiang-zjg-chn-example.gesla", DATA / "tide_example.csv"
    code, report, _err = _run(capsys, str(gesla), str(csv), "--kind", "tide",
                              "--out", str(tmp_path))
    assert code == 0
    assert [f["format"] for f in report["files"]] == ["gesla", "csv"]
    # gesla 13 read / 11 accepted / 2 rejected; csv 7 / 4 / 3.
    assert (report["items_read"], report["accepted"], report["rejected"]) == (20, 15, 5)
    assert report["reasons"] == {
        "tide.flagged": 1, "tide.null_value": 2, "tide.ts_no_offset": 1, "tide.value": 1,
    }
    # GESLA local 00-07 (+8) = 16-23 UTC on the 26th, minus the null at 21 UTC: 7 rows.
    day26 = read_history(tmp_path, "tide_obs", date(2026, 11, 26), date(2026, 11, 27)).collect()
    assert day26.height == 7
    stored = read_history(tmp_path, "tide_obs").collect()
    expected = pl.concat([read_tide(gesla).frames["tide_obs"], read_tide(csv).frames["tide_obs"]])
    assert stored.sort("ts_utc", "station_id", "level_m").equals(
        expected.sort("ts_utc", "station_id", "level_m"))


def test_text_summary_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(DATA / "tide_example.csv"), "--kind", "tide",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "7 read, 4 accepted, 3 rejected (tide.null_value 1, tide.ts_no_offset 1, " \
           "tide.value 1), 0 skipped" in out
    assert out.splitlines()[-1].startswith("total: 7 read, 4 accepted, 3 rejected, 0 skipped;")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "no such file"),
        (bytes(range(256)) * 8, "binary data"),
        (b"MMSI;time;lat\n1;2;3\n", "unknown format"),
    ],
)
def test_unreadable_file_fails_naming_it_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, why: str
) -> None:
    bad = tmp_path / "bad.csv"
    if content is not None:
        bad.write_bytes(content)
    out = tmp_path / "store"
    code, report, err = _run(capsys, str(DATA / "gate_example.csv"), str(bad), "--kind", "gate",
                             "--out", str(out))
    assert code == 1
    assert f"twin ingest: error: {bad}: {why}" in err
    assert report["ok"] is False and len(report["errors"]) == 1 and why in report["errors"][0]
    assert report["files"][1]["error"] == report["errors"][0]
    assert not out.exists() or list(out.rglob("*.parquet")) == []


def test_explicit_wrong_format_fails_that_file_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, err = _run(capsys, str(DATA / "customs_example.csv"),
                             str(DATA / "customs_example.jsonl"), "--kind", "customs",
                             "--format", "csv", "--out", str(tmp_path))
    assert code == 1
    assert "customs_example.jsonl" in err and "CSV header lacks" in err
    assert report["accepted"] == 14  # the CSV file was still ingested
    assert read_history(tmp_path, "customs_event").collect().height == 14


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kind", "gate", "--format", "nmea"], "--format nmea does not apply to --kind gate"),
        (["--kind", "tide", "--map", "m.toml"], "--map applies to --kind ais only"),
        (["--kind", "ais", "--default-ts-utc", "2026-11-27 08:00"], "has no UTC offset"),
    ],
)
def test_options_that_do_not_fit_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["ingest", str(DATA / "tide_example.csv"), *argv, "--out", str(tmp_path)])
    assert code == 2
    assert message in capsys.readouterr().err


def test_progress_bar_on_long_files_only_and_not_with_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = [line for line in (DATA / "zhanjiang-zjg-chn-example.gesla").read_text().splitlines()
              if line.startswith("#")]
    big = tmp_path / "zhanjiang-big.gesla"
    # 40 000 lines of 36 bytes ≈ 1.4 MiB, over the 1 MiB threshold.
    rows = [f"2026/11/{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}:00     2.0000 1 1"
            for i in range(40_000)]
    big.write_text("\n".join(header + rows) + "\n")
    assert big.stat().st_size > 1 << 20
    code, report, err = _run(capsys, str(big), "--kind", "tide", "--out", str(tmp_path / "a"))
    assert code == 0 and report["accepted"] == 40_000
    assert "zhanjiang-big.gesla" in err  # tqdm's description, on stderr
    code, report, err = _run(capsys, str(big), "--kind", "tide", "--out", str(tmp_path / "b"),
                             "--quiet")
    assert code == 0 and err == ""
    _code, _report, err = _run(capsys, str(DATA / "tide_example.csv"), "--kind", "tide",
                               "--out", str(tmp_path / "c"))
    assert err == ""  # a small file gets no bar


def test_real_command_ingests_ais_nmea(tmp_path: Path) -> None:
    from feeds.ais import read_ais

    sample = tmp_path / "ais_nmea_sample.txt"
    shutil.copy(DATA / "ais_nmea_sample.txt", sample)
    out = tmp_path / "store"
    done = subprocess.run(
        [str(TWIN), "ingest", str(sample), "--kind", "ais", "--out", str(out),
         "--default-ts-utc", "2026-11-27T08:00:00+08:00", "--json"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # 40 lines: 35 position reports (types 1, 3, 18) and 5 `!AIVDM,1,1,,X,,0*2x` empty payloads.
    assert [report[k] for k in ("items_read", "accepted", "rejected", "skipped")] == [40, 35, 5, 0]
    assert report["rows"] == {"ais_position": 35, "ais_static": 0}
    assert report["reasons"] == {"nmea.empty_payload": 5}
    assert report["files"][0]["format"] == "nmea"
    expected = read_ais(sample, default_ts_utc=datetime(2026, 11, 27, tzinfo=UTC))
    stored = read_history(out, "ais_position").collect()
    assert stored.sort("mmsi", "lat").equals(
        expected.frames["ais_position"].sort("mmsi", "lat"))
    assert stored["ts_utc"].unique().to_list() == [datetime(2026, 11, 27, tzinfo=UTC)]


def test_ais_unreadable_files_fail_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "capture.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    missing = tmp_path / "missing.nmea"
    code, report, err = _run(capsys, str(binary), str(missing), "--kind", "ais",
                             "--out", str(tmp_path / "store"))
    assert code == 1
    assert f"{binary}: binary data" in err and f"{missing}: no such file" in err
    assert [f["error"] is not None for f in report["files"]] == [True, True]
    assert not (tmp_path / "store").exists()


def test_store_write_failure_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import feeds.store

    def full(frame: pl.DataFrame, directory: Path) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(feeds.store, "write_part", full)
    code, report, err = _run(capsys, str(DATA / "tide_example.csv"), "--kind", "tide",
                             "--out", str(tmp_path))
    assert code == 1
    assert f"{tmp_path}: cannot write the history store (No space left on device)" in err
    assert report["ok"] is False


def test_out_that_is_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["ingest", str(DATA / "tide_example.csv"), "--kind", "tide",
                 "--out", str(target)]) == 2
    assert "is not a directory" in capsys.readouterr().err
