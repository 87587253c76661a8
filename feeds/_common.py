"""Helpers shared by the line-oriented feed adapters (gate, customs, tide).

The adapters read a whole file as bytes, split it on ``\\n`` (so line numbers match `sed -n` and
editors), decode each line on its own (one bad byte rejects one line, not the file) and collect
rejected rows with the rule they broke. A file that is not text at all, or whose header does not
name a known format, raises `FeedReadError`: the caller cannot ingest it and says so.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from feeds.schema import REJECTED, AdapterResult

# How much of a file is looked at to decide "this is not text".
_SNIFF_BYTES = 8192
# Control characters other than tab, CR, LF and form feed: a few occur in dirty text, many mean
# binary.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_MAX_CONTROL_FRACTION = 0.10

# ISO 8601 calendar date and time, `T` or one space between; the offset is checked separately so a
# local time gets its own rule ("no offset") instead of a generic "unparseable".
_ISO_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


T = TypeVar("T")


class FeedReadError(Exception):
    """A feed file cannot be read at all (missing, binary, unknown format, unusable header).

    The message names the file and the reason; rows are never half-ingested on this error.
    """


class RowError(Exception):
    """One input item broke a rule; `rule` is the machine name, `detail` names field and value."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


@dataclass
class Line:
    """One physical line: 1-based number, decoded text (None if not UTF-8), raw text."""

    number: int
    text: str | None
    raw: str


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The bytes of `path` (at most `limit`), checked to look like text.

    Raises `FeedReadError` naming the file when it is missing, a directory, unreadable or binary.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
    except FileNotFoundError:
        raise FeedReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FeedReadError(f"{path}: is a directory, not a feed file") from None
    except OSError as exc:
        raise FeedReadError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    check_text(path, data[:_SNIFF_BYTES])
    return data


def read_lines(path: Path) -> list[Line]:
    """All lines of `path` (without their line ending), decoded one by one as UTF-8.

    A UTF-8 byte-order mark on the first line is dropped. A line that is not valid UTF-8 keeps
    `text=None` and a `raw` with the bad bytes escaped, so the caller can reject just that line.
    Raises `FeedReadError` if the file is missing, unreadable or looks binary.
    """
    data = read_bytes(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()  # the newline that ends the last line does not start another
    lines: list[Line] = []
    for number, chunk in enumerate(chunks, start=1):
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
        try:
            text: str | None = chunk.decode("utf-8")
            raw = text
        except UnicodeDecodeError:
            text = None
            raw = chunk.decode("utf-8", errors="backslashreplace")
        lines.append(Line(number, text, raw or ""))
    return lines


def head_lines(path: Path, nbytes: int = 65536) -> list[Line]:
    """The complete lines within the first `nbytes` of `path`, for sniffing a large file cheaply.

    Raises `FeedReadError` like `read_lines`.
    """
    data = read_bytes(path, nbytes + 1)
    if len(data) > nbytes:
        data = data[: data.rfind(b"\n") + 1] if b"\n" in data[:nbytes] else data[:nbytes]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for number, chunk in enumerate(data.split(b"\n"), start=1):
        text = chunk.rstrip(b"\r").decode("utf-8", errors="replace")
        lines.append(Line(number, text, text))
    return lines


def check_text(path: Path, sample: bytes) -> None:
    """Raise `FeedReadError` if `sample` (the start of `path`) does not look like text.

    Text here means: no NUL byte and at most 10 % other control characters. Invalid UTF-8 is
    not refused here: a stray Latin-1 byte costs its own line (rule `*.encoding`), not the file.
    """
    if not sample:
        return
    if b"\x00" in sample:
        raise FeedReadError(f"{path}: binary data (NUL bytes), not a text feed file")
    control = sum(sample.count(bytes([b])) for b in _CONTROL)
    if control / len(sample) > _MAX_CONTROL_FRACTION:
        raise FeedReadError(f"{path}: binary data ({control} control bytes in the first "
                            f"{len(sample)}), not a text feed file")


def progress_iter(items: Iterable[T], path: Path, enabled: bool, total: int) -> Iterable[T]:
    """`items`, wrapped in a tqdm bar on stderr when `enabled` (tqdm is imported only then)."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=path.name, unit="line", total=total, file=sys.stderr,
                mininterval=0.5, leave=False)


@dataclass
class Rejects:
    """Collects rejected rows for one source file, in the `REJECTED` schema."""

    source_file: str
    lines: list[int] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)

    def add(self, line: int, rule: str, detail: str, raw: str) -> None:
        self.lines.append(line)
        self.rules.append(rule)
        self.details.append(detail)
        self.raws.append(raw)

    def __len__(self) -> int:
        return len(self.lines)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "source_file": [self.source_file] * len(self.lines),
                "line": self.lines,
                "rule": self.rules,
                "detail": self.details,
                "raw": self.raws,
            },
            schema=REJECTED,
        )


def parse_ts_utc(value: Any, field_name: str, prefix: str) -> datetime:
    """An ISO 8601 timestamp with an explicit offset (`Z`, `+08:00`, `+0800`, `+08`) as aware UTC.

    Raises `RowError` "<prefix>.ts_no_offset" for a local time without offset (never guessed) and
    "<prefix>.ts" for anything else that is not such a timestamp.
    """
    if not isinstance(value, str):
        raise RowError(f"{prefix}.ts", f"{field_name} must be an ISO 8601 string, got {value!r}")
    text = value.strip()
    match = _ISO_TS.match(text)
    if match is None:
        raise RowError(f"{prefix}.ts", f"{field_name} {value!r} is not an ISO 8601 date-time")
    if match.group(3) is None:
        raise RowError(
            f"{prefix}.ts_no_offset",
            f"{field_name} {value!r} has no UTC offset; local times are not guessed "
            "(add Z or +08:00)",
        )
    try:
        return datetime.fromisoformat(text.replace(",", ".")).astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: an offset that pushes year 1 or 9999 out of range.
        raise RowError(f"{prefix}.ts", f"{field_name} {value!r} is not a valid date-time") from None


def enum_value(value: Any, allowed: list[str], field_name: str, rule: str) -> str:
    """`value` as one of `allowed` (case-insensitive, blanks around ignored; returned lowercase).

    Raises `RowError(rule, ...)` naming the field, the value and the allowed values.
    """
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in allowed:
        raise RowError(rule, f"{field_name} {value!r} is not one of {', '.join(allowed)}")
    return text


def required_text(value: Any, field_name: str, rule: str, max_len: int = 64) -> str:
    """A non-empty identifier without inner whitespace, at most `max_len` characters."""
    if value is not None and not isinstance(value, str):
        raise RowError(rule, f"{field_name} must be a string, got {value!r}")
    if value is None or not value.strip():
        raise RowError(rule, f"{field_name} is required, got {value!r}")
    text = value.strip()
    if len(text) > max_len or any(ch.isspace() for ch in text) or not text.isprintable():
        raise RowError(rule, f"{field_name} {value!r} must be printable, without blanks, "
                             f"at most {max_len} characters")
    return text


def is_blank(value: Any) -> bool:
    """True for null and for a string of blanks (the CSV spelling of null)."""
    return value is None or (isinstance(value, str) and not value.strip())


def utc_series(name: str, values: list[datetime]) -> pl.Series:
    """Aware UTC datetimes as a `Datetime("us", "UTC")` series."""
    return pl.Series(name, values, dtype=pl.Datetime("us", "UTC"))


def csv_header(lines: list[Line], path: Path, required: list[str]) -> tuple[int, list[str]]:
    """Index in `lines` and column names of the CSV header (the first non-blank line).

    Raises `FeedReadError` if the header is missing or lacks a required column.
    """
    for index, line in enumerate(lines):
        if line.text is None:
            raise FeedReadError(f"{path}: line {line.number}: header is not UTF-8 text")
        if line.text.strip():
            names = [name.strip().lower() for name in next(csv.reader([line.text]))]
            missing = [name for name in required if name not in names]
            if missing:
                raise FeedReadError(
                    f"{path}: line {line.number}: CSV header lacks required column(s) "
                    f"{', '.join(missing)} (found {', '.join(names) or 'nothing'})"
                )
            return index, names
    raise FeedReadError(f"{path}: empty file, no CSV header")


def csv_records(
    lines: list[Line], start: int, names: list[str], prefix: str
) -> Iterator[tuple[Line, dict[str, Any] | RowError]]:
    """Data records after the header at `lines[start]`; blank lines are not records."""
    for line in lines[start + 1:]:
        if line.text is None:
            yield line, RowError(f"{prefix}.encoding", f"line is not valid UTF-8: {line.raw!r}")
            continue
        if not line.text.strip():
            continue
        try:
            values = next(csv.reader([line.text]))
        except csv.Error as exc:
            yield line, RowError(f"{prefix}.csv", f"unreadable CSV ({exc})")
            continue
        if len(values) != len(names):
            yield line, RowError(
                f"{prefix}.csv_fields",
                f"expected {len(names)} comma-separated fields, found {len(values)}",
            )
            continue
        yield line, dict(zip(names, values, strict=True))


def jsonl_records(
    lines: list[Line], prefix: str
) -> Iterator[tuple[Line, dict[str, Any] | RowError]]:
    """One JSON object per non-blank line; keys are matched case-insensitively (lowercased)."""
    for line in lines:
        if line.text is None:
            yield line, RowError(f"{prefix}.encoding", f"line is not valid UTF-8: {line.raw!r}")
            continue
        if not line.text.strip():
            continue
        try:
            value = json.loads(line.text)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield line, RowError(f"{prefix}.json", f"not a JSON object ({exc})")
            continue
        if not isinstance(value, dict):
            yield line, RowError(f"{prefix}.json",
                                 f"expected a JSON object, got {type(value).__name__}")
            continue
        yield line, {str(key).lower(): item for key, item in value.items()}


def count_items(lines: list[Line], header_index: int | None) -> int:
    """Items in a CSV (after the header at `header_index`) or JSON-lines file: non-blank lines."""
    body = lines if header_index is None else lines[header_index + 1:]
    return sum(1 for line in body if line.text is None or line.text.strip())


def first_text_line(lines: list[Line]) -> str | None:
    """The first non-blank decodable line, stripped, for format sniffing."""
    for line in lines:
        if line.text is not None and line.text.strip():
            return line.text.strip()
    return None


def sniff_csv_or_jsonl(lines: list[Line], path: Path, required: list[str]) -> str:
    """"jsonl" if the first item is a JSON object, "csv" if it is a header naming `required`.

    Raises `FeedReadError` when it is neither, naming what was found.
    """
    first = first_text_line(lines)
    if first is None:
        raise FeedReadError(f"{path}: empty file, nothing to ingest")
    if first.startswith("{"):
        return "jsonl"
    if "," in first:
        names = [name.strip().lower() for name in next(csv.reader([first]))]
        missing = [name for name in required if name not in names]
        if not missing:
            return "csv"
        if sum(name.isidentifier() for name in names) * 2 >= len(names):
            # Mostly identifier-like names: a CSV header, just not of this kind.
            raise FeedReadError(
                f"{path}: CSV header lacks required column(s) {', '.join(missing)} "
                f"(found {', '.join(names)})"
            )
    raise FeedReadError(
        f"{path}: unknown format: first line {first[:60]!r} is neither a JSON object nor a CSV "
        f"header with {', '.join(required)}"
    )


def read_records(
    path: Path,
    fmt: str,
    prefix: str,
    required: list[str],
    parse: Callable[[dict[str, Any]], dict[str, Any]],
    progress: bool = False,
) -> tuple[str, list[dict[str, Any]], Rejects, int]:
    """Read a CSV or JSON-lines record file and run `parse` on every record.

    `fmt` is "csv", "jsonl" or "auto" (sniffed). `required` are the field names a CSV header must
    carry and a JSON object must contain; `parse` turns one record into a canonical row or raises
    `RowError`. Returns (format used, accepted rows, rejects, items read) where items are the
    non-blank data lines, so that len(rows) + len(rejects) == items read.
    Raises `FeedReadError` for an unreadable file, an unknown format or a CSV header lacking
    columns.
    """
    lines = read_lines(path)
    if fmt == "auto":
        fmt = sniff_csv_or_jsonl(lines, path, required)
    records: Iterator[tuple[Line, dict[str, Any] | RowError]]
    if fmt == "csv":
        header_index, names = csv_header(lines, path, required)
        records = csv_records(lines, header_index, names, prefix)
        items_read = count_items(lines, header_index)
    elif fmt == "jsonl":
        records = jsonl_records(lines, prefix)
        items_read = count_items(lines, None)
    else:
        raise FeedReadError(f"{path}: format {fmt!r} is not one of csv, jsonl, auto")
    rows: list[dict[str, Any]] = []
    rejects = Rejects(str(path))
    for line, record in progress_iter(records, path, progress, items_read):
        if isinstance(record, RowError):
            rejects.add(line.number, record.rule, record.detail, line.raw)
            continue
        missing = [name for name in required if name not in record]
        try:
            if missing:
                raise RowError(f"{prefix}.missing_field", f"field(s) {', '.join(missing)} missing")
            rows.append(parse(record))
        except RowError as err:
            rejects.add(line.number, err.rule, err.detail, line.raw)
    return fmt, rows, rejects, items_read


def read_event_file(
    path: Path,
    fmt: str,
    prefix: str,
    kind: str,
    schema: dict[str, pl.DataType],
    required: list[str],
    parse: Callable[[dict[str, Any]], dict[str, Any]],
    progress: bool = False,
) -> AdapterResult:
    """`read_records` into one canonical frame `kind` with `schema` (its first column `ts_utc`).

    The shared body of the gate and customs adapters: rows parsed by `parse`, rejects kept with
    their rule and line. Raises `FeedReadError` as `read_records` does.
    """
    _fmt, rows, rejects, items_read = read_records(path, fmt, prefix, required, parse, progress)
    frame = pl.DataFrame(
        {
            "ts_utc": utc_series("ts_utc", [row["ts_utc"] for row in rows]),
            **{name: [row[name] for row in rows] for name in list(schema)[1:]},
        },
        schema=schema,
    )
    return AdapterResult(
        frames={kind: frame}, rejected=rejects.frame(), items_read=items_read, items_accepted=frame.height
    )

