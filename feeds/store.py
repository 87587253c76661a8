"""The history store: canonical feed frames as Parquet, partitioned by kind and UTC day.

Layout under a store directory DIR (hive style, so `pl.scan_parquet(..., hive_partitioning=True)`
and other engines read it as is):

    DIR/<kind>/date=YYYY-MM-DD/part-<uuid>.parquet              accepted rows of a canonical kind
    DIR/rejected/<feed>/date=YYYY-MM-DD/part-<uuid>.parquet     rejected rows of a feed

- `<kind>` is a canonical frame kind (`gate_event`, `ais_position`, ...) or `port_call_cargo`
  (the calls' cargo, `feeds.schema.STORED_SCHEMAS`); the day is the UTC
  calendar day of `ts_utc` (UTC, not Asia/Shanghai, so a day never depends on the viewer; the
  local day 08:00 to 08:00 UTC is a filter on `ts_utc`). A row without `ts_utc` goes to
  `date=__HIVE_DEFAULT_PARTITION__` (read back as a null date) rather than being dropped.
- `<feed>` is the ingest kind (`ais`, `gate`, `customs`, `tide`): a rejected line belongs to no
  frame kind yet. Rejected rows have no trusted time, so their day is the UTC day of ingestion and
  they carry an `ingested_utc` column besides the `REJECTED` columns.
- Files are only ever added (append = a new part with a fresh uuid4 name), so concurrent writers
  never clobber each other. Each part is written under a hidden temporary name
  (`.part-<uuid>.parquet.tmp`) in its final directory, flushed and fsynced, then renamed with
  `os.replace` (atomic within a directory) and the directory is fsynced: a reader globbing
  `*.parquet` sees a part complete or not at all, even if the writer dies half-way.
  A leftover `*.tmp` after a crash is harmless and can be deleted.
- The partition column `date` lives only in the path, not in the files.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

import polars as pl

from feeds.schema import REJECTED, STORED_SCHEMAS, conform

DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
REJECTED_DIR = "rejected"
_COMPRESSION: Final = "zstd"


def _fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def write_part(frame: pl.DataFrame, directory: Path) -> Path:
    """Write `frame` as one new Parquet part in `directory`, atomically; returns its path.

    The file appears under its final name `part-<uuid4>.parquet` only once complete and fsynced.
    On an exception the temporary file is removed and the exception propagates.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    final = directory / name
    temp = directory / f".{name}.tmp"
    try:
        with temp.open("xb") as handle:
            frame.write_parquet(handle, compression=_COMPRESSION, statistics=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_dir(directory)
    return final


def _partition_name(day: date | None) -> str:
    return f"date={DEFAULT_PARTITION if day is None else day.isoformat()}"


def write_frame(root: str | Path, kind: str, frame: pl.DataFrame) -> list[Path]:
    """Append the rows of `frame` (canonical `kind`) to the store at `root`, one part per UTC day.

    The frame is conformed to the canonical schema first (raises `ValueError` on missing columns,
    `KeyError` via `ValueError` for an unknown kind). Returns the written part paths, sorted by
    day; an empty frame writes nothing.
    """
    if kind not in STORED_SCHEMAS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(STORED_SCHEMAS)}")
    if frame.is_empty():
        return []
    frame = conform(frame, STORED_SCHEMAS[kind])
    days = frame.get_column("ts_utc").dt.date()
    written: list[Path] = []
    keyed = frame.with_columns(days.alias("__day"))
    for day in sorted(days.unique().to_list(), key=lambda d: (d is None, d)):
        part = keyed.filter(
            pl.col("__day").is_null() if day is None else pl.col("__day") == day
        ).drop("__day")
        written.append(write_part(part, Path(root) / kind / _partition_name(day)))
    return written


def write_rejected(
    root: str | Path, feed: str, rejected: pl.DataFrame, ingested_utc: datetime
) -> list[Path]:
    """Append rejected rows of `feed` (e.g. "gate") to `root/rejected/<feed>/date=<ingest day>/`.

    `ingested_utc` (aware) is the ingest time; it picks the partition and fills `ingested_utc`.
    Returns the written part paths (none for no rows).
    """
    if rejected.is_empty():
        return []
    if ingested_utc.tzinfo is None:
        raise ValueError("ingested_utc must be timezone-aware")
    stamp = ingested_utc.astimezone(UTC)
    frame = conform(rejected, REJECTED).with_columns(
        pl.lit(stamp, dtype=pl.Datetime("us", "UTC")).alias("ingested_utc")
    )
    directory = Path(root) / REJECTED_DIR / feed / _partition_name(stamp.date())
    return [write_part(frame, directory)]


def _as_utc(value: datetime | date, name: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware (a naive time is not guessed)")
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _scan(directory: Path, schema: dict[str, pl.DataType]) -> pl.LazyFrame | None:
    if not any(directory.glob("date=*/*.parquet")):
        return None
    return pl.scan_parquet(
        directory / "**" / "*.parquet",
        hive_partitioning=True,
        hive_schema={"date": pl.Date()},
        schema={**schema, "date": pl.Date()},
    )


def read_history(
    root: str | Path,
    kind: str,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> pl.LazyFrame:
    """Lazily read the stored rows of canonical `kind` with `start <= ts_utc < end`.

    `start`/`end` are aware datetimes (any zone, compared in UTC) or dates (midnight UTC); None
    leaves that side open. The day filter is applied to the `date` partition column first, so
    polars opens only the files of the days asked for. Returns a LazyFrame in exactly the
    canonical schema (no `date` column); empty with that schema when nothing is stored.
    Raises `ValueError` for an unknown kind or a naive datetime.
    """
    if kind not in STORED_SCHEMAS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(STORED_SCHEMAS)}")
    schema = STORED_SCHEMAS[kind]
    start_utc = None if start is None else _as_utc(start, "start")
    end_utc = None if end is None else _as_utc(end, "end")
    frame = _scan(Path(root) / kind, schema)
    if frame is None:
        return pl.DataFrame(schema=schema).lazy()
    if start_utc is not None:
        frame = frame.filter(pl.col("date") >= start_utc.date(), pl.col("ts_utc") >= start_utc)
    if end_utc is not None:
        # The last day needed is the day of the instant just before `end` (end is exclusive).
        last_day = (end_utc - timedelta(microseconds=1)).date()
        frame = frame.filter(pl.col("date") <= last_day, pl.col("ts_utc") < end_utc)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def read_rejected(root: str | Path, feed: str) -> pl.LazyFrame:
    """Lazily read every rejected row stored for `feed`, with `ingested_utc` and the `date` day."""
    schema = {**REJECTED, "ingested_utc": pl.Datetime("us", "UTC")}
    frame = _scan(Path(root) / REJECTED_DIR / feed, schema)
    if frame is None:
        return pl.DataFrame(schema={**schema, "date": pl.Date()}).lazy()
    return frame
