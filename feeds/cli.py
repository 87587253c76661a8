"""`twin ingest`: read feed files into the history store (feeds.store).

    twin ingest FILE... --kind ais|gate|customs|tide [--format FMT] [--map MAPPING.toml]
                [--default-ts-utc TIMESTAMP] --out DIR [--json] [--quiet]

Every file is checked first (exists, is text, has a recognisable format); if any cannot be read,
nothing is written, the reasons go to stderr (and into the JSON report) and the exit code is 1.
Otherwise each file is parsed, its accepted rows appended to `DIR/<kind>/date=.../` and its
rejected rows to `DIR/rejected/<feed>/date=.../`, and the exit code is 0 even when rows were
rejected: rejected rows are data about the feed, not a failure of the command. A file that
fails mid-way after passing the check, or a store write that fails, is reported, the others are
still ingested, and the exit code is 1. Options that do not fit together (a format of another
kind, `--map` for a non-AIS kind, a naive `--default-ts-utc`, `--out` naming a file) exit 2.
Files of 1 MiB or more get a tqdm progress bar on stderr unless `--quiet`.

`--json` prints exactly one JSON object on stdout:
    {"kind", "out", "ok", "items_read", "accepted", "rejected", "skipped", "rows",
     "reasons": {rule: count}, "skipped_reasons": {reason: count},
     "files": [{"path", "format", "items_read", "accepted", "rejected", "skipped", "rows",
                "reasons", "skipped_reasons", "accounting_ok", "written", "error"}],
     "errors": [message, ...]}
where `accepted` counts input items (lines) that gave accepted rows, so
accepted + rejected + skipped == items_read, and `rows` counts stored rows per canonical kind.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feeds._common import FeedReadError, RowError, head_lines, parse_ts_utc
from feeds.schema import AdapterResult

KINDS = ("ais", "gate", "customs", "tide")
FORMATS: dict[str, tuple[str, ...]] = {
    "ais": ("auto", "nmea", "marinecadastre", "dma", "aisstream", "csv"),
    "gate": ("auto", "csv", "jsonl"),
    "customs": ("auto", "csv", "jsonl"),
    "tide": ("auto", "gesla", "csv"),
}
ALL_FORMATS = tuple(dict.fromkeys(fmt for formats in FORMATS.values() for fmt in formats))
# Files from this size up get a progress bar on stderr; smaller ones finish before it would draw.
PROGRESS_MIN_BYTES = 1 << 20


class IngestError(Exception):
    """A file (or the mapping) cannot be read at all; the message names it and says why."""


class UsageError(IngestError):
    """The options do not fit together (e.g. a format of another kind)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `twin ingest` options on `parser`."""
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="feed files to read")
    parser.add_argument("--kind", required=True, choices=KINDS, help="which feed the files hold")
    parser.add_argument(
        "--format", dest="fmt", default="auto", choices=ALL_FORMATS,
        help="input format (default: auto, sniffed per file); ais: nmea, marinecadastre, dma, "
             "aisstream, csv (with --map); gate/customs: csv, jsonl; tide: gesla, csv",
    )
    parser.add_argument("--map", type=Path, metavar="MAPPING.toml",
                        help="column mapping for AIS CSV files with other column names (ais only)")
    parser.add_argument(
        "--default-ts-utc", metavar="TIMESTAMP",
        help="ais only: ISO 8601 time with offset stamped on NMEA messages that carry no time "
             "of their own (otherwise they are rejected as time.missing)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="history store directory (created if missing)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON report on stdout instead of the text summary")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


@dataclass
class FileReport:
    """What happened to one input file."""

    path: Path
    fmt: str | None = None
    result: AdapterResult | None = None
    written: list[Path] = field(default_factory=list)
    error: str | None = None

    def as_json(self, out: Path) -> dict[str, Any]:
        result = self.result
        return {
            "path": str(self.path),
            "format": self.fmt,
            "items_read": result.items_read if result else 0,
            "accepted": result.items_accepted if result else 0,
            "rejected": result.rejected.height if result else 0,
            "skipped": result.items_skipped if result else 0,
            "rows": {kind: frame.height for kind, frame in result.frames.items()} if result else {},
            "reasons": result.reasons() if result else {},
            "skipped_reasons": dict(result.skipped) if result else {},
            "accounting_ok": result.accounting_holds() if result else None,
            "written": [str(path.relative_to(out)) for path in self.written],
            "error": self.error,
        }


def _sniff(kind: str, path: Path) -> str:
    """The format of `path` for `kind`; raises `IngestError` naming the file and the reason."""
    try:
        if kind == "gate":
            from feeds.gate import sniff_gate_format

            return sniff_gate_format(path)
        if kind == "customs":
            from feeds.customs import sniff_customs_format

            return sniff_customs_format(path)
        if kind == "tide":
            from feeds.tide_gauge import sniff_tide_format

            return sniff_tide_format(path)
        AisFormatError, sniff_ais_format = _ais_api()[:2]
        head_lines(path)  # the same "missing / directory / binary" messages as other kinds
        try:
            return str(sniff_ais_format(path))
        except AisFormatError as exc:
            raise IngestError(str(exc)) from exc
    except FeedReadError as exc:
        raise IngestError(str(exc)) from exc


def _check(kind: str, fmt: str, path: Path) -> str:
    """Check that `path` can be read as `kind`; returns the format to use (sniffed for auto).

    An explicit format is trusted (the adapter then rejects what does not fit it); the check only
    proves the file exists and is text.
    """
    if fmt == "auto":
        return _sniff(kind, path)
    try:
        head_lines(path)
    except FeedReadError as exc:
        raise IngestError(str(exc)) from exc
    return fmt


def _reader(
    kind: str, mapping: Path | None, default_ts_utc: datetime | None
) -> Callable[[Path, str, bool], AdapterResult]:
    """The adapter call for `kind`: (path, format, progress) → AdapterResult."""
    if kind == "gate":
        from feeds.gate import read_gate

        return lambda path, fmt, progress: read_gate(path, fmt, progress=progress)
    if kind == "customs":
        from feeds.customs import read_customs

        return lambda path, fmt, progress: read_customs(path, fmt, progress=progress)
    if kind == "tide":
        from feeds.tide_gauge import read_tide

        return lambda path, fmt, progress: read_tide(path, fmt, progress=progress)
    ais_format_error, _sniff_ais, read_ais = _ais_api()

    def read(path: Path, fmt: str, progress: bool) -> AdapterResult:
        try:
            result: AdapterResult = read_ais(
                path, fmt=fmt, mapping=mapping, default_ts_utc=default_ts_utc, progress=progress
            )
        except ais_format_error as exc:
            # AisFormatError messages already start with the file name.
            raise IngestError(str(exc)) from exc
        return result

    return read


def _ais_api() -> tuple[type[Exception], Callable[..., Any], Callable[..., Any]]:
    """(AisFormatError, sniff_ais_format, read_ais) from `feeds.ais`, imported only for AIS."""
    try:
        from feeds.ais import AisFormatError, read_ais, sniff_ais_format
    except ImportError as exc:
        raise IngestError(f"the AIS adapter (feeds.ais) is not available: {exc}") from exc
    return AisFormatError, sniff_ais_format, read_ais


def _read_one(
    reader: Callable[[Path, str, bool], AdapterResult], path: Path, fmt: str, progress: bool
) -> AdapterResult:
    try:
        return reader(path, fmt, progress)
    except FeedReadError as exc:
        raise IngestError(str(exc)) from exc
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:
        # The AIS adapter reports an unreadable file as AisFormatError (a ValueError or not);
        # a ValueError escaping any adapter means the file could not be turned into rows.
        raise IngestError(f"{path}: {exc}") from exc


def _check_mapping(kind: str, path: Path | None) -> None:
    """`--map` is for AIS only and must name a file; the AIS adapter validates its content."""
    if path is None:
        return
    if kind != "ais":
        raise UsageError(f"--map applies to --kind ais only, not {kind}")
    if not path.is_file():
        raise IngestError(f"{path}: mapping file not found")


def ingest(
    files: list[Path], kind: str, fmt: str, out: Path, mapping_path: Path | None = None,
    progress: bool = True, now_utc: datetime | None = None,
    default_ts_utc: datetime | None = None,
) -> tuple[list[FileReport], list[str]]:
    """Check, read and store `files`; returns per-file reports and the error messages.

    `now_utc` is the ingest time stamped on rejected rows (default: the wall clock, read here at
    the command boundary). `mapping_path` and `default_ts_utc` are passed to the AIS adapter.
    When any file fails the up-front check nothing is written. Raises `UsageError` for options
    that do not fit the kind, `IngestError` for a missing mapping file.
    """
    if fmt not in FORMATS[kind]:
        raise UsageError(
            f"--format {fmt} does not apply to --kind {kind} "
            f"(use one of {', '.join(FORMATS[kind])})"
        )
    _check_mapping(kind, mapping_path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if default_ts_utc is not None and kind != "ais":
        raise UsageError(f"--default-ts-utc applies to --kind ais only, not {kind}")
    stamp = now_utc or datetime.now(UTC)
    reports = [FileReport(path) for path in files]
    errors: list[str] = []
    for report in reports:
        try:
            report.fmt = _check(kind, fmt, report.path)
            if kind == "ais" and report.fmt == "csv" and mapping_path is None:
                raise IngestError(
                    f"{report.path}: an AIS CSV that is neither MarineCadastre nor DMA needs "
                    "--map MAPPING.toml naming its columns"
                )
        except IngestError as exc:
            report.error = str(exc)
            errors.append(str(exc))
    if errors:
        return reports, errors

    from feeds.store import write_frame, write_rejected

    reader = _reader(kind, mapping_path, default_ts_utc)
    for report in reports:
        try:
            big = report.path.stat().st_size >= PROGRESS_MIN_BYTES
            result = _read_one(reader, report.path, report.fmt or fmt, progress and big)
        except OSError as exc:
            report.error = f"{report.path}: cannot be read ({exc.strerror or exc})"
            errors.append(report.error)
            continue
        except IngestError as exc:
            report.error = str(exc)
            errors.append(str(exc))
            continue
        report.result = result
        try:
            for frame_kind, frame in result.frames.items():
                report.written += write_frame(out, frame_kind, frame)
            report.written += write_rejected(out, kind, result.rejected, stamp)
        except OSError as exc:
            # Parts already written stay (each is complete); the failure is reported.
            report.error = f"{out}: cannot write the history store ({exc.strerror or exc})"
            errors.append(report.error)
            break
    return reports, errors


def _summary(kind: str, out: Path, reports: list[FileReport], errors: list[str]) -> dict[str, Any]:
    files = [report.as_json(out) for report in reports]
    reasons: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    for item in files:
        reasons.update(item["reasons"])
        skipped.update(item["skipped_reasons"])
        rows.update(item["rows"])
    return {
        "kind": kind,
        "out": str(out),
        "ok": not errors,
        "items_read": sum(item["items_read"] for item in files),
        "accepted": sum(item["accepted"] for item in files),
        "rejected": sum(item["rejected"] for item in files),
        "skipped": sum(item["skipped"] for item in files),
        "rows": dict(sorted(rows.items())),
        "reasons": dict(sorted(reasons.items())),
        "skipped_reasons": dict(sorted(skipped.items())),
        "files": files,
        "errors": errors,
    }


def _print_text(summary: dict[str, Any]) -> None:
    for item in summary["files"]:
        if item["error"]:
            continue
        reasons = ", ".join(f"{rule} {count}" for rule, count in item["reasons"].items())
        print(
            f"{item['path']} ({item['format']}): {item['items_read']} read, "
            f"{item['accepted']} accepted, {item['rejected']} rejected"
            + (f" ({reasons})" if reasons else "")
            + f", {item['skipped']} skipped"
        )
    rows = ", ".join(f"{count} {kind}" for kind, count in summary["rows"].items()) or "no rows"
    print(
        f"total: {summary['items_read']} read, {summary['accepted']} accepted, "
        f"{summary['rejected']} rejected, {summary['skipped']} skipped; stored {rows} "
        f"in {summary['out']}"
    )


def _parse_default_ts(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_ts_utc(text, "--default-ts-utc", "cli")
    except RowError as exc:
        raise UsageError(exc.detail) from exc


def run(args: argparse.Namespace) -> int:
    """Run `twin ingest`; returns 0 when every file was read (rows may be rejected), 1 otherwise."""
    try:
        default_ts_utc = _parse_default_ts(args.default_ts_utc)
        reports, errors = ingest(
            args.files, args.kind, args.fmt, args.out, args.map, progress=not args.quiet,
            default_ts_utc=default_ts_utc,
        )
    except IngestError as exc:
        print(f"twin ingest: error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps(_summary(args.kind, args.out, [], [str(exc)]), ensure_ascii=False))
        return 2 if isinstance(exc, UsageError) else 1
    for message in errors:
        print(f"twin ingest: error: {message}", file=sys.stderr)
    summary = _summary(args.kind, args.out, reports, errors)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    elif any(report.result is not None for report in reports):
        _print_text(summary)
    else:
        print(f"twin ingest: nothing written to {args.out}", file=sys.stderr)
    return 1 if errors else 0
