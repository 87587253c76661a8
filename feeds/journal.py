"""The live twin's write-ahead journal: every accepted input batch, durable before it is applied.

Layout under a journal directory DIR:

    DIR/seg-<first seq, 20 digits>.wal      append-only segments of records
    DIR/snap-<seq, 20 digits>.snap          engine snapshots covering every record with seq <= <seq>

Snapshot file: 8-byte magic `ZJTSNAP2` | u64 seq | u32 meta length | u64 payload length |
u32 CRC32 of meta + payload | meta (UTF-8 JSON: what the live process needs besides the engine,
e.g. its clock) | payload (the engine's own snapshot bytes).

Record (little-endian), one per accepted batch:

    u32 body length | u32 CRC32 of body | body
    body = u64 seq | i64 now (µs since the Unix epoch, UTC) | u16 meta length | meta (UTF-8 JSON)
           | u16 frame count | per frame: u8 kind length | kind (ASCII) | u32 length | Arrow IPC bytes

`seq` starts at 1 and rises by one per record over all segments (it is the number a client gets
back in `{"ack": seq}`). `now` is the clock the batch was applied with, so a replay is the same
computation. `meta` is small JSON about the batch (its source, a file name); it never holds rows.

Crash safety: a record is written with one `write` and made durable with `fsync` (`sync()`,
group commit: one fsync covers every record appended before it). On `open`, the last segment is
read to its end; the first record that is short or fails its CRC marks a torn tail (a crash
mid-write), and the segment is truncated there. A bad record anywhere else is corruption and
raises `JournalCorrupt` rather than silently dropping acknowledged input.

Snapshots are written to a temporary file, fsynced, renamed (atomic) and the directory fsynced;
their own header carries a CRC32, and a snapshot that fails it is ignored (the previous one and a
longer replay are used). Segments wholly covered by the oldest kept snapshot are deleted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NamedTuple

import polars as pl

_HEADER: Final = struct.Struct("<II")          # body length, CRC32 of body
_BODY_HEAD: Final = struct.Struct("<QqH")      # seq, now µs, meta length
_SNAP_HEAD: Final = struct.Struct("<8sQIQI")   # magic, seq, meta length, payload length, CRC32 of both
_SNAP_MAGIC: Final = b"ZJTSNAP2"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
SEGMENT_BYTES: Final = 64 * 1024 * 1024        # rotate segments at about this size
MAX_RECORD_BYTES: Final = 256 * 1024 * 1024    # a longer length prefix can only be a torn/corrupt header
KEEP_SNAPSHOTS: Final = 2


class Snapshot(NamedTuple):
    """A stored engine snapshot: it covers records 1..`seq`; `meta` is the live process's extra."""

    seq: int
    payload: bytes
    meta: dict[str, Any]


class JournalCorrupt(Exception):
    """A record before the tail of the journal is unreadable: acknowledged input would be lost."""


@dataclass(frozen=True)
class Record:
    """One journalled batch: `frames` keyed by canonical kind, applied at `now` (aware UTC)."""

    seq: int
    now: datetime
    frames: dict[str, pl.DataFrame]
    meta: dict[str, Any] = field(default_factory=dict)


def _to_us(now: datetime) -> int:
    if now.tzinfo is None:
        raise ValueError("journal times must be timezone-aware")
    return (now - _EPOCH) // timedelta(microseconds=1)


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def encode_body(seq: int, now: datetime, frames: dict[str, pl.DataFrame], meta: dict[str, Any]) -> bytes:
    """The body bytes of one record (see the module docstring)."""
    meta_bytes = json.dumps(meta, separators=(",", ":")).encode()
    if len(meta_bytes) > 0xFFFF:
        raise ValueError("journal meta is limited to 64 KiB")
    out = io.BytesIO()
    out.write(_BODY_HEAD.pack(seq, _to_us(now), len(meta_bytes)))
    out.write(meta_bytes)
    nonempty = {kind: frame for kind, frame in frames.items() if frame.height}
    out.write(struct.pack("<H", len(nonempty)))
    for kind, frame in nonempty.items():
        buf = io.BytesIO()
        frame.write_ipc(buf, compression="uncompressed")
        data = buf.getvalue()
        name = kind.encode("ascii")
        out.write(struct.pack("<B", len(name)) + name + struct.pack("<I", len(data)))
        out.write(data)
    return out.getvalue()


def decode_body(body: bytes) -> Record:
    """The record held in `body`; raises `ValueError` on a malformed body."""
    try:
        seq, now_us, meta_len = _BODY_HEAD.unpack_from(body, 0)
        pos = _BODY_HEAD.size
        meta = json.loads(body[pos : pos + meta_len]) if meta_len else {}
        pos += meta_len
        (count,) = struct.unpack_from("<H", body, pos)
        pos += 2
        frames: dict[str, pl.DataFrame] = {}
        for _ in range(count):
            (name_len,) = struct.unpack_from("<B", body, pos)
            pos += 1
            kind = body[pos : pos + name_len].decode("ascii")
            pos += name_len
            (data_len,) = struct.unpack_from("<I", body, pos)
            pos += 4
            frames[kind] = pl.read_ipc(io.BytesIO(body[pos : pos + data_len]))
            pos += data_len
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError, pl.exceptions.PolarsError,
            OSError) as exc:
        raise ValueError(f"malformed journal record: {exc}") from exc
    return Record(seq=seq, now=_from_us(now_us), frames=frames, meta=meta)


def _scan_segment(path: Path) -> tuple[list[tuple[int, int]], int, int]:
    """Walk the records of one segment: ([(seq, offset)], end of the last good record, file size)."""
    data = path.read_bytes()
    entries: list[tuple[int, int]] = []
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        if length > MAX_RECORD_BYTES or start + length > len(data):
            break
        body = data[start : start + length]
        if zlib.crc32(body) != crc or length < _BODY_HEAD.size:
            break
        (seq,) = struct.unpack_from("<Q", body, 0)
        entries.append((seq, pos))
        pos = start + length
    return entries, pos, len(data)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


class Journal:
    """An open journal directory: append records, group-commit them, snapshot, replay.

    Thread-safe: `append`, `sync` and `write_snapshot` may be called from worker threads.
    Opening scans every segment (CRC of each record), truncates a torn tail of the last
    segment and raises `JournalCorrupt` for a bad record in an earlier one.
    """

    def __init__(self, directory: str | Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self.truncated_bytes = 0   # torn tail removed on open, in bytes (reported by health)
        self._last_seq = 0
        self._synced_seq = 0
        self._segments: list[tuple[int, Path]] = []   # (first seq, path), ascending
        self._open_segments()
        self._handle: io.FileIO | None = None
        self._handle_bytes = 0

    # -- opening -------------------------------------------------------------------------
    def _open_segments(self) -> None:
        paths = sorted(self.directory.glob("seg-*.wal"))
        for index, path in enumerate(paths):
            first = int(path.stem.split("-")[1])
            entries, good_end, size = _scan_segment(path)
            last = index == len(paths) - 1
            if good_end != size:
                if not last:
                    raise JournalCorrupt(f"{path}: unreadable record at byte {good_end} before the tail")
                with path.open("r+b") as handle:
                    handle.truncate(good_end)
                    handle.flush()
                    os.fsync(handle.fileno())
                self.truncated_bytes += size - good_end
            expected = first
            for seq, offset in entries:
                if seq != expected or (self._last_seq and seq != self._last_seq + 1):
                    raise JournalCorrupt(
                        f"{path}: record at byte {offset} has seq {seq}, expected {expected}"
                    )
                self._last_seq = seq
                expected += 1
            self._segments.append((first, path))
        self._synced_seq = self._last_seq

    @property
    def last_seq(self) -> int:
        """The seq of the last record appended (0 for an empty journal)."""
        return self._last_seq

    @property
    def synced_seq(self) -> int:
        """Every record with seq <= this is on stable storage."""
        return self._synced_seq

    # -- writing -------------------------------------------------------------------------
    def append(
        self, frames: dict[str, pl.DataFrame], now: datetime, meta: dict[str, Any] | None = None
    ) -> int:
        """Write one record (not yet fsynced) and return its seq; rotates segments by size.

        Encoding (Arrow IPC) happens outside the lock; the seq is taken and the bytes are written
        under it, so records are in seq order. Raises `ValueError` for a naive `now`.
        """
        meta = meta or {}
        probe = encode_body(0, now, frames, meta)  # validates and sizes before taking a seq
        with self._lock:
            seq = self._last_seq + 1
            body = struct.pack("<Q", seq) + probe[8:]
            handle = self._writable(seq)
            record = _HEADER.pack(len(body), zlib.crc32(body)) + body
            try:
                # one unbuffered write: in the OS on return, so it survives a kill -9 of this
                # process (not a power cut: that is what `sync` is for)
                written = handle.write(record)
                if written != len(record):
                    raise OSError(f"short write to the journal ({written} of {len(record)} bytes)")
            except OSError:
                # disk full or similar: cut the partial record so the journal stays readable
                # and the next append does not leave garbage before the tail
                os.ftruncate(handle.fileno(), self._handle_bytes)
                raise
            self._handle_bytes += len(record)
            self._last_seq = seq
        return seq

    def _writable(self, seq: int) -> io.FileIO:
        if self._handle is not None and self._handle_bytes < self.segment_bytes:
            return self._handle
        if self._handle is not None:
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
        if self._segments and self._handle_bytes == 0:
            # reopen the last segment after `open` when it still has room
            _first, path = self._segments[-1]
            size = path.stat().st_size
            if size < self.segment_bytes:
                self._handle = io.FileIO(path, "ab")
                self._handle_bytes = size
                return self._handle
        path = self.directory / f"seg-{seq:020d}.wal"
        self._handle = io.FileIO(path, "ab")
        self._handle_bytes = 0
        self._segments.append((seq, path))
        _fsync_dir(self.directory)
        return self._handle

    def sync(self) -> int:
        """Make every record appended so far durable (group commit); returns the synced seq.

        Concurrent callers share one fsync: a caller that finds its records already synced by
        another returns at once. Blocking (fsync): call it from a worker thread in async code.
        """
        with self._sync_lock:
            with self._lock:
                target = self._last_seq
                if target <= self._synced_seq:
                    return self._synced_seq
                # a duplicate descriptor stays valid if a rotation closes the segment meanwhile
                # (rotation fsyncs the old segment itself); appends go on during the fsync
                fd = os.dup(self._handle.fileno()) if self._handle is not None else None
            if fd is not None:
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            self._synced_seq = max(self._synced_seq, target)
            return self._synced_seq

    def close(self) -> None:
        """Sync and close the current segment."""
        self.sync()
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
                self._handle_bytes = 0

    # -- reading -------------------------------------------------------------------------
    def records(self, after: int = 0) -> Iterator[Record]:
        """Every record with seq > `after`, in order (reads the files; call after `open`/`sync`)."""
        with self._lock:  # appends are unbuffered writes: the files hold every record appended
            segments = list(self._segments)
        for index, (first, path) in enumerate(segments):
            following = segments[index + 1][0] if index + 1 < len(segments) else None
            if following is not None and following - 1 <= after:
                continue
            data = path.read_bytes()
            pos = 0
            seq = first
            while pos + _HEADER.size <= len(data):
                length, crc = _HEADER.unpack_from(data, pos)
                body = data[pos + _HEADER.size : pos + _HEADER.size + length]
                if len(body) != length or zlib.crc32(body) != crc:
                    break  # a record being written right now by another thread
                pos += _HEADER.size + length
                (seq,) = struct.unpack_from("<Q", body, 0)
                if seq > after:
                    yield decode_body(body)

    # -- snapshots -----------------------------------------------------------------------
    def write_snapshot(
        self, seq: int, payload: bytes, prune_upto: int | None = None, meta: dict[str, Any] | None = None
    ) -> Path:
        """Store an engine snapshot covering records 1..`seq`, atomically; prune old ones.

        `meta` (JSON-able) is stored beside the payload. Keeps the newest `KEEP_SNAPSHOTS`
        snapshots and deletes segments whose every record is covered by the oldest kept one and
        has seq <= `prune_upto` (default: no further limit; the live process passes its history
        watermark so unflushed rows stay replayable). Returns the snapshot path.
        """
        meta_bytes = json.dumps(meta or {}, separators=(",", ":")).encode()
        final = self.directory / f"snap-{seq:020d}.snap"
        temp = self.directory / f".{final.name}.tmp"
        with temp.open("wb") as handle:
            crc = zlib.crc32(payload, zlib.crc32(meta_bytes))
            handle.write(_SNAP_HEAD.pack(_SNAP_MAGIC, seq, len(meta_bytes), len(payload), crc))
            handle.write(meta_bytes)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
        _fsync_dir(self.directory)
        snaps = sorted(self.directory.glob("snap-*.snap"))
        for old in snaps[:-KEEP_SNAPSHOTS]:
            old.unlink(missing_ok=True)
        oldest_kept = int(snaps[-KEEP_SNAPSHOTS:][0].stem.split("-")[1])
        self._prune_segments(oldest_kept if prune_upto is None else min(oldest_kept, prune_upto))
        return final

    def _prune_segments(self, covered: int) -> None:
        with self._lock:
            keep: list[tuple[int, Path]] = []
            for index, (first, path) in enumerate(self._segments):
                following = self._segments[index + 1][0] if index + 1 < len(self._segments) else None
                if following is not None and following - 1 <= covered:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                else:
                    keep.append((first, path))
            self._segments = keep

    def latest_snapshot(self) -> Snapshot | None:
        """The newest readable snapshot, or None; unreadable ones (CRC, torn) are skipped."""
        for path in sorted(self.directory.glob("snap-*.snap"), reverse=True):
            data = path.read_bytes()
            if len(data) < _SNAP_HEAD.size:
                continue
            magic, seq, meta_len, length, crc = _SNAP_HEAD.unpack_from(data, 0)
            body = data[_SNAP_HEAD.size :]
            if magic != _SNAP_MAGIC or len(body) != meta_len + length or zlib.crc32(body) != crc:
                continue
            if seq > self._last_seq:
                continue  # a snapshot beyond the journal cannot be trusted to match it
            try:
                meta = json.loads(body[:meta_len]) if meta_len else {}
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            return Snapshot(seq, body[meta_len:], meta)
        return None
