"""Rules shared by every AIS adapter: sentinels become null, impossible positions are rejected.

All adapters (NMEA, MarineCadastre, DMA, aisstream, mapped CSV) bring their rows to the same
"raw canonical" shape, scaled to the canonical units but with the AIS sentinels still in place,
and pass them through `finish_positions` / `finish_static`, so one place decides what unknown is.

Position rules (applied in this order, all vectorised in polars):
- `time.missing`: no timestamp could be found for the row.
- `position.mmsi`: MMSI missing or outside 1..999 999 999.
- `position.out_of_range`: |lat| > 90 or |lon| > 180, except the sentinels 91 / 181.
- `position.null_island`: lat == 0 and lon == 0 (a receiver without a fix).
Sentinels to null: lat 91, lon 181, SOG 102.3 (and < 0), COG >= 360 (3600 raw; also < 0),
heading >= 360 (511 raw; also < 0), nav status 15 "undefined" (and anything outside 0..14).

Static rules: IMO 0 → null; ship type outside 1..99 → null (gpsd treats > 99 as 0 = n/a);
length / beam / draught 0 (or negative) → null; text fields lose the AIS `@` padding and
surrounding blanks (as pyais does), and become null when empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from feeds.schema import AIS_POSITION, AIS_STATIC, REJECTED, UTC_US

# Columns a raw position frame carries besides the canonical ones: `_item` is the caller's
# index of the input item (line or row) the position came from.
ITEM = "_item"


def _fmt(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String).fill_null("null")


def finish_positions(raw: pl.DataFrame, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply the position rules to `raw` and split it into accepted and rejected rows.

    `raw` has `_item` (any integer), `ts_utc` (UTC datetime or null), `mmsi`, `lat`, `lon`
    (degrees), `sog_kn`, `cog_deg`, `heading_deg`, `nav_status` (any numeric types, sentinels
    still present). Returns `(accepted, rejected)`: `accepted` in `AIS_POSITION` plus `_item`
    first, with `source` set to `source`; `rejected` with `_item`, `rule`, `detail`.
    """
    lat, lon = pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64)
    lat_na, lon_na = lat == 91.0, lon == 181.0
    mmsi = pl.col("mmsi").cast(pl.Int64, strict=False)
    # Rule names over all rows (cheap literals); details only for the rows that broke one.
    rule = (
        pl.when(pl.col("ts_utc").is_null()).then(pl.lit("time.missing"))
        .when(mmsi.is_null() | (mmsi < 1) | (mmsi > 999_999_999)).then(pl.lit("position.mmsi"))
        .when(((lat.abs() > 90.0) & ~lat_na) | ((lon.abs() > 180.0) & ~lon_na))
        .then(pl.lit("position.out_of_range"))
        .when((lat == 0.0) & (lon == 0.0)).then(pl.lit("position.null_island"))
        .otherwise(None)
        .alias("_why")
    )
    checked = raw.with_columns(rule)
    why = pl.col("_why")
    detail = (
        pl.when(why == "time.missing").then(pl.lit("ts_utc is missing"))
        .when(why == "position.mmsi")
        .then(pl.concat_str(pl.lit("mmsi="), _fmt("mmsi"), pl.lit(" is not 1..999999999")))
        .when((why == "position.out_of_range") & (lat.abs() > 90.0) & ~lat_na)
        .then(pl.concat_str(pl.lit("lat="), _fmt("lat"), pl.lit(" outside [-90, 90]")))
        .when(why == "position.out_of_range")
        .then(pl.concat_str(pl.lit("lon="), _fmt("lon"), pl.lit(" outside [-180, 180]")))
        .otherwise(pl.lit("lat=0, lon=0 (no position fix)"))
    )
    rejected = checked.filter(why.is_not_null()).select(
        pl.col(ITEM), why.alias("rule"), detail.alias("detail")
    )
    sog = pl.col("sog_kn").cast(pl.Float64)
    cog = pl.col("cog_deg").cast(pl.Float64)
    heading = pl.col("heading_deg").cast(pl.Float64)
    status = pl.col("nav_status").cast(pl.Int64, strict=False)
    good = checked.filter(why.is_null()).select(
        pl.col(ITEM),
        pl.col("ts_utc").cast(UTC_US),
        mmsi.cast(pl.UInt32).alias("mmsi"),
        pl.when(lat_na).then(None).otherwise(lat).alias("lat"),
        pl.when(lon_na).then(None).otherwise(lon).alias("lon"),
        # 102.3 is "not available"; 102.2 means ">= 102.2" and stays.
        pl.when((sog >= 102.25) | (sog < 0)).then(None).otherwise(sog).alias("sog_kn"),
        pl.when((cog >= 360.0) | (cog < 0)).then(None).otherwise(cog).alias("cog_deg"),
        pl.when((heading >= 360.0) | (heading < 0)).then(None).otherwise(heading)
        .alias("heading_deg"),
        pl.when((status >= 0) & (status <= 14)).then(status).otherwise(None).alias("nav_status"),
        pl.lit(source).alias("source"),
    )
    good = good.select(
        pl.col(ITEM), *[pl.col(name).cast(dtype) for name, dtype in AIS_POSITION.items()]
    )
    return good, rejected


def _clean_text(name: str) -> pl.Expr:
    # As pyais: drop the trailing '@' padding, then surrounding blanks.
    text = pl.col(name).cast(pl.String).str.strip_chars_end("@").str.strip_chars()
    return pl.when(text.str.len_chars() == 0).then(None).otherwise(text).alias(name)


def _positive(name: str) -> pl.Expr:
    value = pl.col(name).cast(pl.Float64, strict=False)
    return pl.when(value > 0).then(value).otherwise(None).alias(name)


def finish_static(raw: pl.DataFrame) -> pl.DataFrame:
    """Null the sentinels of raw static rows and cast to `AIS_STATIC` (keeping `_item` first).

    `raw` has `_item` and every `AIS_STATIC` column, scaled (metres, UTC) but not yet cleaned.
    Rows without a time or MMSI are not expected here: the callers reject them before.
    """
    imo = pl.col("imo").cast(pl.Int64, strict=False)
    ship_type = pl.col("ship_type").cast(pl.Int64, strict=False)
    cleaned = raw.with_columns(
        pl.when((imo > 0) & (imo < 2**32)).then(imo).otherwise(None).alias("imo"),
        pl.when((ship_type >= 1) & (ship_type <= 99)).then(ship_type).otherwise(None)
        .alias("ship_type"),
        _clean_text("name"),
        _clean_text("callsign"),
        _clean_text("destination"),
        _positive("length_m"),
        _positive("beam_m"),
        _positive("draught_m"),
    )
    return cleaned.select(
        pl.col(ITEM), *[pl.col(name).cast(dtype) for name, dtype in AIS_STATIC.items()]
    )


def eta_after(
    month: int | None, day: int | None, hour: int | None, minute: int | None, after: datetime
) -> datetime | None:
    """Resolve a year-less AIS ETA to its next occurrence at or after `after` (UTC, aware).

    AIS not-available codes (month 0, day 0, hour 24, minute 60) or impossible values give None.
    A 29 February is looked for in the next four years; any other invalid date gives None.
    """
    if month is None or day is None or hour is None or minute is None:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and 0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    for year in range(after.year, after.year + 5):
        try:
            candidate = after.replace(
                year=year, month=month, day=day, hour=hour, minute=minute, second=0,
                microsecond=0,
            )
        except ValueError:
            continue
        if candidate >= after:
            return candidate
    return None


def rejected_rows(
    items: pl.DataFrame, reasons: Sequence[pl.DataFrame], source_file: str
) -> pl.DataFrame:
    """Build the `REJECTED` frame from rejection pieces.

    `items` has `_item`, `line` (1-based) and `raw`; each piece has `_item`, `rule`, `detail`.
    Rows are ordered by line.
    """
    pieces = [piece.select(pl.col(ITEM).cast(pl.Int64), "rule", "detail") for piece in reasons]
    if not pieces:
        return pl.DataFrame(schema=REJECTED)
    why = pl.concat(pieces)
    joined = why.join(items.select(pl.col(ITEM).cast(pl.Int64), "line", "raw"), on=ITEM)
    return joined.sort("line").select(
        pl.lit(source_file).alias("source_file"),
        pl.col("line").cast(pl.UInt64),
        pl.col("rule").cast(pl.String),
        pl.col("detail").cast(pl.String),
        pl.col("raw").cast(pl.String),
    )
