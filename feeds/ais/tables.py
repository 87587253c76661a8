"""Decoded AIS tables (MarineCadastre, DMA, any CSV through a mapping) → canonical frames.

Common contract of the readers here: every data row is one item; it is accepted when its
position passes the rules of `feeds.ais.rules`, otherwise rejected (`csv.bad_number`,
`time.missing`, `time.unparseable` or a position rule); DMA rows of non-ship stations are
skipped. The `line` of a rejected row is its 1-based line in the file (header = line 1; fields
with embedded line breaks would shift this, none of these formats uses them) and `raw` is the
row's fields joined by the separator, which is the input line for these unquoted formats.
Rows with too many fields lose the extra ones and rows with too few read the missing ones as
null (polars `truncate_ragged_lines`), so a short row is rejected by the rules, never raises.

Static data (name, IMO, call sign, type, dimensions, draught, destination, ETA) repeats on every
row of these tables; `ais_static` gets one row per MMSI and distinct combination of those
values, at the first time it was seen.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from feeds.ais.errors import AisFormatError
from feeds.ais.rules import ITEM, finish_positions, finish_static, rejected_rows
from feeds.schema import AIS_POSITION, AIS_STATIC, AdapterResult

MARINECADASTRE_COLUMNS = [
    "MMSI", "BaseDateTime", "LAT", "LON", "SOG", "COG", "Heading", "VesselName", "IMO",
    "CallSign", "VesselType", "Status", "Length", "Width", "Draft", "Cargo", "TransceiverClass",
]
DMA_COLUMNS = [
    "# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "Navigational status",
    "ROT", "SOG", "COG", "Heading", "IMO", "Callsign", "Name", "Ship type", "Cargo type",
    "Width", "Length", "Type of position fixing device", "Draught", "Destination", "ETA",
    "Data source type", "A", "B", "C", "D",
]

# DMA writes navigational status as English text (ITU-R M.1371 wording, DMA spelling).
DMA_NAV_STATUS = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted maneuverability": 3,
    "restricted manoeuvrability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use": 13,
    "ais-sart": 14,
}
# DMA ship types are text; each maps to the generic AIS code of its class (e.g. any cargo
# ship → 70), so the hazard-category digit is lost. Undefined / reserved / spare → null.
DMA_SHIP_TYPE = {
    "wig": 20, "fishing": 30, "towing": 31, "towing long/wide": 32, "dredging": 33,
    "diving": 34, "military": 35, "sailing": 36, "pleasure": 37, "hsc": 40, "pilot": 50,
    "sar": 51, "tug": 52, "port tender": 53, "anti-pollution": 54, "law enforcement": 55,
    "medical": 58, "not party to conflict": 59, "passenger": 60, "cargo": 70, "tanker": 80,
    "other": 90,
}
# Words DMA (and others) write instead of leaving a field empty.
UNKNOWN_WORDS = ["unknown", "undefined", "unknown value", "not available", "n/a", "nan", ""]

SPEED_FACTORS = {"kn": 1.0, "m/s": 3600.0 / 1852.0, "km/h": 1000.0 / 1852.0}


def _scan(path: Path, separator: str = ",") -> pl.LazyFrame:
    try:
        return pl.scan_csv(
            path, separator=separator, infer_schema=False, truncate_ragged_lines=True,
            encoding="utf8-lossy",
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise AisFormatError(f"{path}: cannot read as CSV: {exc}") from exc


def _header(lf: pl.LazyFrame, path: Path, needed: list[str]) -> list[str]:
    try:
        names = lf.collect_schema().names()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise AisFormatError(f"{path}: cannot read the CSV header: {exc}") from exc
    missing = [c for c in needed if c not in names]
    if missing:
        raise AisFormatError(f"{path}: CSV lacks the columns {missing} (has {names})")
    return names


def _unknown_null(col: str) -> pl.Expr:
    text = pl.col(col).str.strip_chars()
    return pl.when(text.str.to_lowercase().is_in(UNKNOWN_WORDS)).then(None).otherwise(text)


def _number(col: str) -> pl.Expr:
    return _unknown_null(col).cast(pl.Float64, strict=False)


def _bad_number(cols: Mapping[str, str]) -> pl.Expr:
    """A rule struct for the first column (canonical name → CSV name) whose text isn't a number."""
    checks = []
    for source in cols.values():
        text = _unknown_null(source)
        checks.append(
            pl.when(text.is_not_null() & text.cast(pl.Float64, strict=False).is_null()).then(
                pl.struct(
                    rule=pl.lit("csv.bad_number"),
                    detail=pl.concat_str(
                        pl.lit(f"{source}='"), pl.col(source), pl.lit("' is not a number")
                    ),
                )
            )
        )
    return pl.coalesce(checks)


def _time_rule(col: str, parsed: pl.Expr) -> pl.Expr:
    text = pl.col(col).str.strip_chars()
    return (
        pl.when(text.is_null() | (text == ""))
        .then(pl.struct(rule=pl.lit("time.missing"), detail=pl.lit(f"{col} is empty")))
        .when(parsed.is_null())
        .then(pl.struct(rule=pl.lit("time.unparseable"),
                        detail=pl.concat_str(pl.lit(f"{col}='"), text, pl.lit("' is not a time"))))
        .otherwise(None)
    )


@dataclass
class _Spec:
    """How one table format maps to the raw canonical columns.

    `numbers` maps canonical position columns to CSV columns read as plain numbers; `extras`
    computes other position columns; `skip` names the skip reason of a row (null = keep);
    `static_raw` maps canonical static columns to CSV columns (grouped as text) and
    `static_typed` turns those texts into typed values.
    """

    time_col: str
    ts: pl.Expr
    numbers: dict[str, str]
    extras: dict[str, pl.Expr] = field(default_factory=dict)
    skip: pl.Expr | None = None
    static_raw: dict[str, str] = field(default_factory=dict)
    static_typed: dict[str, pl.Expr] = field(default_factory=dict)


def _fast_number(col: str) -> pl.Expr:
    """A plain cast; text it cannot read (blanks around, "Unknown") makes the row suspect."""
    return pl.col(col).cast(pl.Float64, strict=False)


def _read_table(
    path: Path, lf: pl.LazyFrame, names: list[str], spec: _Spec, source: str, separator: str
) -> AdapterResult:
    """Run `spec` over the scanned table; see the module docstring for the contract.

    The whole table is touched by cheap casts only; the exact rule of a suspicious row (a
    number that does not parse, a time that does not parse) is worked out on those rows alone,
    and static data is grouped as raw text before it is typed.
    """
    suspect = pl.col("ts_utc").is_null()
    for src in spec.numbers.values():
        text = pl.col(src)
        suspect = suspect | (text.is_not_null() & (text != "") & _fast_number(src).is_null())
    skip = spec.skip if spec.skip is not None else pl.lit(None, pl.String)
    wide = _collect(
        lf.with_row_index(ITEM).with_columns(
            pl.col(ITEM).cast(pl.Int64),
            spec.ts.alias("ts_utc"),
            *[_fast_number(src).alias(dst) for dst, src in spec.numbers.items()],
            *[expr.alias(dst) for dst, expr in spec.extras.items()],
            skip.alias("_skip"),
        ).with_columns(suspect.alias("_suspect")),
        path,
    )
    position_cols = [c for c in AIS_POSITION if c != "source"]
    narrow = wide.select(ITEM, *position_cols, "_skip", "_suspect")
    skipped = narrow.filter(pl.col("_skip").is_not_null()).group_by("_skip").len().sort("_skip")
    kept = narrow.filter(pl.col("_skip").is_null())
    # Suspicious rows get their exact rule here; those that only held an "Unknown" word
    # where a number belongs go back to the main stream.
    rule = pl.coalesce(_time_rule(spec.time_col, pl.col("ts_utc")), _bad_number(spec.numbers))
    suspects = wide.filter(pl.col("_skip").is_null() & pl.col("_suspect")).with_columns(
        rule.alias("_pre")
    )
    pre = suspects.filter(pl.col("_pre").is_not_null()).select(
        ITEM, pl.col("_pre").struct.field("rule"), pl.col("_pre").struct.field("detail")
    )
    cleared = suspects.filter(pl.col("_pre").is_null()).with_columns(
        *[_number(src).alias(dst) for dst, src in spec.numbers.items()]
    ).select(ITEM, *position_cols)
    main = pl.concat([kept.filter(~pl.col("_suspect")).select(ITEM, *position_cols), cleared])
    positions, bad = finish_positions(main, source)
    positions = positions.sort(ITEM)
    rejected_items = pl.concat([pre[ITEM], bad[ITEM]])
    frames = {"ais_position": positions.drop(ITEM), "ais_static": pl.DataFrame(schema=AIS_STATIC)}
    if spec.static_raw:
        frames["ais_static"] = _static_rows(wide, positions, spec)
    raw = pl.concat_str([pl.col(c).fill_null("") for c in names], separator=separator)
    items = wide.filter(pl.col(ITEM).is_in(rejected_items.implode())).select(
        ITEM, (pl.col(ITEM) + 2).alias("line"), raw.alias("raw")
    )
    return AdapterResult(
        frames=frames,
        rejected=rejected_rows(items, [pre, bad], source),
        skipped=dict(skipped.iter_rows()),
        items_read=wide.height,
        items_accepted=positions.height,
    )


def _static_rows(wide: pl.DataFrame, positions: pl.DataFrame, spec: _Spec) -> pl.DataFrame:
    """One static row per MMSI and distinct static values, at the first time seen.

    Only rows whose position was accepted count. Grouping happens on the raw text (cheap,
    few distinct values per ship); typing and cleaning run on the groups only.
    """
    accepted = wide.select(ITEM, "ts_utc", "mmsi", *spec.static_raw.values()).join(
        positions.select(ITEM), on=ITEM, how="semi"
    )
    raw_cols = list(spec.static_raw.values())
    groups = accepted.group_by("mmsi", *raw_cols).agg(
        pl.col("ts_utc").min(), pl.col(ITEM).min()
    )
    typed = groups.select(
        ITEM, "ts_utc", "mmsi",
        *[expr.alias(dst) for dst, expr in spec.static_typed.items()],
    )
    for column in AIS_STATIC:
        if column not in typed.columns:
            typed = typed.with_columns(pl.lit(None, AIS_STATIC[column]).alias(column))
    clean = finish_static(typed.select(ITEM, *AIS_STATIC))
    values = [c for c in AIS_STATIC if c not in ("ts_utc", "mmsi")]
    informative = pl.any_horizontal(*[pl.col(c).is_not_null() for c in values])
    return (
        clean.filter(informative)
        .sort("ts_utc", ITEM)
        .unique(subset=["mmsi", *values], keep="first", maintain_order=True)
        .drop(ITEM)
    )


def read_marinecadastre(path: Path, source: str) -> AdapterResult:
    """NOAA MarineCadastre daily CSV (`AIS_YYYY_MM_DD.csv`, 17 columns) → positions + static.

    Quirks handled: BaseDateTime is naive and labelled UTC; Status, VesselType, Cargo may be
    written as floats (`0.0`); Status is blank for class B; IMO is `IMO9627980` (and
    `IMO0000000` means none); 0 or blank dimensions/draught are unknown.
    """
    lf = _scan(path)
    names = _header(lf, path, MARINECADASTRE_COLUMNS)
    ts = (
        pl.col("BaseDateTime").str.strip_chars()
        .str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
        .dt.replace_time_zone("UTC")
    )
    spec = _Spec(
        time_col="BaseDateTime",
        ts=ts,
        numbers={"mmsi": "MMSI", "lat": "LAT", "lon": "LON", "sog_kn": "SOG", "cog_deg": "COG",
                 "heading_deg": "Heading", "nav_status": "Status"},
        static_raw={"name": "VesselName", "imo": "IMO", "callsign": "CallSign",
                    "ship_type": "VesselType", "length_m": "Length", "beam_m": "Width",
                    "draught_m": "Draft"},
        static_typed={
            "name": pl.col("VesselName"),
            "imo": _unknown_null("IMO").str.strip_prefix("IMO").cast(pl.Int64, strict=False),
            "callsign": pl.col("CallSign"),
            "ship_type": _number("VesselType"),
            "length_m": _number("Length"),
            "beam_m": _number("Width"),
            "draught_m": _number("Draft"),
        },
    )
    return _read_table(path, lf, names, spec, source, ",")


def read_dma(path: Path, source: str) -> AdapterResult:
    """Danish Maritime Authority CSV (`aisdk-YYYY-MM-DD.csv`, 26 columns) → positions + static.

    Quirks handled: the first header is literally `# Timestamp`; dates are day-first
    `dd/mm/yyyy HH:MM:SS` (UTC); navigational status and ship type are English text mapped to
    AIS codes (`DMA_NAV_STATUS`, `DMA_SHIP_TYPE`; unmapped text → null); `Unknown`,
    `Undefined`, `Unknown value` → null. Rows whose `Type of mobile` is not `Class A` or
    `Class B` (base stations, AtoN, SAR aircraft) are skipped as `mobile <type>`.
    """
    lf = _scan(path)
    names = _header(lf, path, DMA_COLUMNS)
    ts = (
        pl.col("# Timestamp").str.strip_chars()
        .str.to_datetime("%d/%m/%Y %H:%M:%S", time_unit="us", strict=False)
        .dt.replace_time_zone("UTC")
    )
    eta = (
        _unknown_null("ETA").str.to_datetime("%d/%m/%Y %H:%M:%S", time_unit="us", strict=False)
        .dt.replace_time_zone("UTC")
    )
    mobile = pl.col("Type of mobile").str.strip_chars()
    status_text = pl.col("Navigational status").str.strip_chars().str.to_lowercase()
    ship_text = pl.col("Ship type").str.strip_chars().str.to_lowercase()
    spec = _Spec(
        time_col="# Timestamp",
        ts=ts,
        numbers={"mmsi": "MMSI", "lat": "Latitude", "lon": "Longitude", "sog_kn": "SOG",
                 "cog_deg": "COG", "heading_deg": "Heading"},
        extras={
            "nav_status": status_text.replace_strict(DMA_NAV_STATUS, default=None,
                                                     return_dtype=pl.Int64),
        },
        skip=pl.when(mobile.is_in(["Class A", "Class B"])).then(None)
        .otherwise(pl.concat_str(pl.lit("mobile "), mobile.fill_null("(blank)"))),
        static_raw={"name": "Name", "imo": "IMO", "callsign": "Callsign",
                    "ship_type": "Ship type", "length_m": "Length", "beam_m": "Width",
                    "draught_m": "Draught", "destination": "Destination", "eta_utc": "ETA"},
        static_typed={
            "name": _unknown_null("Name"),
            "imo": _number("IMO"),
            "callsign": _unknown_null("Callsign"),
            "ship_type": ship_text.replace_strict(DMA_SHIP_TYPE, default=None,
                                                  return_dtype=pl.Int64),
            "length_m": _number("Length"),
            "beam_m": _number("Width"),
            "draught_m": _number("Draught"),
            "destination": _unknown_null("Destination"),
            "eta_utc": eta,
        },
    )
    return _read_table(path, lf, names, spec, source, ",")


def _collect(frame: pl.LazyFrame, path: Path) -> pl.DataFrame:
    try:
        return frame.collect()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise AisFormatError(f"{path}: cannot read as CSV: {exc}") from exc


@dataclass(frozen=True)
class CsvMapping:
    """A column mapping for any decoded AIS CSV (format: docs/formats/ais_csv_mapping.md)."""

    columns: dict[str, str]  # canonical role → CSV column: time, mmsi, lat, lon, speed, course,
    # and optionally heading, status
    time_format: str  # chrono strftime, or "unix_s" / "unix_ms" / "iso8601"
    timezone: str  # zone of naive times
    speed_unit: str  # kn | m/s | km/h
    course_unit: str  # deg
    separator: str

    REQUIRED = ("time", "mmsi", "lat", "lon", "speed", "course")
    OPTIONAL = ("heading", "status")

    @classmethod
    def load(cls, path: str | Path) -> CsvMapping:
        """Read and validate a mapping TOML file; raises `AisFormatError` naming the problem."""
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise AisFormatError(f"{path}: cannot read the mapping file: {exc}") from exc
        columns = doc.get("columns")
        if not isinstance(columns, dict):
            raise AisFormatError(f"{path}: mapping needs a [columns] table")
        missing = [k for k in cls.REQUIRED if not isinstance(columns.get(k), str)]
        if missing:
            raise AisFormatError(f"{path}: [columns] lacks {missing}")
        unknown = [k for k in columns if k not in cls.REQUIRED + cls.OPTIONAL]
        if unknown:
            raise AisFormatError(f"{path}: [columns] has unknown keys {unknown}")
        time = doc.get("time", {})
        units = doc.get("units", {})
        csv = doc.get("csv", {})
        speed = units.get("speed", "kn")
        course = units.get("course", "deg")
        if speed not in SPEED_FACTORS:
            raise AisFormatError(f"{path}: units.speed {speed!r} not one of {list(SPEED_FACTORS)}")
        if course != "deg":
            raise AisFormatError(f"{path}: units.course {course!r} must be 'deg'")
        if "format" not in time:
            raise AisFormatError(f"{path}: mapping needs [time] format")
        return cls(
            columns={k: str(v) for k, v in columns.items()},
            time_format=str(time["format"]),
            timezone=str(time.get("timezone", "UTC")),
            speed_unit=speed,
            course_unit=course,
            separator=str(csv.get("separator", ",")),
        )

    def parse_time(self, col: str) -> pl.Expr:
        """The expression turning column `col` into UTC datetimes (null when unparseable)."""
        text = pl.col(col).str.strip_chars()
        if self.time_format in ("unix_s", "unix_ms"):
            scale = 1_000_000 if self.time_format == "unix_s" else 1_000
            number = text.cast(pl.Float64, strict=False) * scale
            return number.round(0).cast(pl.Int64, strict=False).cast(pl.Datetime("us", "UTC"))
        if self.time_format == "iso8601":
            parsed = text.str.to_datetime(time_unit="us", strict=False, time_zone="UTC")
            return parsed
        parsed = text.str.to_datetime(self.time_format, time_unit="us", strict=False)
        if "%z" in self.time_format or "%Z" in self.time_format:
            return parsed.dt.convert_time_zone("UTC")
        return parsed.dt.replace_time_zone(self.timezone, ambiguous="null",
                                           non_existent="null").dt.convert_time_zone("UTC")


def read_mapped_csv(path: Path, mapping_path: str | Path, source: str) -> AdapterResult:
    """Any decoded AIS CSV, its columns named by a mapping TOML file → positions only."""
    mapping = CsvMapping.load(mapping_path)
    lf = _scan(path, mapping.separator)
    cols = mapping.columns
    names = _header(lf, path, list(cols.values()))
    numbers = {"mmsi": cols["mmsi"], "lat": cols["lat"], "lon": cols["lon"],
               "cog_deg": cols["course"], "_speed": cols["speed"]}
    if "heading" in cols:
        numbers["heading_deg"] = cols["heading"]
    if "status" in cols:
        numbers["nav_status"] = cols["status"]
    extras = {"sog_kn": _number(cols["speed"]) * SPEED_FACTORS[mapping.speed_unit]}
    for absent in ("heading_deg", "nav_status"):
        if absent not in numbers:
            extras[absent] = pl.lit(None, pl.Float64)
    spec = _Spec(time_col=cols["time"], ts=mapping.parse_time(cols["time"]), numbers=numbers,
                 extras=extras)
    return _read_table(path, lf, names, spec, source, mapping.separator)
