"""The journal: records round-trip, a torn tail is truncated, corruption before it is refused,
segments rotate, and snapshot + replay equals a full replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from bus_clients import position_rows
from bus_fakes import FakeEngine

from feeds.bus import rows_to_frame
from feeds.journal import Journal, JournalCorrupt

T0 = datetime(2026, 11, 28, 3, tzinfo=UTC)


def _frames(batch: int, rows: int = 5) -> dict[str, pl.DataFrame]:
    frame, _ = rows_to_frame("ais_position", position_rows(batch, rows))
    return {"ais_position": frame}


def _fill(journal: Journal, count: int, start: int = 0) -> None:
    for batch in range(start, start + count):
        journal.append(_frames(batch), T0 + timedelta(seconds=batch), {"src": "test"})
    journal.sync()


def test_records_round_trip_with_frames_time_and_meta(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _fill(journal, 3)
    journal.close()
    records = list(Journal(tmp_path).records())
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[2].now == T0 + timedelta(seconds=2)
    assert records[1].meta == {"src": "test"}
    assert records[1].frames["ais_position"].equals(_frames(1)["ais_position"])
    assert records[1].frames["ais_position"].schema == _frames(1)["ais_position"].schema


def test_a_torn_tail_is_truncated_on_open_and_appending_continues(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _fill(journal, 4)
    journal.close()
    segment = next(tmp_path.glob("seg-*.wal"))
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])  # the last record was cut by a crash mid-write
    reopened = Journal(tmp_path)
    assert reopened.last_seq == 3 and reopened.truncated_bytes > 0
    assert reopened.append(_frames(9), T0) == 4
    reopened.close()
    assert [r.seq for r in Journal(tmp_path).records()] == [1, 2, 3, 4]


def test_a_flipped_byte_in_the_last_record_counts_as_a_torn_tail(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _fill(journal, 3)
    journal.close()
    segment = next(tmp_path.glob("seg-*.wal"))
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert Journal(tmp_path).last_seq == 2


def test_corruption_before_the_tail_is_refused_not_dropped(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=2000)
    _fill(journal, 12)
    journal.close()
    segments = sorted(tmp_path.glob("seg-*.wal"))
    assert len(segments) > 2, "records rotate into segments"
    data = bytearray(segments[0].read_bytes())
    data[20] ^= 0xFF
    segments[0].write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt):
        Journal(tmp_path)


def test_rotation_keeps_seq_order_across_segments(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=2000)
    _fill(journal, 10)
    journal.close()
    reopened = Journal(tmp_path, segment_bytes=2000)
    _fill(reopened, 5, start=10)
    reopened.close()
    assert [r.seq for r in Journal(tmp_path).records()] == list(range(1, 16))
    assert [r.seq for r in Journal(tmp_path).records(after=11)] == [12, 13, 14, 15]


def test_snapshot_plus_replay_equals_a_full_replay_and_old_segments_are_pruned(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=2000)
    engine = FakeEngine()
    for batch in range(30):
        frames = _frames(batch, rows=3 + batch % 4)
        journal.append(frames, T0, {})
        engine.apply(frames, T0)
        if batch in (9, 19):
            journal.sync()
            journal.write_snapshot(batch + 1, engine.to_snapshot_bytes())
    journal.close()
    reopened = Journal(tmp_path, segment_bytes=2000)
    snapshot = reopened.latest_snapshot()
    assert snapshot is not None and snapshot[0] == 20
    restored = FakeEngine.from_snapshot_bytes(snapshot[1])
    for record in reopened.records(after=snapshot[0]):
        restored.apply(record.frames, record.now)
    assert restored.state_hash() == engine.state_hash()
    first_kept = min(int(p.stem.split("-")[1]) for p in tmp_path.glob("seg-*.wal"))
    assert 1 < first_kept <= 11  # segments wholly before the older kept snapshot (seq 10) are gone


def test_a_damaged_snapshot_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _fill(journal, 4)
    journal.write_snapshot(2, b'{"vessels": [], "counts": {}}')
    newest = journal.write_snapshot(4, b'{"vessels": [], "counts": {"x": 1}}')
    newest.write_bytes(newest.read_bytes()[:-2])
    latest = journal.latest_snapshot()
    assert latest is not None and latest[0] == 2


def test_a_failed_write_leaves_no_partial_record_behind(tmp_path: Path) -> None:
    import io

    class DiskFull(io.FileIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            super().write(bytes(data)[:10])
            raise OSError(28, "No space left on device")

    journal = Journal(tmp_path)
    _fill(journal, 2)
    assert journal._handle is not None
    healthy = journal._handle
    journal._handle = DiskFull(healthy.name, "ab")
    with pytest.raises(OSError):
        journal.append(_frames(5), T0)
    journal._handle.close()
    journal._handle = healthy
    assert journal.append(_frames(6), T0) == 3
    journal.close()
    assert [r.seq for r in Journal(tmp_path).records()] == [1, 2, 3]
