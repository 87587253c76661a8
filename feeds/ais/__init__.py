"""AIS adapters: NMEA 0183, MarineCadastre CSV, DMA CSV, aisstream.io JSON, mapped CSV.

Every reader returns an `AdapterResult` with two frames, `ais_position` and `ais_static`, in the
canonical schemas of `feeds.schema`, the rejected items with the rule they broke, and the
skipped items counted by reason. Accounting invariant, per result:
`items_accepted + rejected.height + sum(skipped.values()) == items_read`, where an item is one
non-blank, non-comment input line (NMEA, JSON) or one data row (CSV).

Column `source` of `ais_position` is the file name for files and the `source` argument for
streams. Formats and their quirks: docs/formats/ais.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from feeds.ais.aisstream import parse_aisstream_lines
from feeds.ais.errors import AisFormatError
from feeds.ais.nmea import NmeaDecoder, merge_results, parse_lines
from feeds.ais.tables import CsvMapping, read_dma, read_mapped_csv, read_marinecadastre
from feeds.schema import AdapterResult

FORMATS = ("nmea", "marinecadastre", "dma", "aisstream", "csv")
# Bytes per decoder batch when reading NMEA files (about 400 000 sentences): bounds memory
# and paces the progress bar.
NMEA_BATCH_BYTES = 32 * 1024 * 1024
SNIFF_BYTES = 64 * 1024

__all__ = [
    "FORMATS",
    "AisFormatError",
    "CsvMapping",
    "NmeaDecoder",
    "parse_aisstream_lines",
    "parse_nmea_lines",
    "read_ais",
    "sniff_ais_format",
]


def parse_nmea_lines(
    lines: Iterable[str],
    source: str = "<stream>",
    default_ts_utc: datetime | None = None,
    first_line_no: int = 1,
) -> AdapterResult:
    """Decode a finite batch of raw NMEA lines (the live engine's entry point).

    `lines` may carry their line terminators. `default_ts_utc` (timezone-aware) stamps
    messages whose lines carry no time (tag block `c:`, USCG trailing time, `$PGHP`); without
    it such messages are rejected as `time.missing`. `first_line_no` is the 1-based line number
    of the first line, for the `line` of rejected rows. Multi-sentence messages must be whole
    inside the batch; to stream across batches use `NmeaDecoder.feed` / `flush`. Never raises
    on bad input; raises `ValueError` for a naive `default_ts_utc`.
    """
    return parse_lines(lines, source, default_ts_utc, first_line_no)


def _open_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AisFormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return data.decode("utf-8", errors="replace")


def _head(path: Path) -> list[str]:
    try:
        with path.open("rb") as fh:
            chunk = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise AisFormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in chunk:
        raise AisFormatError(f"{path}: binary content, not an AIS text format")
    lines = chunk.decode("utf-8", errors="replace").splitlines()
    return lines[:-1] if len(chunk) == SNIFF_BYTES and len(lines) > 1 else lines


def sniff_ais_format(path: str | Path) -> str:
    """Guess the AIS format of a file from its first 64 KiB.

    Returns one of `FORMATS`: "dma" (header `# Timestamp,...`), "marinecadastre" (header
    `MMSI,BaseDateTime,...`), "aisstream" (a JSON object per line), "nmea" (AIVDM/AIVDO
    sentences, possibly with tag blocks, `$PGHP` lines and `#` comments), "csv" (any other
    delimited header, to be read with a mapping). Raises `AisFormatError` naming the file
    when it cannot be read or matches none of these.
    """
    path = Path(path)
    lines = [line.strip() for line in _head(path)]
    lines = [line for line in lines if line]
    if not lines:
        raise AisFormatError(f"{path}: empty file, cannot tell its AIS format")
    first = lines[0].lstrip("\ufeff")
    if first.startswith("# Timestamp"):
        return "dma"
    if first.replace('"', "").upper().startswith("MMSI,BASEDATETIME"):
        return "marinecadastre"
    if first.startswith("{"):
        return "aisstream"
    sample = [line for line in lines if not line.startswith("#")][:50]
    if any((("VDM," in line or "VDO," in line) and "!" in line) or line.startswith("$PGHP")
           for line in sample):
        return "nmea"
    for sep in (",", ";", "\t", "|"):
        if first.count(sep) >= 3 and not first.startswith(("!", "$", "\\")):
            return "csv"
    raise AisFormatError(f"{path}: not a known AIS format (first line {first[:80]!r})")


def _lines(text: str) -> pl.Series:
    """`text` split on "\n" by polars (no Python string per line)."""
    return pl.Series("raw", [text]).str.split("\n").explode()


def _line_batches(path: Path, chunk_bytes: int) -> Iterator[tuple[pl.Series, int]]:
    """The file's lines in batches cut at line ends, with the bytes each batch consumed.

    Lines are split on "\n" only (not str.splitlines), so numbers match `wc -l` and editors
    even when a garbled line holds form feeds or other Unicode line breaks. Undecodable bytes
    become U+FFFD, which then makes their line malformed or fail its checksum.
    """
    try:
        with path.open("rb") as fh:
            rest = b""
            while block := fh.read(chunk_bytes):
                block = rest + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    rest = block
                    continue
                rest = block[cut + 1 :]
                yield _lines(block[:cut].decode("utf-8", errors="replace")), cut + 1
            if rest:
                yield _lines(rest.decode("utf-8", errors="replace")), len(rest)
    except OSError as exc:
        raise AisFormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _read_nmea(
    path: Path, default_ts_utc: datetime | None, progress: bool
) -> AdapterResult:
    decoder = NmeaDecoder(path.name, default_ts_utc)
    results: list[AdapterResult] = []
    bar = _progress(path.stat().st_size, path.name) if progress else None
    next_line = 1
    for lines, consumed in _line_batches(path, NMEA_BATCH_BYTES):
        results.append(decoder.feed(lines, first_line_no=next_line))
        next_line += len(lines)
        if bar is not None:
            bar.update(consumed)
    results.append(decoder.flush())
    if bar is not None:
        bar.close()
    return merge_results(results)


def _progress(total: int, name: str) -> Any:
    from tqdm import tqdm  # imported here: only progress bars need it

    return tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024)


def read_ais(
    path: str | Path,
    fmt: str = "auto",
    mapping: str | Path | None = None,
    default_ts_utc: datetime | None = None,
    progress: bool = False,
) -> AdapterResult:
    """Read one AIS file into canonical frames.

    `fmt` is "auto" (see `sniff_ais_format`) or one of `FORMATS`; "csv" needs `mapping`, a
    TOML column-mapping file (docs/formats/ais_csv_mapping.md). `default_ts_utc` stamps NMEA
    messages without their own time (other formats carry time in every row). `progress`
    shows a tqdm bar for NMEA files. Raises `AisFormatError` when the file cannot be read or
    has the wrong shape for its format; bad rows are rejected, never raised.
    """
    path = Path(path)
    if fmt == "auto":
        fmt = sniff_ais_format(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown AIS format {fmt!r}; expected 'auto' or one of {FORMATS}")
    if not path.is_file():
        raise AisFormatError(f"{path}: no such file")
    if fmt == "nmea":
        return _read_nmea(path, default_ts_utc, progress)
    if fmt == "aisstream":
        text = _open_text(path)
        return parse_aisstream_lines(text.split("\n"), path.name)
    if fmt == "marinecadastre":
        return read_marinecadastre(path, path.name)
    if fmt == "dma":
        return read_dma(path, path.name)
    if mapping is None:
        raise AisFormatError(f"{path}: a generic AIS CSV needs a column mapping file (mapping=)")
    return read_mapped_csv(path, mapping, path.name)
