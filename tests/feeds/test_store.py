"""History store: exact round trip, day partitions, pushdown, crash safety, concurrent appends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from feeds.customs import read_customs
from feeds.gate import read_gate
from feeds.schema import SCHEMAS, TIDE_OBS
from feeds.store import read_history, read_rejected, write_frame, write_part, write_rejected
from feeds.tide_gauge import read_tide

DATA = Path(__file__).parents[1] / "data" / "feeds"


def _visible_parts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def _tide(hours: list[int], station: str = "ZJG") -> pl.DataFrame:
    start = datetime(2026, 11, 27, 20, tzinfo=UTC)
    return pl.DataFrame(
        {
            "ts_utc": [start + timedelta(hours=h) for h in hours],
            "station_id": [station] * len(hours),
            "level_m": [float(h) for h in hours],
        },
        schema=TIDE_OBS,
    )


@pytest.mark.parametrize(
    ("kind", "frame_of"),
    [
        ("gate_event", lambda: read_gate(DATA / "gate_example.csv").frames["gate_event"]),
        ("customs_event",
         lambda: read_customs(DATA / "customs_example.csv").frames["customs_event"]),
        ("tide_obs",
         lambda: read_tide(DATA / "zhanjiang-zjg-chn-example.gesla").frames["tide_obs"]),
    ],
)
def test_round_trip_is_exact(
    tmp_path: Path, kind: str, frame_of: Callable[[], pl.DataFrame]
) -> None:
    frame = frame_of()
    write_frame(tmp_path, kind, frame)
    back = read_history(tmp_path, kind).collect().sort("ts_utc", maintain_order=True)
    assert back.schema == pl.Schema(SCHEMAS[kind])
    assert back.equals(frame.sort("ts_utc", maintain_order=True))


def test_parts_are_partitioned_by_utc_day(tmp_path: Path) -> None:
    frame = read_gate(DATA / "gate_example.csv").frames["gate_event"]
    written = write_frame(tmp_path, "gate_event", frame)
    # 7 rows on 2026-11-27 UTC and one (08:01:30+08:00 on the 28th = 00:01:30Z) on the 28th.
    assert [p.parent.name for p in written] == ["date=2026-11-27", "date=2026-11-28"]
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in written)
    assert [pl.read_parquet(p).height for p in written] == [7, 1]
    assert "date" not in pl.read_parquet(written[0]).columns  # the day lives in the path only


def test_read_history_filters_by_time_and_prunes_days(tmp_path: Path) -> None:
    # Hours 0..7 from 2026-11-27T20:00Z: 20,21,22,23 on the 27th; 00,01,02,03 on the 28th.
    write_frame(tmp_path, "tide_obs", _tide(list(range(8))))
    start = datetime(2026, 11, 28, 1, tzinfo=UTC)
    end = datetime(2026, 11, 28, 3, tzinfo=UTC)
    got = read_history(tmp_path, "tide_obs", start, end).collect()
    assert got["level_m"].to_list() == [5.0, 6.0]  # 01:00 and 02:00; end is exclusive
    # Any zone works: 2026-11-28 09:00+08:00 is 01:00Z.
    cst = timezone(timedelta(hours=8))
    got = read_history(tmp_path, "tide_obs", datetime(2026, 11, 28, 9, tzinfo=cst)).collect()
    assert got["level_m"].to_list() == [5.0, 6.0, 7.0]
    # Dates mean midnight UTC: [27th, 28th) is the first four hours.
    got = read_history(tmp_path, "tide_obs", date(2026, 11, 27), date(2026, 11, 28)).collect()
    assert got["level_m"].to_list() == [0.0, 1.0, 2.0, 3.0]
    plan = read_history(tmp_path, "tide_obs", start, end).explain()
    assert "date=2026-11-28" in plan and "date=2026-11-27" not in plan


def test_read_history_of_an_empty_store_has_the_schema(tmp_path: Path) -> None:
    got = read_history(tmp_path / "nothing", "gate_event").collect()
    assert got.height == 0 and got.schema == pl.Schema(SCHEMAS["gate_event"])


def test_naive_bounds_and_unknown_kinds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_history(tmp_path, "tide_obs", datetime(2026, 11, 28))
    with pytest.raises(ValueError, match="unknown kind"):
        read_history(tmp_path, "weather", None)
    with pytest.raises(ValueError, match="unknown kind"):
        write_frame(tmp_path, "weather", _tide([0]))


def test_rejected_rows_are_stored_by_feed_and_ingest_day(tmp_path: Path) -> None:
    result = read_gate(DATA / "gate_example.csv")
    stamp = datetime(2026, 11, 28, 23, 30, tzinfo=timezone(timedelta(hours=-2)))  # 01:30Z 29th
    written = write_rejected(tmp_path, "gate", result.rejected, stamp)
    assert [p.relative_to(tmp_path).parent.as_posix() for p in written] == [
        "rejected/gate/date=2026-11-29"
    ]
    back = read_rejected(tmp_path, "gate").collect()
    assert back.drop("ingested_utc", "date").equals(result.rejected)
    assert back["ingested_utc"].unique().to_list() == [datetime(2026, 11, 29, 1, 30, tzinfo=UTC)]
    assert write_rejected(tmp_path, "gate", result.rejected.clear(), stamp) == []


def test_failure_before_rename_leaves_nothing_visible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk vanished"):
        write_frame(tmp_path, "tide_obs", _tide([0, 1]))
    assert _visible_parts(tmp_path) == []
    assert list(tmp_path.rglob("*.tmp")) == []  # cleaned up on an exception


def test_crash_between_write_and_rename_leaves_no_visible_partial_file(tmp_path: Path) -> None:
    # A real crash: the process dies (os._exit, no cleanup) after the temporary file is written
    # and fsynced, at the moment it would be renamed.
    script = (
        "import os, sys\n"
        "from datetime import UTC, datetime\n"
        "import polars as pl\n"
        "from feeds.schema import TIDE_OBS\n"
        "from feeds.store import write_frame\n"
        "os.replace = lambda src, dst: os._exit(9)\n"
        "frame = pl.DataFrame({'ts_utc': [datetime(2026, 11, 28, tzinfo=UTC)],"
        " 'station_id': ['ZJG'], 'level_m': [1.0]}, schema=TIDE_OBS)\n"
        "write_frame(sys.argv[1], 'tide_obs', frame)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    assert done.returncode == 9
    leftovers = list(tmp_path.rglob("*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".part-")
    assert leftovers[0].stat().st_size > 0  # the data was written, just never published
    assert _visible_parts(tmp_path) == []
    assert read_history(tmp_path, "tide_obs").collect().height == 0
    # The store stays usable: the next append is read, the leftover is ignored.
    write_frame(tmp_path, "tide_obs", _tide([0]))
    assert read_history(tmp_path, "tide_obs").collect().height == 1


def test_concurrent_appends_do_not_clobber(tmp_path: Path) -> None:
    writers, parts_each, rows_each = 4, 8, 3
    errors: list[BaseException] = []

    def append(writer: int) -> None:
        try:
            for part in range(parts_each):
                base = (writer * parts_each + part) * rows_each
                write_frame(tmp_path, "tide_obs",
                            _tide(list(range(base, base + rows_each)), f"W{writer}"))
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    back = read_history(tmp_path, "tide_obs").collect()
    # 4 writers x 8 parts x 3 rows = 96 distinct hours, each exactly once.
    assert back.height == 96
    assert sorted(back["level_m"].to_list()) == [float(h) for h in range(96)]
    assert back.group_by("station_id").len().sort("station_id")["len"].to_list() == [24] * 4


def test_write_part_names_are_unique_and_complete(tmp_path: Path) -> None:
    frame = _tide([0, 1, 2])
    first, second = write_part(frame, tmp_path), write_part(frame, tmp_path)
    assert first != second
    assert pl.read_parquet(first).equals(frame) and pl.read_parquet(second).equals(frame)


def test_two_processes_appending_to_one_store_keep_every_row(tmp_path: Path) -> None:
    twin = Path(sys.executable).parent / "twin"
    gesla = DATA / "zhanjiang-zjg-chn-example.gesla"
    runs = [
        subprocess.Popen(
            [str(twin), "ingest", str(gesla), "--kind", "tide", "--out", str(tmp_path), "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    assert [run.wait(timeout=60) for run in runs] == [0, 0]
    # 11 accepted observations per run; both runs' parts survive side by side.
    back = read_history(tmp_path, "tide_obs").collect()
    assert back.height == 22
    assert back.group_by("ts_utc").len()["len"].unique().to_list() == [2]
    assert len(_visible_parts(tmp_path / "tide_obs")) == 4  # 2 runs x 2 UTC days


def test_rows_without_time_go_to_the_default_partition_and_read_back(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"ts_utc": [None, datetime(2026, 11, 28, tzinfo=UTC)], "station_id": ["A", "B"],
         "level_m": [1.0, 2.0]},
        schema=TIDE_OBS,
    )
    written = write_frame(tmp_path, "tide_obs", frame)
    assert [p.parent.name for p in written] == ["date=2026-11-28",
                                                "date=__HIVE_DEFAULT_PARTITION__"]
    back = read_history(tmp_path, "tide_obs").collect().sort("station_id")
    assert back.equals(frame)
    assert read_history(tmp_path, "tide_obs", date(2026, 11, 1)).collect()["station_id"].to_list() \
        == ["B"]
