"""Tide gauge records → canonical `tide_obs` frames.

Two inputs (docs/formats/tide.md):
- GESLA-3 station files: `#` header lines with the station metadata (SITE NAME, SITE CODE,
  LATITUDE, LONGITUDE, DATUM INFORMATION, TIME ZONE HOURS, NULL VALUE, ...), then one observation
  a line, `YYYY/MM/DD hh:mm:ss value qc_flag use_flag`, blank-separated. Parsed vectorised with
  polars because a century of hourly data is a million lines.
- a plain CSV `ts_utc,station_id,level_m` (timestamps ISO 8601 with an explicit offset).

Every observation line becomes a `tide_obs` row or a rejected row (`tide.*`), so
accepted + rejected == items read. Levels are taken in metres as written, plus `datum_offset_m`:
the twin wants chart datum and GESLA files are often on another datum (see DATUM INFORMATION).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from feeds._common import (
    FeedReadError,
    RowError,
    head_lines,
    is_blank,
    parse_ts_utc,
    read_bytes,
    read_records,
    required_text,
    sniff_csv_or_jsonl,
    utc_series,
)
from feeds.schema import REJECTED, TIDE_OBS, AdapterResult

FORMATS = ("auto", "gesla", "csv")
CSV_REQUIRED = ["ts_utc", "station_id", "level_m"]
# GESLA-3 writes missing values as -99.9999 with QC flag 5; used when a header lacks NULL VALUE.
DEFAULT_NULL_VALUE = -99.9999
_NULL_TOLERANCE = 1e-6
_CHUNK_LINES = 250_000
_GESLA_DATA = re.compile(r"^\s*\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}:\d{2}\s+\S+\s+\S+\s+\S+\s*$")
_GESLA_FIELDS = (
    r"^\s*(?<date>\d{4}/\d{2}/\d{2})\s+(?<time>\d{2}:\d{2}:\d{2})\s+"
    r"(?<value>\S+)\s+(?<qc>\S+)\s+(?<use>\S+)\s*$"
)
# GESLA-3 header labels, longest first so "ORIGINATOR WEBSITE" wins over a shorter prefix.
_HEADER_KEYS = sorted(
    [
        "FORMAT VERSION", "SITE NAME", "SITE CODE", "COUNTRY", "CONTRIBUTOR", "CONTRIBUTOR WEBSITE",
        "CONTRIBUTOR CONTACT", "ORGINATOR", "ORIGINATOR", "ORIGINATOR WEBSITE",
        "ORIGINATOR CONTACT", "LATITUDE", "LONGITUDE", "COORDINATE SYSTEM", "START DATE/TIME",
        "END DATE/TIME", "NUMBER OF YEARS", "TIME ZONE HOURS", "DATUM INFORMATION", "INSTRUMENT",
        "PRECISION", "NULL VALUE", "GAUGE TYPE", "OVERALL RECORD QUALITY",
    ],
    key=len,
    reverse=True,
)


@dataclass
class GeslaHeader:
    """The metadata of a GESLA-3 file; `fields` keeps every labelled header line as text."""

    fields: dict[str, str] = field(default_factory=dict)

    @property
    def site_code(self) -> str | None:
        return self.fields.get("SITE CODE") or None

    @property
    def site_name(self) -> str | None:
        return self.fields.get("SITE NAME") or None

    @property
    def datum(self) -> str | None:
        return self.fields.get("DATUM INFORMATION") or None


def parse_gesla_header(lines: list[str], path: Path) -> GeslaHeader:
    """The labelled `#` lines of a GESLA file (other lines are ignored)."""
    header = GeslaHeader()
    for line in lines:
        if not line.startswith("#"):
            continue
        body = line[1:].strip()
        for key in _HEADER_KEYS:
            if body.upper().startswith(key) and (len(body) == len(key) or body[len(key)].isspace()):
                header.fields.setdefault(key, body[len(key):].strip())
                break
    return header


def _header_number(header: GeslaHeader, key: str, path: Path) -> float | None:
    text = header.fields.get(key)
    if text is None:
        return None
    try:
        value = float(text.split()[0]) if text.split() else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FeedReadError(f"{path}: header '# {key}' has {text!r}, not a number")
    return value


def sniff_tide_format(path: Path) -> str:
    """"gesla" or "csv" for a readable tide file; raises `FeedReadError` otherwise."""
    lines = head_lines(path)
    for line in lines:
        text = (line.text or "").strip()
        if not text:
            continue
        if text.startswith("#") or _GESLA_DATA.match(text):
            return "gesla"
        break
    return sniff_csv_or_jsonl(
        [line for line in lines if not (line.text or "").lstrip().startswith("{")],
        path, CSV_REQUIRED,
    )


def read_tide(
    path: str | Path,
    fmt: str = "auto",
    station_id: str | None = None,
    datum_offset_m: float = 0.0,
    progress: bool = False,
) -> AdapterResult:
    """Read a tide gauge file (GESLA-3 or plain CSV, see docs/formats/tide.md).

    `fmt`: "auto", "gesla" or "csv". For GESLA, `station_id` defaults to the SITE CODE header
    (then SITE NAME, then the file stem) and local times are shifted by TIME ZONE HOURS to UTC;
    `datum_offset_m` (metres) is added to every level to bring it to chart datum. Returns
    frames {"tide_obs": ...} plus rejected rows (rules `tide.*`); items read = non-blank,
    non-`#` lines (GESLA) or non-blank data lines after the header (CSV).
    Raises `FeedReadError` when the file cannot be read at all (missing, binary, unknown format,
    a GESLA file without TIME ZONE HOURS, a CSV header lacking columns).
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"tide format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = sniff_tide_format(path)
    if fmt == "gesla":
        return _read_gesla(path, station_id, datum_offset_m, progress)
    return _read_tide_csv(path, datum_offset_m, progress)


def _read_tide_csv(path: Path, datum_offset_m: float, progress: bool) -> AdapterResult:
    def parse(record: dict[str, Any]) -> dict[str, Any]:
        ts_utc = parse_ts_utc(record["ts_utc"], "ts_utc", "tide")
        station = required_text(record["station_id"], "station_id", "tide.station_id")
        value = record["level_m"]
        if is_blank(value):
            raise RowError("tide.null_value", "level_m is empty (no observation)")
        try:
            level = float(value)
        except (TypeError, ValueError):
            raise RowError("tide.value", f"level_m {value!r} is not a number") from None
        if not math.isfinite(level):
            raise RowError("tide.value", f"level_m {value!r} is not a finite number")
        return {"ts_utc": ts_utc, "station_id": station, "level_m": level + datum_offset_m}

    _fmt, rows, rejects, items_read = read_records(
        path, "csv", "tide", CSV_REQUIRED, parse, progress
    )
    frame = pl.DataFrame(
        {
            "ts_utc": utc_series("ts_utc", [row["ts_utc"] for row in rows]),
            "station_id": [row["station_id"] for row in rows],
            "level_m": [row["level_m"] for row in rows],
        },
        schema=TIDE_OBS,
    )
    return AdapterResult(frames={"tide_obs": frame}, rejected=rejects.frame(),
                         items_read=items_read, items_accepted=frame.height)


def _read_gesla(
    path: Path, station_id: str | None, datum_offset_m: float, progress: bool
) -> AdapterResult:
    data = read_bytes(path)
    # Decoding with replacement keeps one bad byte to its line: that line fails the pattern.
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    header = parse_gesla_header(lines, path)
    tz_hours = _header_number(header, "TIME ZONE HOURS", path)
    if tz_hours is None:
        raise FeedReadError(
            f"{path}: GESLA header lacks '# TIME ZONE HOURS'; local times are not guessed"
        )
    if abs(tz_hours) > 14:
        raise FeedReadError(f"{path}: TIME ZONE HOURS {tz_hours} is outside -14..14")
    null_value = _header_number(header, "NULL VALUE", path)
    null_value = DEFAULT_NULL_VALUE if null_value is None else null_value
    station = station_id or header.site_code or header.site_name or path.stem
    offset_us = round(tz_hours * 3600) * 1_000_000

    items = pl.DataFrame(
        {"line": pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.UInt64), "raw": lines}
    ).filter(
        pl.col("raw").str.strip_chars().str.len_bytes() > 0,
        ~pl.col("raw").str.strip_chars_start().str.starts_with("#"),
    )
    frames: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    bar = None
    if progress:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=items.height, desc=path.name, unit="line", file=sys.stderr, leave=False)
    for start in range(0, items.height, _CHUNK_LINES):
        chunk = _classify_gesla(items.slice(start, _CHUNK_LINES), null_value, offset_us)
        good = chunk.filter(pl.col("rule").is_null())
        frames.append(good.select(
            pl.col("ts_utc"),
            pl.lit(station, dtype=pl.String).alias("station_id"),
            (pl.col("level") + datum_offset_m).alias("level_m"),
        ))
        rejected.append(chunk.filter(pl.col("rule").is_not_null()).select(
            pl.lit(str(path), dtype=pl.String).alias("source_file"), "line", "rule", "detail",
            "raw",
        ))
        if bar is not None:
            bar.update(chunk.height)
    if bar is not None:
        bar.close()
    accepted = pl.concat(frames).cast(TIDE_OBS) if frames else pl.DataFrame(schema=TIDE_OBS)  # type: ignore[arg-type]
    rejects = (pl.concat(rejected).cast(REJECTED) if rejected  # type: ignore[arg-type]
               else pl.DataFrame(schema=REJECTED))
    return AdapterResult(frames={"tide_obs": accepted.select(list(TIDE_OBS))},
                         rejected=rejects.select(list(REJECTED)), items_read=items.height,
                         items_accepted=accepted.height)


def _classify_gesla(items: pl.DataFrame, null_value: float, offset_us: int) -> pl.DataFrame:
    """Add ts_utc, level, rule and detail (rule null = accepted) to GESLA observation lines."""
    fields = items.with_columns(
        pl.col("raw").str.extract_groups(_GESLA_FIELDS).alias("f")
    ).unnest("f")
    parsed = fields.with_columns(
        (pl.col("date") + " " + pl.col("time"))
        .str.strptime(pl.Datetime("us"), "%Y/%m/%d %H:%M:%S", strict=False)
        .alias("local"),
        pl.col("value").cast(pl.Float64, strict=False).alias("level"),
        pl.col("qc").cast(pl.Int64, strict=False).alias("qc_i"),
        pl.col("use").cast(pl.Int64, strict=False).alias("use_i"),
    ).with_columns(
        (pl.col("local") - pl.duration(microseconds=offset_us))
        .dt.replace_time_zone("UTC")
        .alias("ts_utc"),
    )
    rule = (
        pl.when(pl.col("date").is_null()).then(pl.lit("tide.format"))
        .when(pl.col("local").is_null()).then(pl.lit("tide.ts"))
        .when(pl.col("level").is_null() | ~pl.col("level").is_finite()).then(pl.lit("tide.value"))
        .when(~pl.col("qc_i").is_between(0, 5) | ~pl.col("use_i").is_between(0, 1)
              | pl.col("qc_i").is_null() | pl.col("use_i").is_null())
        .then(pl.lit("tide.flag_format"))
        .when((pl.col("level") - null_value).abs() <= _NULL_TOLERANCE)
        .then(pl.lit("tide.null_value"))
        .when(pl.col("use_i") == 0).then(pl.lit("tide.flagged"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    detail = (
        pl.when(pl.col("date").is_null())
        .then(pl.lit("line is not 'YYYY/MM/DD hh:mm:ss value qc_flag use_flag'"))
        .when(pl.col("local").is_null())
        .then(pl.format("date/time '{} {}' is not a valid date and time", "date", "time"))
        .when(pl.col("level").is_null() | ~pl.col("level").is_finite())
        .then(pl.format("value '{}' is not a finite number of metres", "value"))
        .when(~pl.col("qc_i").is_between(0, 5) | ~pl.col("use_i").is_between(0, 1)
              | pl.col("qc_i").is_null() | pl.col("use_i").is_null())
        .then(pl.format("qc_flag '{}' must be 0-5 and use_flag '{}' 0 or 1", "qc", "use"))
        .when((pl.col("level") - null_value).abs() <= _NULL_TOLERANCE)
        .then(pl.format("value '{}' is the file's NULL VALUE (missing observation)", "value"))
        .when(pl.col("use_i") == 0)
        .then(pl.format("use_flag 0 (qc_flag '{}'): GESLA marks the value not for use", "qc"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return parsed.with_columns(rule.alias("rule"), detail.alias("detail"))
